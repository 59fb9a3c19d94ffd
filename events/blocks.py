"""The compact form of a store's events (EventBlock): what the metrics engine reads instead of
the raw rows, which PostgreSQL hands out at about a microsecond each.

Four packed columns per block: customer (int64), time in ms since 1970 (int64), name id
(int32) and a 64-bit hash of the session id (0 for none), big-endian as PostgreSQL's int8send
and int4send write them. Each batch adds a delta block (bucket DELTA, arrival order) in the
transaction that writes its events (events/ingest.py). blocks_compact sorts deltas into the
store's BUCKETS buckets (customer id mod BUCKETS): every event of a customer is in one bucket,
so the engine takes a bucket at a time and a worker never holds a whole store in memory.

Identify links an anonymous id to a customer: the anonymous id's events are added again as a
delta under the customer, and readers drop the anonymous id's older copies (their customer row
now has identified_as); compaction removes them for good. Erasure and retention rewrite the
blocks they touch in the transaction that deletes the raw rows, so that nothing erased or
expired survives in the compact form. blocks_rebuild makes a store's compact form again from
its raw rows (one sorted block per bucket), should it ever be lost or suspect.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC
from typing import Any

import numpy as np
import numpy.typing as npt
import psycopg
from django.db import connection, transaction

from core import clock
from events.models import EventBlock

BUCKETS = 16
DELTA = EventBlock.DELTA
# A bucket's blocks are merged into one when it has more than this many (each read of a bucket
# sorts what is spread over several blocks).
MAX_BLOCKS_PER_BUCKET = 4
LOCK_NAMESPACE = 7_214_004  # pg_advisory_xact_lock(namespace, store): one compaction a store

EPOCH_MS_SQL = "(floor(extract(epoch from occurred_at) * 1000))::bigint"
SESSION_HASH_SQL = "(CASE WHEN session_id = '' THEN 0 ELSE hashtextextended(session_id, 0) END)"

# The delta block of the rows of a CTE `moved` with columns customer_id, occurred_at,
# event_name_id and session_id: used by identify (events/services.py). The four aggregates
# take the rows in one pass, so their columns line up.
DELTA_FROM_SQL = f"""
INSERT INTO events_eventblock (store_id, bucket, events, first_at, last_at, customers, times,
                               names, sessions)
SELECT %(store)s, {DELTA}, count(*), min(occurred_at), max(occurred_at),
       string_agg(int8send(customer_id), ''::bytea),
       string_agg(int8send({EPOCH_MS_SQL}), ''::bytea),
       string_agg(int4send(event_name_id), ''::bytea),
       string_agg(int8send({SESSION_HASH_SQL}), ''::bytea)
FROM moved HAVING count(*) > 0
"""  # noqa: S608 - built from constants


@dataclass
class Columns:
    customers: npt.NDArray[np.int64]
    times: npt.NDArray[np.int64]
    names: npt.NDArray[np.int32]
    sessions: npt.NDArray[np.int64]

    @classmethod
    def empty(cls) -> Columns:
        return cls(
            np.zeros(0, np.int64),
            np.zeros(0, np.int64),
            np.zeros(0, np.int32),
            np.zeros(0, np.int64),
        )

    @classmethod
    def unpack(cls, customers: bytes, times: bytes, names: bytes, sessions: bytes) -> Columns:
        return cls(
            np.frombuffer(customers, dtype=">i8").astype(np.int64),
            np.frombuffer(times, dtype=">i8").astype(np.int64),
            np.frombuffer(names, dtype=">i4").astype(np.int32),
            np.frombuffer(sessions, dtype=">i8").astype(np.int64),
        )

    def pack(self) -> tuple[bytes, bytes, bytes, bytes]:
        return (
            self.customers.astype(">i8").tobytes(),
            self.times.astype(">i8").tobytes(),
            self.names.astype(">i4").tobytes(),
            self.sessions.astype(">i8").tobytes(),
        )

    def __len__(self) -> int:
        return int(self.customers.size)

    def take(self, selector: Any) -> Columns:
        return Columns(
            self.customers[selector],
            self.times[selector],
            self.names[selector],
            self.sessions[selector],
        )

    @classmethod
    def concat(cls, parts: list[Columns]) -> Columns:
        if not parts:
            return cls.empty()
        if len(parts) == 1:
            return parts[0]
        return cls(
            np.concatenate([p.customers for p in parts]),
            np.concatenate([p.times for p in parts]),
            np.concatenate([p.names for p in parts]),
            np.concatenate([p.sessions for p in parts]),
        )

    def sorted(self) -> Columns:
        """By (customer, time); stable, so that arrival order breaks ties."""
        return self.take(np.lexsort((self.times, self.customers)))

    @classmethod
    def merge(cls, parts: list[Columns]) -> Columns:
        """Parts each sorted by (customer, time) as one, ties in the parts' order: what
        concat(parts).sorted() gives, without sorting again what is sorted. Each event gets
        one 64-bit key (its customer's rank among the parts' customers, then its time), and
        a stable sort of the keys merges the parts' runs (timsort finds them)."""
        parts = [part for part in parts if len(part)]
        if len(parts) <= 1:
            return parts[0] if parts else cls.empty()
        first, later = parts[0], parts[1:]
        if sum(len(part) for part in later) * 16 <= len(first):
            return first._insert(cls.merge(later))
        joined = cls.concat(parts)
        largest = max(parts, key=len).customers
        distinct = largest[np.flatnonzero(np.diff(largest, prepend=largest[0] - 1))]
        others = [part.customers for part in parts if part.customers is not largest]
        customers = np.union1d(distinct, np.concatenate(others))
        ranks = np.searchsorted(customers, joined.customers)
        t0 = int(joined.times.min())
        span_bits = max(int(joined.times.max()) - t0, 1).bit_length()
        if span_bits + max(customers.size, 1).bit_length() > 62:
            return joined.sorted()
        keys = (ranks.astype(np.int64) << span_bits) | (joined.times - t0)
        return joined.take(np.argsort(keys, kind="stable"))

    def _insert(self, later: Columns) -> Columns:
        """`later` (sorted, and small) put into this sorted block, each event after this
        block's events of the same customer and instant: one binary search per event of
        `later`, and a copy of the block."""
        start = np.searchsorted(self.customers, later.customers, side="left")
        stop = np.searchsorted(self.customers, later.customers, side="right")
        at = start.copy()
        for i in np.flatnonzero(stop > start):  # customers of both: their runs are short
            run = self.times[start[i] : stop[i]]
            at[i] += int(np.searchsorted(run, later.times[i], side="right"))
        return Columns(
            np.insert(self.customers, at, later.customers),
            np.insert(self.times, at, later.times),
            np.insert(self.names, at, later.names),
            np.insert(self.sessions, at, later.sessions),
        )


