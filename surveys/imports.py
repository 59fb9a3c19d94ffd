"""CSV uploads: a store's contact list, and a list of bounced or complained addresses.

Files come from spreadsheets and shop back-ends in the six survey languages, so the reader is
lenient about the form and strict about the data:
- encodings: UTF-8 with or without a BOM, UTF-16/32 with a BOM (Excel's "Unicode text"), and
  otherwise the Windows code page that reads the bytes best (1257 Baltic, 1250 Central
  European, 1252 Western; the store's language breaks ties);
- delimiters: comma, semicolon, tab or pipe (csv.Sniffer, then the header line's counts);
- headers: common names in the six languages ("E-mail", "el. paštas", "e-pasts", "E-posti
  aadress", "CustomerID", "Vardas" + "Pavardė", "Kalba"...), or an explicit mapping.

Every problem is reported by the row number as in the file (the header is row 1 when it is the
first line), the column and what is wrong. A row without a usable email is skipped; a row with
only a bad language or customer key is imported without that value. An import is one
transaction: a fatal problem (no email column, unreadable file, more than MAX_ROWS rows, more
than half of the rows invalid) imports nothing.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from email.utils import parseaddr
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, connection, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, pgettext_lazy

from accounts.models import Store
from accounts.services import Actor, audit_record
from core import numbers
from surveys import services
from surveys.models import SURVEY_LANGUAGES, Contact

MAX_ROWS = 100_000
# A 100,000-row file with long names and UTF-16 stays well below this.
MAX_FILE_BYTES = 64 * 1024 * 1024
# Errors listed in a report; `error_count` counts them all.
MAX_LISTED_ERRORS = 1000
# Contacts read, inserted or updated per query. One batch of 5,000 holds about 5,000 model
# instances or tuples of four short strings: ~5 MB of Python objects, ~1 MB of SQL parameters.
# The parsed file itself is held whole: ~0.5 KB per distinct address, 50 MB at MAX_ROWS.
BATCH_SIZE = 5000

FIELDS = ("email", "customer_key", "name", "language")
# What each field is called on the pages and in messages (never the raw key).
FIELD_LABELS = {
    "email": gettext_lazy("Email address"),
    "customer_key": gettext_lazy("Customer key"),
    "name": pgettext_lazy("name of a person", "Name"),
    "language": gettext_lazy("Language"),
}
CUSTOMER_KEY_MAX = 128
NAME_MAX = 160
EMAIL_MAX = 254


# --- Reports


@dataclass
class RowError:
    row: int  # the line the row starts on, counting from 1 like a text editor
    column: str  # the file's header for that column ("" for the row as a whole)
    value: str
    code: str  # missing_email, invalid_email, unknown_language, too_long
    message: str
    skipped: bool  # True: the row was not imported; False: imported without this value


@dataclass
class ImportReport:
    rows: int = 0  # data rows read (blank lines are not rows)
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    merged: int = 0  # rows folded into an earlier row with the same email
    skipped: int = 0  # rows not imported (no valid email)
    suppressed: int = 0  # bounce lists: contacts newly suppressed
    not_found: int = 0  # bounce lists: addresses that are not contacts of the store
    errors: list[RowError] = field(default_factory=list)
    error_count: int = 0
    fatal: str = ""  # set when nothing was imported
    encoding: str = ""
    delimiter: str = ""
    columns: dict[str, str] = field(default_factory=dict)  # file header -> field

    @property
    def ok(self) -> bool:
        return not self.fatal

    def add_error(self, error: RowError) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_LISTED_ERRORS:
            self.errors.append(error)

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ok": self.ok}


class FatalImportError(Exception):
    """The file cannot be imported at all; the message is shown to the user."""


# --- Decoding


# Letters that each Windows code page exists to write. Decoding a file with the wrong page
# turns them into rarer letters or symbols, so the page whose reading has the most of them
# wins.
HOME_LETTERS = {
    "cp1257": set("ąčęėįšųūžĄČĘĖĮŠŲŪŽāēģīķļņĀĒĢĪĶĻŅõäöüÕÄÖÜ"),
    "cp1250": set("ěščřžýáíéúůťďňĚŠČŘŽÝÁÍÉÚŮŤĎŇăâîşţĂÂÎŞŢłśźżćńóąęŁŚŹŻĆŃÓ"),
    "cp1252": set("éèêëàâäçîïôöùûüÿñáíóúãõåæøßÉÈÊÀÂÇÎÔÖÛÜÄÑÁÍÓÚÅØ"),
}
LANGUAGE_CODE_PAGE = {
    "lt": "cp1257",
    "lv": "cp1257",
    "et": "cp1257",
    "cs": "cp1250",
    "ro": "cp1250",
}


def _code_page_score(text: str, page: str) -> int:
    home = HOME_LETTERS[page]
    score = 0
    for char in text:
        if ord(char) < 128:
            continue
        if char in home:
            score += 2
        elif char.isalpha():
            score += 1
        elif not char.isspace() and unicodedata.category(char)[0] in "CS":
            score -= 3  # control characters and odd symbols: a wrong reading
    return score


def decode(data: bytes, *, language: str = "") -> tuple[str, str]:
    """The file's text and the name of the encoding it was read with."""
    if data[:4] in (b"PK\x03\x04", b"\xd0\xcf\x11\xe0"):
        raise FatalImportError(
            _("This is a spreadsheet workbook, not a CSV file: save it as CSV and upload again.")
        )
    boms = [
        (codecs.BOM_UTF32_LE, "utf-32"),
        (codecs.BOM_UTF32_BE, "utf-32"),
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ]
    for bom, encoding in boms:
        if data.startswith(bom):
            try:
                return data.decode(encoding), encoding
            except UnicodeDecodeError as exc:
                raise FatalImportError(
                    _("The file says it is %(encoding)s but is not: %(error)s")
                    % {"encoding": encoding.upper().removesuffix("-SIG"), "error": exc.reason}
                ) from exc
    sample = data[:4096]
    if sample.count(0) > len(sample) // 4:
        # UTF-16 without a BOM: every other byte of ASCII text is zero.
        odd_zeros = sample[1::2].count(0)
        encoding = "utf-16-le" if odd_zeros > sample[0::2].count(0) else "utf-16-be"
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            pass
    if b"\x00" in sample:
        raise FatalImportError(_("This is not a text file. Upload a CSV file."))
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    preferred = LANGUAGE_CODE_PAGE.get(language, "cp1252")
    readings = []
    for page in ("cp1257", "cp1250", "cp1252"):
        try:
            text = data.decode(page)
        except UnicodeDecodeError:
            continue  # a byte this page does not define
        readings.append((_code_page_score(text, page), page == preferred, page, text))
    if not readings:
        raise FatalImportError(
            _("The file's text encoding could not be recognised. Save it as CSV UTF-8.")
        )
    _score, _preferred, page, text = max(readings)
    return text, page


