"""Reading a store's CSV export of events or orders, in constant memory: the bytes as stored
(gzip or not), their text encoding, the rows, what each column holds, and the timestamps.

What the contacts import does for encodings, delimiters and headers (surveys/imports.py) is
reused; what differs is that these files are large (the UCI retail file is 45 MB of text), so
nothing here holds a whole file: the encoding is decided in one pass over the bytes as they
are uploaded (UTF-8 only if every byte of the file is valid UTF-8; otherwise the Windows code
page that reads the first invalid stretch best), and rows are read from a stream.
"""

from __future__ import annotations

import codecs
import io
import re
import zlib
import zoneinfo
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import Any

from django.utils.translation import gettext as _

from journeys.models import EVENT_NAME
from surveys.imports import (
    CUSTOMER_KEY_HEADERS,
    EMAIL_HEADERS,
    FIRST_NAME_HEADERS,
    FULL_NAME_HEADERS,
    LANGUAGE_HEADERS,
    LAST_NAME_HEADERS,
    FatalImportError,
    decode,
    normal_header,
    rows,
    sniff_delimiter,
)

# The upload as sent (compressed, for a .gz) and the text inside it. A CSV of 2 million events
# is ~200 MB of text; gzip makes that ~30 MB.
MAX_UPLOAD_BYTES = 256 * 1024 * 1024
MAX_TEXT_BYTES = 2 * 1024 * 1024 * 1024
# The file waits in the database in pieces of this size (one row each).
CHUNK_BYTES = 1024 * 1024
# The start of the file's text that detection and the preview read: the header, a few
# hundred rows of a typical export.
HEAD_BYTES = 64 * 1024
# Decompressed output per zlib call: bounds memory whatever the compression ratio.
_INFLATE_STEP = 4 * 1024 * 1024

GZIP_MAGIC = b"\x1f\x8b"

# --- What a column can hold

SHAPES = ("events", "orders")
# Events file: one event per row.
EVENT_FIELDS = ("name", "customer_key", "occurred_at", "id", "session_id", "properties")
EVENT_REQUIRED = ("name", "customer_key", "occurred_at")
# Orders file: an order's id and customer, and optionally the customer's email, name (whole, or
# first and last) and language, which make the store's contact; every other mapped column is the
# time of an event, its target the event's name ("purchase", "shipped"...). A customer column,
# an email column or both: a row without a customer id counts for its email's keyed hash.
CONTACT_FIELDS = ("email", "customer_name", "first_name", "last_name", "language")
ORDER_FIELDS = ("order_id", "customer_key", *CONTACT_FIELDS)


def _aliases(*names: str) -> tuple[str, ...]:
    return tuple(normal_header(n) for n in names)