def _linked_anonymous_ids(cursor: Any, store_id: int) -> npt.NDArray[np.int64]:
    cursor.execute(
        "SELECT id FROM events_customer WHERE store_id = %s AND identified_as_id IS NOT NULL "
        "ORDER BY id",
        [store_id],
    )
    return np.array([row[0] for row in cursor.fetchall()], dtype=np.int64)


def _without(columns: Columns, customers: npt.NDArray[np.int64]) -> Columns:
    """`columns` without the events of `customers` (ascending): a binary search per event,
    not np.isin's sort of both (a bucket has ~650,000 events at 10 million)."""
    if customers.size == 0 or len(columns) == 0:
        return columns
    at = np.minimum(np.searchsorted(customers, columns.customers), customers.size - 1)
    dropped = customers[at] == columns.customers
    return columns.take(~dropped) if dropped.any() else columns


def _blocks(
    cursor: Any, store_id: int, bucket: int, seqs: list[int] | None = None
) -> list[tuple[int, Columns]]:
    """The bucket's blocks in order (only `seqs`, when given)."""
    if seqs is not None and not seqs:
        return []
    # In binary: bytea as its bytes, not as hex text to decode (a bucket's block is ~18 MB at
    # 10 million events; as text it took 2-4x as long to fetch). A psycopg cursor of its own
    # on Django's connection, so that this holds whichever cursor class the settings choose
    # (client-side binding has no binary results).
    with psycopg.Cursor(cursor.cursor.connection) as raw:
        query = (
            "SELECT seq, customers, times, names, sessions FROM events_eventblock "
            "WHERE store_id = %s AND bucket = %s"
        )
        if seqs is None:
            raw.execute(query + " ORDER BY seq", [store_id, bucket], binary=True)
        else:
            raw.execute(
                query + " AND seq = ANY(%s) ORDER BY seq", [store_id, bucket, seqs], binary=True
            )
        rows = raw.fetchall()
    return [(seq, Columns.unpack(*rest)) for seq, *rest in rows]


def store_buckets(*, store_id: int) -> Iterator[Columns]:
    """Each bucket's events sorted by (customer, time), its blocks and the pending deltas
    merged, the older copies of identified anonymous ids left out. One bucket in memory at a
    time (plus the deltas, which compaction keeps small)."""
    with connection.cursor() as cursor:
        linked = _linked_anonymous_ids(cursor, store_id)
        deltas = Columns.concat([c for _seq, c in _blocks(cursor, store_id, DELTA)])
        delta_bucket = deltas.customers % BUCKETS
        for bucket in range(BUCKETS):
            parts = [c for _seq, c in _blocks(cursor, store_id, bucket)]
            pending = deltas.take(delta_bucket == bucket)
            if len(pending):
                parts.append(pending)
            if len(pending):
                parts[-1] = pending.sorted()  # in arrival order: sorted, then merged
            # Only this bucket's ids can be among its customers.
            yield _without(Columns.merge(parts), linked[linked % BUCKETS == bucket])
            del parts, pending  # before the next bucket is fetched