# --- Reading rows


DELIMITERS = ",;\t|"


def _first_line(text: str) -> str:
    for line in text.splitlines():
        if line.strip():
            return line
    return ""


def sniff_delimiter(text: str) -> str:
    sample = text[:65536]
    if len(text) > len(sample) and "\n" in sample:
        sample = sample[: sample.rindex("\n")]
    header = _first_line(sample)
    try:
        delimiter = csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:
        delimiter = ""
    # The sniffer guesses from character frequencies and can be fooled by the data (a
    # comma in every quoted name): the header line must contain the delimiter it picked.
    if delimiter and (delimiter in header or not any(d in header for d in DELIMITERS)):
        return delimiter
    counts = {d: header.count(d) for d in DELIMITERS}
    best = max(counts, key=lambda d: (counts[d], d == ","))
    return best if counts[best] else ","


def rows(lines: Iterable[str], delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """(line number the row starts on, cells) for every non-blank row, from a stream of text
    lines (the events import streams a file through it). A stray NUL (a broken export) is
    dropped: PostgreSQL's text cannot hold one."""
    reader = csv.reader(
        (line.replace("\x00", "") if "\x00" in line else line for line in lines),
        delimiter=delimiter,
    )
    line = 1
    try:
        for cells in reader:
            start, line = line, reader.line_num + 1
            if any(cell.strip() for cell in cells):
                yield start, cells
    except csv.Error as exc:
        raise FatalImportError(
            _("The file could not be read near line %(line)s: %(error)s")
            % {"line": reader.line_num, "error": exc}
        ) from exc
    except UnicodeDecodeError as exc:
        raise FatalImportError(
            _("The file is not valid %(encoding)s near line %(line)s (%(error)s).")
            % {"encoding": exc.encoding, "line": reader.line_num + 1, "error": exc.reason}
        ) from exc


def _rows(text: str, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    return rows(io.StringIO(text, newline=""), delimiter)


def normal_header(header: str) -> str:
    """'El. paštas ' -> 'elpastas': lower case, accents and punctuation removed."""
    text = unicodedata.normalize("NFKD", header.strip().lstrip("\ufeff").lower())
    return "".join(c for c in text if c.isascii() and c.isalnum())


def _aliases(*names: str) -> tuple[str, ...]:
    return tuple(normal_header(n) for n in names)


EMAIL_HEADERS = _aliases(
    "email", "e-mail", "email address", "e-mail address", "mail", "email_address",
    "el. paštas", "elektroninis paštas", "el. pašto adresas",  # lt
    "e-pasts", "e-pasta adrese",  # lv
    "e-post", "e-posti aadress", "meiliaadress",  # et
    "e-mailová adresa", "e-mail adresa", "emailová adresa",  # cs
    "adresă de email", "adresa de e-mail", "adresa email",  # ro
)  # fmt: skip
# Parts of a header that mean "email" inside a longer one ("Customer e-mail").
EMAIL_PARTS = ("email", "epast", "elpast", "epost")
CUSTOMER_KEY_HEADERS = _aliases(
    "customer id", "customer_id", "customerid", "customer key", "customer number",
    "customer no", "client id", "user id", "external id",
    "kliento id", "kliento kodas", "kliento nr", "pirkėjo id",  # lt
    "klienta id", "klienta numurs", "klienta kods",  # lv
    "kliendi id", "kliendi number", "kliendi kood",  # et
    "id zákazníka", "číslo zákazníka", "zákaznické číslo",  # cs
    "id client", "cod client", "număr client",  # ro
    "id",
)  # fmt: skip
FULL_NAME_HEADERS = _aliases(
    "name", "full name", "customer name", "client name", "contact name",
    "vardas pavardė", "vardas ir pavardė", "pilnas vardas", "kliento vardas",  # lt
    "vārds uzvārds", "vārds, uzvārds", "klienta vārds",  # lv
    "nimi", "täisnimi", "kliendi nimi", "ees- ja perekonnanimi",  # et
    "celé jméno", "jméno a příjmení", "jméno zákazníka",  # cs
    "nume complet", "numele", "nume și prenume", "nume client",  # ro
)  # fmt: skip
FIRST_NAME_HEADERS = _aliases(
    "first name", "firstname", "given name", "forename",
    "vardas", "vārds", "eesnimi", "jméno", "křestní jméno", "prenume",
)  # fmt: skip
LAST_NAME_HEADERS = _aliases(
    "last name", "lastname", "surname", "family name",
    "pavardė", "uzvārds", "perekonnanimi", "příjmení", "nume de familie", "nume",
)  # fmt: skip
LANGUAGE_HEADERS = _aliases(
    "language", "lang", "locale", "preferred language", "language code", "customer locale",
    "customer language",
    "kalba", "valoda", "keel", "jazyk", "limba",
)  # fmt: skip
REASON_HEADERS = _aliases(
    "reason", "bounce reason", "type", "bounce type", "event", "status", "description",
    "diagnostic", "error", "priežastis", "iemesls", "põhjus", "důvod", "motiv",
)  # fmt: skip


def _find(normal: list[str], aliases: tuple[str, ...], taken: set[int]) -> int | None:
    for alias in aliases:  # the alias list's order is the preference
        for index, header in enumerate(normal):
            if header == alias and index not in taken:
                return index
    return None


def detect_columns(header: list[str]) -> dict[int, str]:
    """Column index -> field, from the header's names."""
    normal = [normal_header(h) for h in header]
    found: dict[int, str] = {}
    email = _find(normal, EMAIL_HEADERS, set())
    if email is None:
        email = next(
            (i for i, h in enumerate(normal) if any(part in h for part in EMAIL_PARTS)), None
        )
    if email is not None:
        found[email] = "email"
    key = _find(normal, CUSTOMER_KEY_HEADERS, set(found))
    if key is not None:
        found[key] = "customer_key"
    first = _find(normal, FIRST_NAME_HEADERS, set(found))
    last = _find(normal, LAST_NAME_HEADERS, set(found) | ({first} if first is not None else set()))
    full = _find(normal, FULL_NAME_HEADERS, set(found))
    if first is not None and last is not None:
        found[first] = found[last] = "name"  # joined first, then last
    elif full is not None:
        found[full] = "name"
    elif first is not None or last is not None:
        found[first if first is not None else last] = "name"  # type: ignore[index]
    language = _find(normal, LANGUAGE_HEADERS, set(found))
    if language is not None:
        found[language] = "language"
    return found


def _columns_from_mapping(header: list[str], mapping: dict[str, str]) -> dict[int, str]:
    by_name = {h.strip(): i for i, h in enumerate(header)}
    by_normal = {normal_header(h): i for i, h in enumerate(header)}
    columns: dict[int, str] = {}
    for name, target in mapping.items():
        if not target or target == "ignore":
            continue
        if target not in FIELDS:
            raise FatalImportError(
                _("“%(field)s” is not something a contact has; use one of %(fields)s.")
                % {"field": target, "fields": ", ".join(FIELDS)}
            )
        index = by_name.get(name.strip(), by_normal.get(normal_header(name)))
        if index is None:
            raise FatalImportError(_("The file has no column “%(column)s”.") % {"column": name})
        if target != "name" and target in columns.values():
            raise FatalImportError(
                _("Only one column can be imported as “%(field)s”.")
                % {"field": FIELD_LABELS[target]}
            )
        columns[index] = target
    return columns


# --- Values


LANGUAGE_NAMES = {code: code for code in SURVEY_LANGUAGES} | {
    normal_header(name): code
    for code, names in {
        "en": ("English", "anglų", "angļu", "inglise", "angličtina", "anglicky", "engleză", "eng"),
        "lt": ("Lithuanian", "lietuvių", "lietuviškai", "lietuvių kalba", "lietuviu", "lit"),
        "lv": ("Latvian", "latviešu", "latviešu valoda", "latviski", "lettish", "lav"),
        "et": ("Estonian", "eesti", "eesti keel", "estonian language", "est", "ee"),
        "cs": ("Czech", "čeština", "česky", "český", "ces", "cze", "cz"),
        "ro": ("Romanian", "română", "limba română", "romaneste", "ron", "rum"),
    }.items()
    for name in names
}


def language_code(value: str) -> str | None:
    """A supported language code for "LT", "lt-LT", "lt_LT", "Lithuanian", "lietuvių"...;
    "" for a blank value, None for one that is not a survey language."""
    value = value.strip()
    if not value:
        return ""
    primary = re.split(r"[-_]", value, maxsplit=1)[0].strip().lower()
    if primary in SURVEY_LANGUAGES:
        return primary
    return LANGUAGE_NAMES.get(normal_header(value)) or LANGUAGE_NAMES.get(normal_header(primary))


def email_clean(value: str) -> str:
    """The normalised address, or ValueError (the events import of orders reads emails the
    same way)."""
    value = value.strip()
    if "<" in value and ">" in value:  # "Jonas Jonaitis <jonas@example.com>"
        value = parseaddr(value)[1]
    if value.lower().startswith("mailto:"):
        value = value[7:]
    value = value.strip().lower()
    if len(value) > EMAIL_MAX:
        raise ValueError("too long")
    try:
        validate_email(value)
    except ValidationError as exc:
        raise ValueError("invalid") from exc
    return value


def _is_email(value: str) -> bool:
    try:
        return bool(email_clean(value))
    except ValueError:
        return False


_FLOAT_ID = re.compile(r"(\d+)\.0+")


def customer_key(value: str) -> str:
    """Spreadsheets write numeric ids as floats: "17850.0" is the customer "17850"."""
    value = value.strip()
    match = _FLOAT_ID.fullmatch(value)
    return match.group(1) if match else value


# --- Parsing a whole file


@dataclass
class _Parsed:
    report: ImportReport
    # email -> [first row, customer_key, name, language]; later non-empty values win.
    contacts: dict[str, list[Any]]
    reasons: dict[str, str]


def _cell(cells: list[str], index: int) -> str:
    return cells[index].strip() if index < len(cells) else ""


def _parse(
    *,
    report: ImportReport,
    file_bytes: bytes,
    store: Store,
    mapping: dict[str, str] | None,
    bounces: bool = False,
) -> _Parsed:
    if len(file_bytes) > MAX_FILE_BYTES:
        raise FatalImportError(
            _("The file is larger than %(mb)s MB.") % {"mb": MAX_FILE_BYTES // (1024 * 1024)}
        )
    text, report.encoding = decode(file_bytes, language=store.default_language)
    report.delimiter = sniff_delimiter(text)
    rows = _rows(text, report.delimiter)
    first = next(rows, None)
    if first is None:
        raise FatalImportError(_("The file is empty."))
    _line, header = first
    header = [h.strip().lstrip("\ufeff") for h in header]
    columns = _columns_from_mapping(header, mapping) if mapping else detect_columns(header)
    reason_index = None
    if bounces:
        columns = {i: f for i, f in columns.items() if f == "email"}
        reason_index = _find([normal_header(h) for h in header], REASON_HEADERS, set(columns))
    email_index = next((i for i, f in columns.items() if f == "email"), None)
    pending: list[tuple[int, list[str]]] = []
    if email_index is None:
        # No email header: a list of bare addresses, without a header row?
        email_index = next((i for i, v in enumerate(header) if _is_email(v)), None)
        if email_index is None or mapping:
            raise FatalImportError(
                _(
                    "No email column was found. Name it “Email” (or “E-mail”, “el. paštas”, "
                    "“e-pasts”, “e-post”…) or choose it in the column mapping."
                )
            )
        columns = {email_index: "email"}
        pending.append(first)
        header = [""] * len(header)
    report.columns = {header[i] or f"#{i + 1}": f for i, f in sorted(columns.items())}
    name_indexes = [i for i, f in sorted(columns.items()) if f == "name"]
    key_index = next((i for i, f in columns.items() if f == "customer_key"), None)
    language_index = next((i for i, f in columns.items() if f == "language"), None)

    def label(index: int) -> str:
        return header[index] or f"#{index + 1}"

    contacts: dict[str, list[Any]] = {}
    reasons: dict[str, str] = {}
    for line, cells in _chain(pending, rows):
        report.rows += 1
        if report.rows > MAX_ROWS:
            raise FatalImportError(
                ngettext(
                    "The file has more than %(max)s row; split it into smaller files.",
                    "The file has more than %(max)s rows; split it into smaller files.",
                    MAX_ROWS,
                )
                % {"max": numbers.whole(MAX_ROWS)}
            )
        raw = _cell(cells, email_index)
        if not raw:
            report.skipped += 1
            report.add_error(
                RowError(line, label(email_index), "", "missing_email", _("No email."), True)
            )
            continue
        try:
            email = email_clean(raw)
        except ValueError:
            report.skipped += 1
            report.add_error(
                RowError(
                    line,
                    label(email_index),
                    raw[:200],
                    "invalid_email",
                    _("“%(value)s” is not a valid email address.") % {"value": raw[:200]},
                    True,
                )
            )
            continue
        if bounces:
            if email in reasons:
                report.merged += 1
            reason = _cell(cells, reason_index) if reason_index is not None else ""
            if reason or email not in reasons:
                reasons[email] = reason
            continue
        key = customer_key(_cell(cells, key_index)) if key_index is not None else ""
        if len(key) > CUSTOMER_KEY_MAX:
            report.add_error(
                RowError(
                    line,
                    label(key_index),  # type: ignore[arg-type]
                    key[:200],
                    "too_long",
                    ngettext(
                        "A customer key has at most %(max)s character; imported without it.",
                        "A customer key has at most %(max)s characters; imported without it.",
                        CUSTOMER_KEY_MAX,
                    )
                    % {"max": CUSTOMER_KEY_MAX},
                    False,
                )
            )
            key = ""
        name = " ".join(" ".join(_cell(cells, i) for i in name_indexes).split())[:NAME_MAX]
        language = ""
        if language_index is not None:
            raw_language = _cell(cells, language_index)
            code = language_code(raw_language)
            if code is None:
                report.add_error(
                    RowError(
                        line,
                        label(language_index),
                        raw_language[:200],
                        "unknown_language",
                        _(
                            "Unknown language “%(value)s” (use one of %(codes)s); imported "
                            "without a language."
                        )
                        % {"value": raw_language[:200], "codes": ", ".join(SURVEY_LANGUAGES)},
                        False,
                    )
                )
            else:
                language = code
        known = contacts.get(email)
        if known is None:
            contacts[email] = [line, key, name, language]
        else:
            report.merged += 1
            for position, value in ((1, key), (2, name), (3, language)):
                if value:
                    known[position] = value
    if report.rows == 0:
        raise FatalImportError(_("The file has no rows below its header."))
    if report.skipped * 2 > report.rows:
        raise FatalImportError(
            _(
                "%(skipped)s of %(rows)s rows have no valid email: is the right column chosen? "
                "Nothing was imported."
            )
            % {"skipped": report.skipped, "rows": report.rows}
        )
    return _Parsed(report=report, contacts=contacts, reasons=reasons)


def _chain(
    first: list[tuple[int, list[str]]], rest: Iterator[tuple[int, list[str]]]
) -> Iterator[tuple[int, list[str]]]:
    yield from first
    yield from rest


def _fatal_report(exc: FatalImportError, report: ImportReport) -> ImportReport:
    report.fatal = str(exc)
    report.created = report.updated = report.unchanged = report.merged = 0
    report.suppressed = report.not_found = 0
    return report


# --- Contacts


def _write_contacts(*, store: Store, parsed: _Parsed) -> None:
    """Insert new contacts and update changed ones, BATCH_SIZE at a time."""
    report, contacts = parsed.report, parsed.contacts
    emails = list(contacts)
    existing: dict[str, tuple[int, str, str, str]] = {}
    for start in range(0, len(emails), BATCH_SIZE):
        rows = Contact.objects.filter(
            store=store, email__in=emails[start : start + BATCH_SIZE]
        ).values_list("email", "id", "customer_key", "name", "language")
        existing.update((email, rest) for email, *rest in rows)  # type: ignore[misc]
    new: list[Contact] = []
    changed: list[tuple[int, str, str, str]] = []
    for email, (_line, key, name, language) in contacts.items():
        row = existing.get(email)
        if row is None:
            new.append(
                Contact(
                    organisation_id=store.organisation_id,
                    store=store,
                    email=email,
                    customer_key=key,
                    name=name,
                    language=language,
                )
            )
            continue
        pk, old_key, old_name, old_language = row
        values = (key or old_key, name or old_name, language or old_language)
        if values == (old_key, old_name, old_language):
            report.unchanged += 1
        else:
            changed.append((pk, *values))
    Contact.objects.bulk_create(new, batch_size=BATCH_SIZE)
    report.created = len(new)
    table = Contact._meta.db_table
    with connection.cursor() as cursor:
        for start in range(0, len(changed), BATCH_SIZE):
            batch = changed[start : start + BATCH_SIZE]
            # One statement per batch; bulk_update's CASE per row and field is far slower.
            cursor.execute(
                f"UPDATE {table} AS c SET customer_key = v.key, name = v.name, "  # noqa: S608
                "language = v.language FROM unnest(%s::bigint[], %s::text[], %s::text[], "
                "%s::text[]) AS v(id, key, name, language) WHERE c.id = v.id",
                [list(column) for column in zip(*batch, strict=True)],
            )
    report.updated = len(changed)


def contacts_import_csv(
    *, store: Store, actor: Actor, file_bytes: bytes, mapping: dict[str, str] | None = None
) -> ImportReport:
    """Import a CSV of contacts into the store: create new addresses, fill in or change the
    customer key, name and language of known ones (a blank cell keeps the stored value).
    Unsubscribed and suppressed contacts stay so.

    `mapping`: the file's column header -> "email", "customer_key", "name", "language" (or ""
    to ignore the column); several columns may form the name. Without it the columns are
    recognised by their headers. Check `report.fatal`: when set, nothing was imported.
    """
    report = ImportReport()
    try:
        parsed = _parse(report=report, file_bytes=file_bytes, store=store, mapping=mapping)
    except FatalImportError as exc:
        return _fatal_report(exc, report)
    for attempt in range(2):
        try:
            with transaction.atomic():
                # Imports of one store run one at a time; other writes are not blocked.
                Store.objects.select_for_update(no_key=True).filter(pk=store.pk).first()
                _write_contacts(store=store, parsed=parsed)
                _audit(store=store, actor=actor, action="contacts.imported", report=parsed.report)
            break
        except IntegrityError:
            # A contact created meanwhile by an event (services.contact_upsert): read again.
            parsed.report.created = parsed.report.updated = parsed.report.unchanged = 0
            if attempt:
                raise
    return parsed.report


def _audit(*, store: Store, actor: Actor, action: str, report: ImportReport) -> None:
    details = {
        key: getattr(report, key)
        for key in (
            "rows",
            "created",
            "updated",
            "unchanged",
            "merged",
            "skipped",
            "suppressed",
            "not_found",
            "error_count",
            "encoding",
        )
    }
    details["columns"] = sorted(set(report.columns.values()))
    audit_record(
        organisation=store.organisation, actor=actor, action=action, target=store, details=details
    )


def contacts_import_preview(*, store: Store, file_bytes: bytes, rows: int = 5) -> dict[str, Any]:
    """What an import would read: encoding, delimiter, header, detected mapping, first rows.
    For the upload page, so the user can confirm or correct the mapping.

    `headerless`: the first line holds addresses, not headers; the import then reads the
    column of addresses by itself (mapping=None). `fatal` is set for a file that no mapping
    can import, with the importer's own message."""
    try:
        if len(file_bytes) > MAX_FILE_BYTES:
            raise FatalImportError(
                _("The file is larger than %(mb)s MB.") % {"mb": MAX_FILE_BYTES // (1024 * 1024)}
            )
        text, encoding = decode(file_bytes, language=store.default_language)
        delimiter = sniff_delimiter(text)
        reader = _rows(text, delimiter)
        first = next(reader, None)
        if first is None:
            raise FatalImportError(_("The file is empty."))
        header = [h.strip().lstrip("\ufeff") for h in first[1]]
        sample = []
        for _index in range(rows):
            item = next(reader, None)
            if item is None:
                break
            sample.append(item[1])
        detected = detect_columns(header)
        headerless = "email" not in detected.values() and any(_is_email(h) for h in header)
        if not sample and not headerless:
            raise FatalImportError(_("The file has no rows below its header."))
    except FatalImportError as exc:
        return {"fatal": str(exc)}
    return {
        "fatal": "",
        "encoding": encoding,
        "delimiter": delimiter,
        "header": header,
        "headerless": headerless,
        "mapping": {h: detected.get(i, "") for i, h in enumerate(header)},
        "rows": sample,
    }


# --- Bounce and complaint lists


def bounces_import_csv(*, store: Store, actor: Actor, file_bytes: bytes) -> ImportReport:
    """Suppress the listed addresses in the store (an ESP's bounce or complaint export):
    column `email`, optional `reason`. Addresses that are no contact are counted, not added.
    """
    report = ImportReport()
    try:
        parsed = _parse(
            report=report, file_bytes=file_bytes, store=store, mapping=None, bounces=True
        )
    except FatalImportError as exc:
        return _fatal_report(exc, report)
    report, reasons = parsed.report, parsed.reasons
    emails = list(reasons)
    with transaction.atomic():
        known: dict[str, bool] = {}
        for start in range(0, len(emails), BATCH_SIZE):
            known.update(
                (email, suppressed_at is not None)
                for email, suppressed_at in Contact.objects.filter(
                    store=store, email__in=emails[start : start + BATCH_SIZE]
                ).values_list("email", "suppressed_at")
            )
        for email in emails:
            if email not in known:
                report.not_found += 1
            elif known[email]:
                report.unchanged += 1  # suppressed before: its reason and date stay
            else:
                services.contact_suppress(
                    store=store, email=email, reason=reasons[email] or "bounce list import"
                )
                report.suppressed += 1
        _audit(store=store, actor=actor, action="contacts.bounces_imported", report=report)
    return report