# "id" alone names the event in an events file and the order in an orders file (Shopify's
# order export calls the order "Id"), never the customer.
_CUSTOMER_HEADERS = tuple(a for a in CUSTOMER_KEY_HEADERS if a != "id") + _aliases(
    "customer", "client", "buyer", "user", "klientas", "pirkėjas", "klients", "pircējs",
    "klient", "ostja", "zákazník", "cumpărător",
)  # fmt: skip
NAME_HEADERS = _aliases(
    "event", "event name", "event_name", "name", "event type", "type", "action",
    "įvykis", "notikums", "sündmus", "událost", "eveniment",
)  # fmt: skip
TIME_HEADERS = _aliases(
    "occurred at", "occurred_at", "timestamp", "time", "datetime", "date time", "event time",
    "date", "created at", "when",
    "laikas", "data", "laiks", "datums", "aeg", "kuupäev", "čas", "datum",
)  # fmt: skip
EVENT_ID_HEADERS = _aliases(
    "id", "event id", "event_id", "idempotency id", "idempotency key", "message id", "uuid"
)
SESSION_HEADERS = _aliases("session", "session id", "session_id", "sesija", "seanss", "relace")
PROPERTIES_HEADERS = _aliases(
    "properties", "props", "attributes", "metadata", "params", "parameters", "payload"
)
ORDER_ID_HEADERS = _aliases(
    "order id", "order_id", "order number", "order no", "order nr", "order", "invoice no",
    "invoiceno", "invoice number", "invoice id", "invoice",
    "užsakymo nr", "užsakymo numeris", "pasūtījuma numurs", "pasūtījuma nr",
    "tellimuse number", "tellimuse nr", "číslo objednávky", "objednávka",
    "număr comandă", "numar comanda", "comanda",
    "id",
)  # fmt: skip
# The buyer's details in order exports: the contacts import's names, and the shops' own. "Name"
# alone is the order's name in Shopify's export (#1001), never the buyer's.
ORDER_EMAIL_HEADERS = EMAIL_HEADERS + _aliases(
    "customer email", "customer e-mail", "billing email", "billing email address",
    "contact email", "buyer email", "order email",
)  # fmt: skip
ORDER_NAME_HEADERS = tuple(a for a in FULL_NAME_HEADERS if a != "name") + _aliases(
    "billing name", "buyer name", "shipping name",
)  # fmt: skip
ORDER_FIRST_NAME_HEADERS = FIRST_NAME_HEADERS + _aliases(
    "billing first name", "customer first name", "shipping first name"
)
ORDER_LAST_NAME_HEADERS = LAST_NAME_HEADERS + _aliases(
    "billing last name", "customer last name", "shipping last name"
)
# The event each timestamp column of an orders file signals, and the headers that name it (the
# order in each list is the preference: Shopify's "Created at" is its orders/create).
ORDER_TIME_HEADERS: dict[str, tuple[str, ...]] = {
    "purchase": _aliases(
        "created at", "invoice date", "invoicedate", "order date", "ordered at", "order time",
        "purchase date", "purchased at", "paid at", "payment date", "date", "created",
        "užsakymo data", "pasūtījuma datums", "tellimuse kuupäev", "datum objednávky",
        "data comenzii",
    ),
    "shipped": _aliases(
        "shipped at", "shipped", "ship date", "shipped date", "shipping date", "fulfilled at",
        "fulfillment date", "dispatched at", "dispatch date",
        "išsiuntimo data", "nosūtīšanas datums", "saatmise kuupäev", "datum odeslání",
        "data expedierii",
    ),
    "out_for_delivery": _aliases("out for delivery", "out for delivery at"),
    "delivered": _aliases(
        "delivered at", "delivered", "delivery date", "delivered date",
        "pristatymo data", "piegādes datums", "kohaletoimetamise kuupäev", "datum doručení",
        "data livrării",
    ),
    "order_cancelled": _aliases(
        "cancelled at", "canceled at", "cancelled", "canceled", "cancellation date",
        "cancel date",
    ),
    "return_requested": _aliases(
        "return requested at", "returned at", "return date", "refunded at", "refund date"
    ),
}  # fmt: skip


def _find(normal: list[str], aliases: tuple[str, ...], taken: set[int]) -> int | None:
    for alias in aliases:  # the list's order is the preference
        for index, header in enumerate(normal):
            if header == alias and index not in taken:
                return index
    return None


def detect_mapping(header: list[str], shape: str) -> dict[int, str]:
    """Column index -> what it holds, from the header's names (the contacts import's aliases
    for customers, in the six languages)."""
    normal = [normal_header(h) for h in header]
    found: dict[int, str] = {}

    def take(target: str, *alias_lists: tuple[str, ...]) -> None:
        for aliases in alias_lists:
            index = _find(normal, aliases, set(found))
            if index is not None:
                found[index] = target
                return

    if shape == "orders":
        take("order_id", ORDER_ID_HEADERS)
        take("customer_key", _CUSTOMER_HEADERS)
        take("email", ORDER_EMAIL_HEADERS)
        # As the contacts import: first and last name when both are there, else the whole name.
        first = _find(normal, ORDER_FIRST_NAME_HEADERS, set(found))
        taken = set(found) if first is None else {*found, first}
        last = _find(normal, ORDER_LAST_NAME_HEADERS, taken)
        if first is not None and last is not None:
            found[first], found[last] = "first_name", "last_name"
        else:
            take("customer_name", ORDER_NAME_HEADERS)
            if "customer_name" not in found.values():
                if first is not None:
                    found[first] = "first_name"
                elif last is not None:
                    found[last] = "last_name"
        take("language", LANGUAGE_HEADERS)  # with "customer locale", Shopify's customer_locale
        for name, aliases in ORDER_TIME_HEADERS.items():
            take(name, aliases)
    else:
        take("name", NAME_HEADERS)
        take("occurred_at", TIME_HEADERS)
        take("customer_key", _CUSTOMER_HEADERS, EMAIL_HEADERS)
        take("id", EVENT_ID_HEADERS)
        take("session_id", SESSION_HEADERS)
        take("properties", PROPERTIES_HEADERS)
    return found