def customers_columns(*, store_id: int, customer_ids: npt.NDArray[np.int64]) -> Columns:
    """Every event of these customers as the compact form holds them (times in ms, session
    hashes), sorted by (customer, time, arrival), read from the raw rows by the index on
    (store, customer, time): a few customers' events, which the compact form cannot hand out
    without reading whole buckets."""
    if customer_ids.size == 0:
        return Columns.empty()
    with connection.cursor() as cursor, psycopg.Cursor(cursor.cursor.connection) as raw:
        raw.execute(
            f"SELECT customer_id, {EPOCH_MS_SQL}, event_name_id, {SESSION_HASH_SQL} "  # noqa: S608
            "FROM events_event WHERE store_id = %s AND customer_id = ANY(%s) "
            f"ORDER BY customer_id, {EPOCH_MS_SQL}, seq",
            [store_id, [int(c) for c in customer_ids]],
            binary=True,
        )
        rows = raw.fetchall()
    if not rows:
        return Columns.empty()
    customers, times, names, sessions = zip(*rows, strict=True)
    return Columns(
        np.array(customers, dtype=np.int64),
        np.array(times, dtype=np.int64),
        np.array(names, dtype=np.int32),
        np.array(sessions, dtype=np.int64),
    )


def session_customers(
    *, store_id: int, session_hashes: npt.NDArray[np.int64]
) -> npt.NDArray[np.int64]:
    """The customers with events in any of these sessions (hashes as the compact form keeps
    them), ascending: a session's bounce depends on all of its events, whoever sent them."""
    hashes = [int(h) for h in np.unique(session_hashes) if h != 0]
    if not hashes:
        return np.zeros(0, dtype=np.int64)
    with connection.cursor() as cursor:
        # Events without a session (the hash of '', which the compact form writes as 0) are
        # left out by their hash, not by session_id, so that the index answers alone.
        cursor.execute(
            "SELECT DISTINCT customer_id FROM events_event WHERE store_id = %s "
            "AND hashtextextended(session_id, 0) = ANY(%s::bigint[]) "
            "AND hashtextextended(session_id, 0) <> hashtextextended('', 0)",
            [store_id, hashes],
        )
        return np.array(sorted(row[0] for row in cursor.fetchall()), dtype=np.int64)


def _write(cursor: Any, store_id: int, bucket: int, columns: Columns) -> None:
    if not len(columns):
        return
    cursor.execute(
        "INSERT INTO events_eventblock (store_id, bucket, events, first_at, last_at, customers, "
        "times, names, sessions) VALUES (%s, %s, %s, to_timestamp(%s / 1000.0), "
        "to_timestamp(%s / 1000.0), %s, %s, %s, %s)",
        [
            store_id,
            bucket,
            len(columns),
            int(columns.times.min()),
            int(columns.times.max()),
            *columns.pack(),
        ],
    )


def _delete(cursor: Any, store_id: int, bucket: int, seqs: list[int]) -> None:
    if seqs:
        cursor.execute(
            "DELETE FROM events_eventblock WHERE store_id = %s AND bucket = %s AND seq = ANY(%s)",
            [store_id, bucket, seqs],
        )


@transaction.atomic
def blocks_compact(*, store_id: int) -> int:
    """Sort the store's delta blocks into its buckets: each bucket's deltas become a sorted
    block, merged with the bucket's newest block while that is small, and all of a bucket's
    blocks merged into one when it has more than MAX_BLOCKS_PER_BUCKET. Identified anonymous
    ids' older copies are dropped on the way. Returns the number of deltas consumed.
    One compaction per store at a time (an advisory lock); batches keep adding deltas
    meanwhile, which the next compaction takes."""
    return compact_taking(store_id=store_id)[0]


