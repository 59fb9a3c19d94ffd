"""The write path every way in shares: items checked one by one (a bad item is reported by its
index, the rest go in), then written set-based in one transaction: a binary COPY of the batch
into a staging table and three statements, whatever the batch's size.

Deduplication: the idempotency id must be unique per store for all time, which no unique
constraint on the partitioned table can hold (it would have to include occurred_at). So each
id's hash goes into events_eventkey (primary key store, hash) with ON CONFLICT DO NOTHING
RETURNING: the ids it returns are new, the others duplicates; a concurrent batch with the same
id waits for ours and then sees it. bench/ingest_bench.py measures what this costs per batch.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import msgspec
from django.db import connection, transaction
from django.utils.crypto import salted_hmac

from accounts.models import Store
from core import clock
from events import blocks, partitions
from events.models import EventSource
from journeys.models import EVENT_NAME

MAX_BATCH_ITEMS = 1000
MAX_BATCH_BYTES = 1_000_000
MAX_PROPERTIES_BYTES = 8 * 1024
MAX_PROPERTIES_DEPTH = 8
MAX_ID_LENGTH = 64
MAX_CUSTOMER_KEY_LENGTH = 128
# An event may be dated at most this far ahead (clocks drift; a year's typo does not).
FUTURE_TOLERANCE = timedelta(days=1)

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class BatchItem(msgspec.Struct, forbid_unknown_fields=True):
    """One item of `POST /api/v1/events/batch/` as it arrives (the types; the rules are in
    item_check)."""

    id: str
    name: str
    occurred_at: str
    customer_key: str | None = None
    anonymous_id: str | None = None
    session_id: str | None = None
    properties: dict[str, Any] | None = None


@dataclass(slots=True)
class EventIn:
    """An event that passed the checks, ready to write."""

    index: int
    client_id: str
    name: str
    customer_key: str
    is_anonymous: bool
    occurred_at: datetime
    session_id: str = ""
    properties: str = "{}"  # JSON text


@dataclass
class Written:
    accepted: list[EventIn] = field(default_factory=list)
    duplicates: list[int] = field(default_factory=list)


class ItemError(ValueError):
    """An item is refused: the message says why, to the store's developer."""


def email_customer_key(email: str) -> str:
    """A customer key for an order with no customer id: a keyed hash of the normalised email,
    never the email itself (SECRET_KEY keys it; rotating that key starts new customers)."""
    normal = unicodedata.normalize("NFKC", email).strip().lower()
    digest = salted_hmac("events.customer-email", normal, algorithm="sha256").hexdigest()
    return f"email:{digest[:40]}"


def customer_key_clean(value: str, *, label: str = "customer_key") -> str:
    key = value.strip()
    if not key:
        raise ItemError(f"{label} is empty.")
    if len(key) > MAX_CUSTOMER_KEY_LENGTH:
        raise ItemError(f"{label} is longer than {MAX_CUSTOMER_KEY_LENGTH} characters.")
    if _CONTROL.search(key):
        raise ItemError(f"{label} contains control characters.")
    if _EMAIL.match(key):
        return email_customer_key(key)  # a raw email is never stored as a key
    return key


def _depth(value: Any, level: int = 1) -> int:
    if isinstance(value, dict):
        return max((_depth(v, level + 1) for v in value.values()), default=level)
    if isinstance(value, list):
        return max((_depth(v, level + 1) for v in value), default=level)
    return level - 1


def properties_text(properties: dict[str, Any] | None) -> str:
    if not properties:
        return "{}"
    encoded = msgspec.json.encode(properties)
    if len(encoded) > MAX_PROPERTIES_BYTES:
        raise ItemError(
            f"properties take {len(encoded):,} bytes as JSON; at most {MAX_PROPERTIES_BYTES:,} "
            "are kept per event."
        )
    if b"\\u0000" in encoded:
        raise ItemError("properties contain a NUL character (\\u0000), which cannot be stored.")
    if _depth(properties) > MAX_PROPERTIES_DEPTH:
        raise ItemError(f"properties are nested more than {MAX_PROPERTIES_DEPTH} levels deep.")
    return encoded.decode()