def mapping_from_names(header: list[str], names: dict[str, str]) -> dict[int, str]:
    """An explicit mapping given by header name (the API's `mapping`): column index -> target.
    A header is matched as written, else after normalising ("Invoice No" = "invoiceno")."""
    by_name: dict[str, int] = {}
    by_normal: dict[str, int] = {}
    for index, title in enumerate(header):
        by_name.setdefault(title.strip(), index)
        by_normal.setdefault(normal_header(title), index)
    mapping: dict[int, str] = {}
    for name, target in names.items():
        if not isinstance(target, str) or not target or target == "ignore":
            continue
        found = by_name.get(name.strip(), by_normal.get(normal_header(name)))
        if found is None:
            raise FatalImportError(
                _("The file has no column “%(column)s”.") % {"column": name[:80]}
            )
        mapping[found] = target
    return mapping


def mapping_check(*, shape: str, mapping: dict[int, str], header: list[str]) -> None:
    """Refuse a mapping the import cannot run with; the message says what to change."""
    for index in mapping:
        if not 0 <= index < len(header):
            raise FatalImportError(_("The mapping names a column the file does not have."))
    targets = list(mapping.values())
    for target in set(targets):
        if targets.count(target) > 1:
            raise FatalImportError(_("Only one column can be “%(target)s”.") % {"target": target})
    if shape == "events":
        unknown = sorted(set(targets) - set(EVENT_FIELDS))
        if unknown:
            raise FatalImportError(
                _("“%(target)s” is not a column of an events file; use %(fields)s.")
                % {"target": unknown[0], "fields": ", ".join(EVENT_FIELDS)}
            )
        missing = [f for f in EVENT_REQUIRED if f not in targets]
        if missing:
            raise FatalImportError(
                _(
                    "An events file needs a column for each of %(fields)s; none is chosen for "
                    "%(missing)s."
                )
                % {"fields": ", ".join(EVENT_REQUIRED), "missing": ", ".join(missing)}
            )
        return
    for target in targets:
        if target not in ORDER_FIELDS and not EVENT_NAME.match(target):
            raise FatalImportError(
                _(
                    "“%(target)s” is neither one of %(fields)s nor an event name (1 to 64 "
                    "letters, digits or _ . : -)."
                )
                % {"target": target[:80], "fields": ", ".join(ORDER_FIELDS)}
            )
    if "order_id" not in targets:
        raise FatalImportError(_("An orders file needs its order_id column."))
    if "customer_key" not in targets and "email" not in targets:
        raise FatalImportError(
            _(
                "An orders file needs its customer_key column, or an email column (an order "
                "without a customer id then counts for its email)."
            )
        )
    if not any(t not in ORDER_FIELDS for t in targets):
        raise FatalImportError(
            _(
                "Choose at least one column of dates and the event it records (e.g. the order "
                "date as purchase)."
            )
        )


def column_label(header: list[str], index: int) -> str:
    return header[index] if index < len(header) and header[index] else f"#{index + 1}"