@transaction.atomic
def compact_taking(*, store_id: int) -> tuple[int, Columns]:
    """blocks_compact, also answering the events it took from the deltas (arrival order):
    exactly what was added since the previous compaction, for a caller that compacts and
    uses them in one transaction (the metrics' incremental recompute)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [LOCK_NAMESPACE, store_id])
        delta_blocks = _blocks(cursor, store_id, DELTA)
        if not delta_blocks:
            return 0, Columns.empty()
        linked = _linked_anonymous_ids(cursor, store_id)
        deltas = _without(Columns.concat([c for _seq, c in delta_blocks]), linked)
        delta_bucket = deltas.customers % BUCKETS
        for bucket in range(BUCKETS):
            pending = deltas.take(delta_bucket == bucket)
            if not len(pending):
                continue
            # The blocks' sizes first: only the blocks merged are fetched (a bucket's big block
            # is ~18 MB at 10 million events).
            cursor.execute(
                "SELECT seq, events FROM events_eventblock WHERE store_id = %s AND bucket = %s "
                "ORDER BY seq",
                [store_id, bucket],
            )
            existing = cursor.fetchall()
            total = sum(events for _s, events in existing) + len(pending)
            if len(existing) >= MAX_BLOCKS_PER_BUCKET:
                merge = existing  # everything into one block
            elif existing and existing[-1][1] * 4 < total:
                merge = existing[-1:]  # the newest block is small: grow it
            else:
                merge = []
            seqs = [seq for seq, _events in merge]
            parts = [_without(c, linked) for _s, c in _blocks(cursor, store_id, bucket, seqs)]
            _delete(cursor, store_id, bucket, seqs)
            _write(cursor, store_id, bucket, Columns.merge([*parts, pending.sorted()]))
        _delete(cursor, store_id, DELTA, [seq for seq, _c in delta_blocks])
        return len(delta_blocks), deltas


def blocks_rewrite(
    *, store_id: int, drop_customers: list[int] | None = None, before_ms: int | None = None
) -> int:
    """Remove from the store's blocks the events of `drop_customers` (an erasure) or older
    than `before_ms` (retention), in the caller's transaction. Returns the events removed."""
    drop = np.array(sorted(drop_customers or []), dtype=np.int64)
    removed = 0
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [LOCK_NAMESPACE, store_id])
        if before_ms is not None:
            buckets = [DELTA, *range(BUCKETS)]
        else:
            buckets = [DELTA, *sorted({int(c) % BUCKETS for c in drop})]
        for bucket in buckets:
            for seq, columns in _blocks(cursor, store_id, bucket):
                keep = np.ones(len(columns), dtype=bool)
                if drop.size:
                    keep &= ~np.isin(columns.customers, drop)
                if before_ms is not None:
                    keep &= columns.times >= before_ms
                if keep.all():
                    continue
                removed += int((~keep).sum())
                _delete(cursor, store_id, bucket, [seq])
                _write(cursor, store_id, bucket, columns.take(keep))
        if removed:
            # Events removed, not added: the metrics recompute everything next time.
            now = clock.now()
            cursor.execute(
                "INSERT INTO events_recomputemark (store_id, day, marked_at, full_recompute) "
                "VALUES (%s, %s, %s, true) "
                "ON CONFLICT (store_id, day) DO UPDATE SET full_recompute = true",
                [store_id, now.astimezone(UTC).date(), now],
            )
    return removed


# One statement, so one snapshot: the blocks it deletes and the raw rows it reads are the same
# moment's. A batch committing meanwhile is in both (its rows read, its delta deleted) or in
# neither (its delta stays for the next compaction). The rows come sorted by (bucket, customer,
# time, arrival) into a group aggregate, which takes each bucket's rows in that order: the four
# aggregates' columns line up, as in DELTA_FROM_SQL. PostgreSQL sorts on disk past work_mem and
# holds one bucket's columns at a time (28 bytes an event).
_REBUILD = f"""
WITH gone AS (
    DELETE FROM events_eventblock WHERE store_id = %(store)s
), rows AS (
    SELECT customer_id %% {BUCKETS} AS bucket, customer_id, occurred_at, event_name_id,
           session_id
    FROM events_event WHERE store_id = %(store)s
    ORDER BY 1, customer_id, {EPOCH_MS_SQL}, seq
)
INSERT INTO events_eventblock (store_id, bucket, events, first_at, last_at, customers, times,
                               names, sessions)
SELECT %(store)s, bucket, count(*), min(occurred_at), max(occurred_at),
       string_agg(int8send(customer_id), ''::bytea),
       string_agg(int8send({EPOCH_MS_SQL}), ''::bytea),
       string_agg(int4send(event_name_id), ''::bytea),
       string_agg(int8send({SESSION_HASH_SQL}), ''::bytea)
FROM rows GROUP BY bucket
RETURNING events
"""  # noqa: S608 - built from constants


@transaction.atomic
def blocks_rebuild(*, store_id: int) -> int:
    """Replace the store's compact form with one made from its raw events: one block per
    bucket, sorted by (customer, time), arrival order breaking ties. Nothing passes through
    Python; PostgreSQL's memory is bounded by work_mem and one bucket's columns (a bytea may
    hold up to 1 GB: 134 million events a bucket). Compactions and recomputes' reads wait
    (the store's blocks lock). Returns the events in the new blocks."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [LOCK_NAMESPACE, store_id])
        # Each bucket as one group in turn (a hash aggregate would hold all sixteen at once).
        cursor.execute("SET LOCAL enable_hashagg = off")
        cursor.execute(_REBUILD, {"store": store_id})
        return sum(row[0] for row in cursor.fetchall())