def _occurred_at(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ItemError(
            f"occurred_at {value[:40]!r} is not an ISO 8601 date and time "
            "(e.g. 2026-03-01T14:05:00+02:00)."
        ) from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ItemError("occurred_at needs a UTC offset or Z (e.g. 2026-03-01T14:05:00+02:00).")
    return moment.astimezone(UTC)


@dataclass
class Window:
    """The times a store takes an event at: after its retention horizon (if it has one), at
    most FUTURE_TOLERANCE ahead of now."""

    earliest: datetime | None
    latest: datetime

    @classmethod
    def for_store(cls, store: Store) -> Window:
        now = clock.now()
        return cls(earliest=partitions.retention_horizon(store, now), latest=now + FUTURE_TOLERANCE)

    def check(self, moment: datetime) -> None:
        if moment > self.latest:
            raise ItemError("occurred_at is more than a day in the future.")
        if self.earliest is not None and moment < self.earliest:
            raise ItemError(
                f"occurred_at is before {self.earliest:%Y-%m-%d}, older than the store keeps "
                "events (its retention setting)."
            )


def _event(
    *,
    index: int,
    window: Window,
    event_id: str,
    name: str,
    occurred_at: str,
    customer_key: str | None,
    anonymous_id: str | None,
    session_id: str | None,
    properties: str,
) -> EventIn:
    """The rules of an item, on fields whose types are checked already."""
    client_id = event_id.strip()
    if not client_id:
        raise ItemError("id is empty.")
    if len(client_id) > MAX_ID_LENGTH or _CONTROL.search(client_id):
        raise ItemError(
            f"id must be at most {MAX_ID_LENGTH} characters, with no control characters."
        )
    if not EVENT_NAME.match(name):
        raise ItemError(
            "name must be 1 to 64 letters, digits or _ . : - (e.g. purchase, add_to_cart)."
        )
    if (customer_key is None) == (anonymous_id is None):
        raise ItemError(
            "Give customer_key or anonymous_id (one of them; link the two with identify)."
        )
    if customer_key is not None:
        key, anonymous = customer_key_clean(customer_key), False
    else:
        key, anonymous = customer_key_clean(anonymous_id or "", label="anonymous_id"), True
    session = (session_id or "").strip()
    if len(session) > 64 or _CONTROL.search(session):
        raise ItemError("session_id must be at most 64 characters, with no control characters.")
    moment = _occurred_at(occurred_at)
    window.check(moment)
    return EventIn(
        index=index,
        client_id=client_id,
        name=name,
        customer_key=key,
        is_anonymous=anonymous,
        occurred_at=moment,
        session_id=session,
        properties=properties,
    )


def _event_of(item: BatchItem | RawItem, index: int, window: Window, properties: str) -> EventIn:
    return _event(
        index=index,
        window=window,
        event_id=item.id,
        name=item.name,
        occurred_at=item.occurred_at,
        customer_key=item.customer_key,
        anonymous_id=item.anonymous_id,
        session_id=item.session_id,
        properties=properties,
    )


def item_check(raw: Any, *, window: Window, index: int) -> EventIn:
    """One batch item, converted and checked; ItemError says what is wrong."""
    try:
        item = msgspec.convert(raw, BatchItem)
    except msgspec.ValidationError as exc:
        raise ItemError(str(exc).replace("$.", "")) from None
    return _event_of(item, index, window, properties_text(item.properties))


# --- The fast path: a body whose every item has the right types is decoded straight into
# structs, its properties kept as the raw JSON they came as (no decoding and encoding again).
# Any other body takes the path above, which names each item's problem. Both apply the same
# rules (_event); tests check that they answer alike.


class RawItem(msgspec.Struct, forbid_unknown_fields=True):
    id: str
    name: str
    occurred_at: str
    customer_key: str | None = None
    anonymous_id: str | None = None
    session_id: str | None = None
    properties: msgspec.Raw = msgspec.Raw(b"")  # the raw JSON; empty when left out


class RawBatch(msgspec.Struct, forbid_unknown_fields=True):
    events: list[RawItem]


_RAW_BATCH = msgspec.json.Decoder(RawBatch)


def batch_decode_typed(body: bytes) -> list[RawItem] | None:
    """The items of a body of the right shape and types, or None (then: the general path)."""
    try:
        items = _RAW_BATCH.decode(body).events
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None
    for item in items:
        raw = bytes(item.properties).lstrip()
        if raw and not raw.startswith((b"{", b"null")):
            return None  # the general path words this error as it words the others
    return items


def raw_properties_text(raw: msgspec.Raw) -> str:
    """properties_text for properties still as raw JSON."""
    data = bytes(raw).strip()
    if data in (b"", b"null"):
        return "{}"
    if len(data) > MAX_PROPERTIES_BYTES or data.count(b"{") + data.count(b"[") > (
        MAX_PROPERTIES_DEPTH
    ):
        # Big or possibly deep: the exact rules (and re-encoded, compact JSON).
        return properties_text(msgspec.json.decode(data))
    if b"\\u0000" in data:
        raise ItemError("properties contain a NUL character (\\u0000), which cannot be stored.")
    return data.decode()


def typed_items_check(
    items: list[RawItem], *, window: Window
) -> tuple[list[EventIn], list[dict[str, Any]]]:
    good: list[EventIn] = []
    errors: list[dict[str, Any]] = []
    for index, item in enumerate(items):
        try:
            good.append(_event_of(item, index, window, raw_properties_text(item.properties)))
        except ItemError as exc:
            errors.append({"index": index, "message": str(exc)})
    return good, errors


def items_check(
    raw_items: Sequence[Any],
    *,
    window: Window,
    check: Callable[..., EventIn] = item_check,
) -> tuple[list[EventIn], list[dict[str, Any]]]:
    """Every item checked: the good ones, and an error per bad one ({"index", "message"})."""
    good: list[EventIn] = []
    errors: list[dict[str, Any]] = []
    for index, raw in enumerate(raw_items):
        try:
            good.append(check(raw, window=window, index=index))
        except ItemError as exc:
            errors.append({"index": index, "message": str(exc)})
    return good, errors


def key_hash(client_id: str) -> uuid.UUID:
    return uuid.UUID(bytes=hashlib.sha256(client_id.encode()).digest()[:16])


def _customers_select(
    cursor: Any, store_id: int, keys: list[tuple[bool, str]]
) -> dict[tuple[bool, str], int]:
    cursor.execute(
        "SELECT c.is_anonymous, c.key, coalesce(c.identified_as_id, c.id) "
        "FROM events_customer c JOIN unnest(%s::boolean[], %s::text[]) AS t(a, k) "
        "ON c.is_anonymous = t.a AND c.key = t.k WHERE c.store_id = %s",
        [[a for a, _k in keys], [k for _a, k in keys], store_id],
    )
    return {(a, k): pk for a, k, pk in cursor.fetchall()}


def customer_ids(
    cursor: Any, store_id: int, keys: set[tuple[bool, str]], now: datetime
) -> dict[tuple[bool, str], int]:
    """The customer id each (is_anonymous, key) counts as, creating the missing customers: one
    SELECT when all are known, an INSERT of the new ones and a SELECT of those otherwise. An
    anonymous id that identify linked counts as its customer. (Batches do the same in SQL:
    events_write.)"""
    ordered = sorted(keys)  # one order for every caller: concurrent upserts cannot deadlock
    found = _customers_select(cursor, store_id, ordered)
    missing = [key for key in ordered if key not in found]
    if missing:
        cursor.execute(
            "INSERT INTO events_customer (store_id, is_anonymous, key, first_seen_at) "
            "SELECT %s, a, k, %s FROM unnest(%s::boolean[], %s::text[]) AS t(a, k) "
            "ON CONFLICT DO NOTHING",
            [store_id, now, [a for a, _k in missing], [k for _a, k in missing]],
        )
        found.update(_customers_select(cursor, store_id, missing))
    return found


def days_mark(
    cursor: Any, store_id: int, days: set[date], now: datetime, *, full: bool = False
) -> None:
    """Mark days for the metrics' recompute. `full`: events were moved or removed, not only
    added (RecomputeMark.full_recompute)."""
    conflict = (
        "ON CONFLICT (store_id, day) DO UPDATE SET full_recompute = true"
        if full
        else ("ON CONFLICT DO NOTHING")
    )
    cursor.execute(
        "INSERT INTO events_recomputemark (store_id, day, marked_at, full_recompute) "
        f"SELECT %s, unnest(%s::date[]), %s, %s {conflict}",
        [store_id, sorted(days), now, full],
    )


def first_purchases_note(cursor: Any, earliest: dict[int, datetime]) -> None:
    """Keep each customer's first purchase ever (an earlier one may arrive late)."""
    if not earliest:
        return
    ids = sorted(earliest)
    cursor.execute(
        "UPDATE events_customer c SET first_purchase_at = t.at "
        "FROM unnest(%s::bigint[], %s::timestamptz[]) AS t(id, at) "
        "WHERE c.id = t.id AND (c.first_purchase_at IS NULL OR c.first_purchase_at > t.at)",
        [ids, [earliest[pk] for pk in ids]],
    )


# The batch's rows, copied in (binary COPY) before one statement writes them all and empties it
# (_WRITE's `cleared`, for batches inside a longer transaction). Created once per database
# session; emptied by truncation at each commit, as autovacuum never cleans a temporary
# table: deleted rows alone would leave it to grow with every batch.
_STAGING = """
CREATE TEMP TABLE IF NOT EXISTS events_staging (
    idx integer NOT NULL,  -- the position in the batch
    key_hash uuid NOT NULL,
    client_id text NOT NULL,
    name text NOT NULL,
    is_anonymous boolean NOT NULL,
    customer_key text NOT NULL,
    occurred_at timestamptz NOT NULL,
    session_id text NOT NULL,
    properties text NOT NULL  -- JSON text, checked and encoded by properties_text
) ON COMMIT DELETE ROWS
"""
_STAGING_TYPES = [
    "integer", "uuid", "text", "text", "boolean", "text", "timestamptz", "text", "text",
]  # fmt: skip

# New names and customers first (they are few once a store runs), in one order for every
# batch, so that concurrent batches cannot deadlock. The scalar subqueries are index lookups
# per staged row; a NOT EXISTS may be planned as an anti-join over all the store's customers.
_NAMES = """
INSERT INTO events_eventname (store_id, name, first_seen_at)
SELECT DISTINCT %(store)s, s.name, %(now)s::timestamptz FROM events_staging s
WHERE (
    SELECT n.id FROM events_eventname n WHERE n.store_id = %(store)s AND n.name = s.name
) IS NULL
ORDER BY 2 ON CONFLICT DO NOTHING
"""
_CUSTOMERS = """
INSERT INTO events_customer (store_id, is_anonymous, key, first_seen_at)
SELECT DISTINCT %(store)s, s.is_anonymous, s.customer_key, %(now)s::timestamptz
FROM events_staging s
WHERE (
    SELECT c.id FROM events_customer c
    WHERE c.store_id = %(store)s AND c.is_anonymous = s.is_anonymous AND c.key = s.customer_key
) IS NULL
ORDER BY 2, 3 ON CONFLICT DO NOTHING
"""

# Everything else in one statement: the ids never seen are claimed in events_eventkey (ON
# CONFLICT DO NOTHING RETURNING: the others are duplicates; a concurrent batch with the same id
# waits for ours, then sees it), their events inserted with the customer's and the name's
# integers (an anonymous id that identify linked counts as its customer), each customer's
# first purchase kept, the days marked for recompute, and the batch's delta block of the
# compact form (events/blocks.py). Returns the accepted items' indexes.
_WRITE = """
WITH fresh AS (
    INSERT INTO events_eventkey (store_id, key_hash)
    SELECT %(store)s, key_hash FROM events_staging ORDER BY key_hash
    ON CONFLICT DO NOTHING RETURNING key_hash
), rows AS (
    -- Each row's customer and name by a lookup in their unique index (a subplan per row):
    -- a plan that stays right whatever the planner believes about a store's size.
    SELECT s.idx, s.occurred_at,
           (SELECT coalesce(c.identified_as_id, c.id) FROM events_customer c
            WHERE c.store_id = %(store)s AND c.is_anonymous = s.is_anonymous
              AND c.key = s.customer_key) AS customer_id,
           (SELECT n.id FROM events_eventname n
            WHERE n.store_id = %(store)s AND n.name = s.name) AS name_id,
           s.name, s.session_id, s.client_id, s.properties
    FROM events_staging s
    WHERE s.key_hash IN (SELECT key_hash FROM fresh)
), stored AS (
    INSERT INTO events_event (store_id, occurred_at, customer_id, event_name_id, received_at,
                              session_id, client_id, properties, source)
    SELECT %(store)s, occurred_at, customer_id, name_id, %(now)s::timestamptz, session_id,
           client_id, properties::jsonb, %(source)s::smallint
    FROM rows
), first_purchase AS (
    UPDATE events_customer c SET first_purchase_at = p.at
    FROM (
        SELECT customer_id, min(occurred_at) AS at FROM rows WHERE name = 'purchase'
        GROUP BY customer_id ORDER BY customer_id
    ) p
    WHERE c.id = p.customer_id AND (c.first_purchase_at IS NULL OR c.first_purchase_at > p.at)
), marks AS (
    INSERT INTO events_recomputemark (store_id, day, marked_at)
    SELECT DISTINCT %(store)s, (occurred_at AT TIME ZONE 'UTC')::date, %(now)s::timestamptz
    FROM rows ORDER BY 2
    ON CONFLICT DO NOTHING
), delta AS (
    INSERT INTO events_eventblock (store_id, bucket, events, first_at, last_at, customers,
                                   times, names, sessions)
    -- The four aggregates take the rows in one pass, so their columns line up.
    SELECT %(store)s, -1, count(*), min(occurred_at), max(occurred_at),
           string_agg(int8send(customer_id), ''::bytea),
           string_agg(int8send(%(epoch_ms)s), ''::bytea),
           string_agg(int4send(name_id), ''::bytea),
           string_agg(int8send(%(session_hash)s), ''::bytea)
    FROM rows HAVING count(*) > 0
), cleared AS (
    DELETE FROM events_staging  -- the CTEs above read it as it was before this statement
)
SELECT idx FROM rows
""".replace("%(epoch_ms)s", blocks.EPOCH_MS_SQL).replace(
    "%(session_hash)s", blocks.SESSION_HASH_SQL
)


def events_write(*, store: Store, items: list[EventIn], source: EventSource) -> Written:
    """Write checked events: duplicates (an id the store sent before, or twice in this batch)
    are skipped and reported by index. One transaction of five round trips whatever the
    batch's size (a binary COPY into a staging table, then set-based statements); the store's
    days are marked for recompute in it, so that a crash after commit loses no mark."""
    written = Written()
    fresh: dict[str, EventIn] = {}
    for item in items:
        if item.client_id in fresh:
            written.duplicates.append(item.index)
        else:
            fresh[item.client_id] = item
    if not fresh:
        return written
    partitions.partitions_ensure({partitions.month_of(i.occurred_at) for i in fresh.values()})
    params: dict[str, Any] = {"store": store.pk, "now": clock.now(), "source": int(source)}
    # Staged by position in the batch: callers' indexes need not be unique (a CSV line gives
    # an event per date column, all with the line's number).
    batch = list(fresh.values())
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_STAGING)
        with cursor.copy("COPY events_staging FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(_STAGING_TYPES)
            for position, item in enumerate(batch):
                copy.write_row(
                    (
                        position,
                        key_hash(item.client_id),
                        item.client_id,
                        item.name,
                        item.is_anonymous,
                        item.customer_key,
                        item.occurred_at,
                        item.session_id,
                        item.properties,
                    )
                )
        cursor.execute(_NAMES, params)
        cursor.execute(_CUSTOMERS, params)
        cursor.execute(_WRITE, params)
        stored = {row[0] for row in cursor.fetchall()}
    written.accepted = [item for position, item in enumerate(batch) if position in stored]
    written.duplicates.extend(
        item.index for position, item in enumerate(batch) if position not in stored
    )
    written.duplicates.sort()
    return written