def columns_named(header: list[str], mapping: dict[str, str]) -> dict[str, str]:
    """A stored mapping (column index as text -> target) by the file's headers, for people."""
    return {
        column_label(header, int(index)): target
        for index, target in sorted(mapping.items(), key=lambda item: int(item[0]))
    }


# --- Bytes: as stored, decompressed


def inflate(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """The text bytes of a gzip stream (several members, as `cat a.gz b.gz` makes, too)."""
    inflater = zlib.decompressobj(wbits=31)
    started = False
    try:
        for data in chunks:
            while data:
                started = True
                out = inflater.decompress(data, _INFLATE_STEP)
                if out:
                    yield out
                if inflater.unconsumed_tail:
                    data = inflater.unconsumed_tail
                elif inflater.eof:
                    data = inflater.unused_data
                    if data:
                        inflater = zlib.decompressobj(wbits=31)
                else:
                    data = b""
        tail = inflater.flush()
        if tail:
            yield tail
    except zlib.error as exc:
        raise FatalImportError(
            _("The .gz file is damaged and cannot be unpacked: %(error)s") % {"error": exc}
        ) from exc
    if started and not inflater.eof:
        raise FatalImportError(_("The .gz file ends early: upload it again, whole."))


class ByteStream(io.RawIOBase):
    """A readable stream over an iterator of byte strings, for io.TextIOWrapper."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks = iter(chunks)
        self._view = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not len(self._view):
            try:
                self._view = memoryview(next(self._chunks))
            except StopIteration:
                return 0
        size = min(len(buffer), len(self._view))
        buffer[:size] = self._view[:size]
        self._view = self._view[size:]
        return size


# --- The encoding, decided while the upload streams in


WORKBOOKS = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0")
BOMS = [
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
]
_WINDOW = 32 * 1024


@dataclass
class TextScan:
    """What one pass over a file's text bytes learns: its start, its size, and whether all of
    it is UTF-8 (if not, a stretch around the first byte that is not)."""

    head: bytearray = field(default_factory=bytearray)
    size: int = 0
    utf8: bool = True
    bad_stretch: bytes = b""
    _decoder: Any = field(default_factory=lambda: codecs.getincrementaldecoder("utf-8")())
    _previous: bytes = b""

    def feed(self, data: bytes) -> None:
        self.size += len(data)
        if self.size > MAX_TEXT_BYTES:
            raise FatalImportError(
                _("The file holds more than %(gb)s GB of text; split it into smaller files.")
                % {"gb": MAX_TEXT_BYTES // 1024**3}
            )
        if len(self.head) < HEAD_BYTES:
            self.head += data[: HEAD_BYTES - len(self.head)]
        if self.utf8:
            try:
                self._decoder.decode(data)
            except UnicodeDecodeError as exc:
                # The end of the previous piece too: the bad sequence may have started there.
                stretch = self._previous + data
                at = len(self._previous) + min(exc.start, len(data))
                self.utf8 = False
                self.bad_stretch = stretch[max(0, at - _WINDOW) : at + _WINDOW]
        self._previous = data[-4:]

    def finish(self) -> None:
        if self.utf8:
            try:
                self._decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                self.utf8 = False
                self.bad_stretch = self._previous


def encoding_choose(scan: TextScan, *, language: str) -> str:
    """The encoding to read the whole file with: a BOM's; UTF-16 without one; UTF-8 when every
    byte is; else the Windows code page that reads the first stretch that is not UTF-8 best
    (surveys.imports.decode scores them; the store's language breaks ties)."""
    head = bytes(scan.head)
    if not head:
        raise FatalImportError(_("The file is empty."))
    if head[:4] in WORKBOOKS:
        raise FatalImportError(
            _("This is a spreadsheet workbook, not a CSV file: save it as CSV and upload again.")
        )
    for bom, encoding in BOMS:
        if head.startswith(bom):
            return encoding
    sample = head[:4096]
    if sample.count(0) > len(sample) // 4:
        return "utf-16-le" if sample[1::2].count(0) > sample[0::2].count(0) else "utf-16-be"
    if b"\x00" in sample:
        raise FatalImportError(_("This is not a text file. Upload a CSV file."))
    if scan.utf8:
        return "utf-8"
    _text, page = decode(scan.bad_stretch, language=language)
    return page


def head_text(head: bytes, *, encoding: str, whole: bool) -> str:
    """The head's text; unless it is the whole file, without its last, maybe cut, line."""
    try:
        text = codecs.getincrementaldecoder(encoding)().decode(head, final=whole)
    except UnicodeDecodeError as exc:
        raise FatalImportError(
            _("The file could not be read as %(encoding)s: %(error)s")
            % {"encoding": encoding, "error": exc.reason}
        ) from exc
    if not whole and "\n" in text:
        text = text[: text.rindex("\n") + 1]
    return text


def text_rows(
    chunks: Iterable[bytes], *, encoding: str, delimiter: str
) -> Iterator[tuple[int, list[str]]]:
    """Rows of a file's text bytes, decoded as a stream (constant memory)."""
    text = io.TextIOWrapper(
        io.BufferedReader(ByteStream(chunks), 64 * 1024), encoding=encoding, newline=""
    )
    return rows(text, delimiter)


def header_of(cells: list[str]) -> list[str]:
    return [cell.strip().lstrip("\ufeff").strip() for cell in cells]


@dataclass
class Head:
    """The start of a file as detection and the preview read it."""

    encoding: str
    delimiter: str
    header: list[str]
    rows: list[list[str]]  # the data rows of the head (a few hundred in a typical export)


def head_read(head: bytes, *, encoding: str, whole: bool) -> Head:
    text = head_text(head, encoding=encoding, whole=whole)
    delimiter = sniff_delimiter(text)
    found = rows(io.StringIO(text, newline=""), delimiter)
    first = next(found, None)
    if first is None:
        raise FatalImportError(_("The file is empty."))
    header = header_of(first[1])
    sample = [cells for _line, cells in found]
    if not sample:
        raise FatalImportError(_("The file has no rows below its header."))
    return Head(encoding=encoding, delimiter=delimiter, header=header, rows=sample)


# --- Hints from the head's rows


_SLASHED = re.compile(r"\s*(\d{1,2})[/-](\d{1,2})[/-]\d{4}\b")


def day_first_guess(head: Head, mapping: dict[int, str]) -> bool:
    """Whether dates like 03/04/2026 put the day first: a first number over 12 says yes, a
    second over 12 says no; without either, yes (most of the stores' countries write it so)."""
    columns = [i for i, target in mapping.items() if target not in {*ORDER_FIELDS, *EVENT_FIELDS}]
    columns += [i for i, target in mapping.items() if target == "occurred_at"]
    for cells in head.rows:
        for index in columns:
            match = _SLASHED.match(cells[index]) if index < len(cells) else None
            if match:
                first, second = int(match.group(1)), int(match.group(2))
                if first > 12:
                    return True
                if second > 12:
                    return False
    return True


def cancelled_prefix_guess(head: Head, mapping: dict[int, str]) -> str:
    """ "C" when the order numbers are digits and some are C + digits: the UCI retail file's
    (and many ERPs') way to number a cancellation (C536379). Anything else: no guess."""
    index = next((i for i, target in mapping.items() if target == "order_id"), None)
    if index is None:
        return ""
    values = [cells[index].strip() for cells in head.rows if index < len(cells)]
    digits = sum(1 for v in values if v.isdigit())
    cancelled = sum(1 for v in values if v[:1] == "C" and v[1:].isdigit())
    return "C" if cancelled and digits * 2 >= len(values) else ""


# --- Timestamps


_MOMENT = re.compile(
    r"(?:(?P<ymd>(?P<y1>\d{4})[-/](?P<m1>\d{1,2})[-/](?P<d1>\d{1,2}))"
    r"|(?P<dmy>(?P<d2>\d{1,2})\.\s?(?P<m2>\d{1,2})\.\s?(?P<y2>\d{4}))"
    r"|(?P<slashed>(?P<a3>\d{1,2})[/-](?P<b3>\d{1,2})[/-](?P<y3>\d{4})))"
    r"(?:(?:T|\s+|,\s*)(?P<hour>\d{1,2}):(?P<minute>\d{2})"
    r"(?::(?P<second>\d{2})(?:[.,](?P<fraction>\d{1,9}))?)?"
    r"\s*(?P<half>[AaPp]\.?[Mm]\.?)?)?"
    r"\s*(?P<zone>Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)?"
)
_EPOCH = re.compile(r"(\d{10})(\d{3})?")
# Parsed values kept per run: exports repeat timestamps (an order's lines share one); the
# cache is emptied when full, so memory stays bounded.
_CACHE_SIZE = 50_000


class TimeError(ValueError):
    """A timestamp cell that cannot be read: the message says what forms are."""


class Moments:
    """Timestamps of one file: ISO 8601, 2026-03-01 14:05, 01.03.2026 14:05, 03/01/2026 2:05 PM
    (day or month first as chosen), or Unix seconds (or milliseconds). A time without an
    offset is in `zone`; every result is in UTC."""

    def __init__(self, *, zone: str, day_first: bool) -> None:
        self.zone: tzinfo = zoneinfo.ZoneInfo(zone)
        self.day_first = day_first
        self._cache: dict[str, datetime] = {}

    def parse(self, text: str) -> datetime:
        moment = self._cache.get(text)
        if moment is None:
            moment = self._parse(text)
            if len(self._cache) >= _CACHE_SIZE:
                self._cache.clear()
            self._cache[text] = moment
        return moment

    def _parse(self, text: str) -> datetime:
        value = text.strip()
        epoch = _EPOCH.fullmatch(value)
        if epoch:
            seconds = int(epoch.group(1)) + int(epoch.group(2) or 0) / 1000
            return datetime.fromtimestamp(seconds, tz=UTC)
        match = _MOMENT.fullmatch(value)
        if match is None:
            raise TimeError(
                _(
                    "“%(value)s” is not a date and time this import reads (e.g. 2026-03-01 "
                    "14:05, 01.03.2026 14:05, 03/01/2026 2:05 PM, 2026-03-01T14:05:00+02:00)."
                )
                % {"value": value[:80]}
            )
        part = match.group
        if part("ymd"):
            year, month, day = int(part("y1")), int(part("m1")), int(part("d1"))
        elif part("dmy"):
            year, month, day = int(part("y2")), int(part("m2")), int(part("d2"))
        else:
            first, second, year = int(part("a3")), int(part("b3")), int(part("y3"))
            day, month = (first, second) if self.day_first else (second, first)
        hour = int(part("hour") or 0)
        half = (part("half") or "").lower()[:1]
        if half:
            if not 1 <= hour <= 12:
                raise TimeError(
                    _("“%(value)s”: the hour of an AM/PM time is 1 to 12.") % {"value": value[:80]}
                )
            hour = hour % 12 + (12 if half == "p" else 0)
        fraction = (part("fraction") or "")[:6].ljust(6, "0")
        try:
            moment = datetime(
                year,
                month,
                day,
                hour,
                int(part("minute") or 0),
                int(part("second") or 0),
                int(fraction),
            )
        except ValueError:
            order = _("day/month/year") if self.day_first else _("month/day/year")
            raise TimeError(
                _("“%(value)s” is not a real date (read as %(order)s).")
                % {"value": value[:80], "order": order}
            ) from None
        zone = part("zone")
        if zone is None:
            return moment.replace(tzinfo=self.zone).astimezone(UTC)
        if zone in ("Z", "UTC", "GMT"):
            return moment.replace(tzinfo=UTC)
        sign = -1 if zone[0] == "-" else 1
        digits = zone[1:].replace(":", "")
        offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:] or 0))
        if offset >= timedelta(hours=24):
            raise TimeError(_("“%(value)s” has an impossible UTC offset.") % {"value": value[:80]})
        return moment.replace(tzinfo=timezone(sign * offset)).astimezone(UTC)
