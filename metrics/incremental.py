"""The incremental recompute: after a batch, only the customers its events touched are
recomputed, and their change is applied to the stored standard results.

Every figure of a result is a sum over customers (the funnel, reached, the events per name,
the first buyers and those who returned, the converters' seconds and the entered customers),
except the bounce rate's sessions, which a session's events decide whoever sent them. So:
- the customers touched are those of the new events (the deltas the compaction took) and
  every customer with an event in one of their sessions;
- their events now are read from the raw rows (the index on (store, customer, time)), and
  their events before are those less the new ones;
- both are computed as the full recompute computes a bucket (metrics/rollups.py), and each
  stored result becomes itself − before + after: counts by arithmetic, the converters'
  seconds as multisets, the entered customers by replacing the touched customers' rows.

This holds only while nothing else changed since the stored results were computed: the same
journey mapping, window, retention days, store day and time zone (the results' basis), and no
event moved or removed (identify, erasure, retention mark their days `full`). Otherwise, or
when the stored rows disagree with the "before" computed here (Inconsistent), the caller
recomputes everything. tests/metrics/test_incremental.py holds it to the full recompute on
random timelines.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from datetime import date, datetime
from typing import Any

import numpy as np
import numpy.typing as npt
import psycopg
from django.db import connection
from psycopg.types.json import Jsonb

from accounts.models import Store
from events import blocks
from metrics.engine import Repeat
from metrics.mapping import Mapping, first_purchases
from metrics.models import FunnelResult
from metrics.rollups import (
    Entered,
    Period,
    families_compute,
    histogram_edges,
    pack_entered,
    pack_seconds,
    seconds_figures,
    unpack_seconds,
)

Ints = npt.NDArray[np.int64]
# Beyond this many customers touched a full recompute is about as quick.
MAX_CUSTOMERS = 100_000
BASIS_VERSION = 1


class Inconsistent(Exception):
    """The stored results are not what the touched customers' events before the batch give:
    recompute everything."""


def basis(
    *, store: Store, mapping: Mapping, window_days: int, retention_days: int, today: date
) -> str:
    """What the stored results were computed for: a result of another basis is recomputed in
    full, never updated."""
    data = {
        "version": BASIS_VERSION,
        "journey": mapping.journey_id,
        "stages": [[s.id, s.moment, s.name, s.event_names, s.tracked] for s in mapping.stages],
        "window_days": window_days,
        "retention_days": retention_days,
        "today": today.isoformat(),
        "zone": store.time_zone or "UTC",
    }
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def customers_touched(*, store_id: int, customers: Ints, deltas: blocks.Columns) -> Ints:
    """The new events' customers (`customers`, ascending) and every customer with an event in
    one of their sessions."""
    sharing = blocks.session_customers(store_id=store_id, session_hashes=deltas.sessions)
    touched: Ints = np.union1d(customers, sharing)
    return touched


def _records(columns: blocks.Columns) -> npt.NDArray[Any]:
    records = np.empty(len(columns), dtype=[("c", "<i8"), ("t", "<i8"), ("n", "<i4"), ("s", "<i8")])
    records["c"], records["t"] = columns.customers, columns.times
    records["n"], records["s"] = columns.names, columns.sessions
    return records


def events_before(after: blocks.Columns, deltas: blocks.Columns) -> blocks.Columns:
    """`after` less one event equal to each of `deltas` (customer, time, name, session): the
    touched customers' events before the batch. Raises Inconsistent when a new event is not
    among them."""
    if not len(deltas):
        return after
    a, d = _records(after), _records(deltas)
    keys, inverse = np.unique(np.concatenate([a, d]), return_inverse=True)
    inverse = inverse.reshape(-1)
    a_key, d_key = inverse[: a.size], inverse[a.size :]
    need = np.bincount(d_key, minlength=keys.size)
    if (need > np.bincount(a_key, minlength=keys.size)).any():
        raise Inconsistent("a new event is not among its customer's events")
    order = np.argsort(a_key, kind="stable")
    ranked = a_key[order]
    rank = np.arange(ranked.size) - np.searchsorted(ranked, ranked, side="left")
    drop = np.zeros(a.size, dtype=bool)
    drop[order[rank < need[ranked]]] = True
    return after.take(~drop)


def _earliest_purchases(events: blocks.Columns, purchase: int) -> dict[int, int]:
    bought = events.names == purchase
    earliest: dict[int, int] = {}
    for customer, at in zip(
        events.customers[bought].tolist(), events.times[bought].tolist(), strict=True
    ):
        earliest[customer] = min(at, earliest.get(customer, at))
    return earliest


def first_purchases_before(
    now: dict[int, int], before: blocks.Columns, deltas: blocks.Columns, purchase: int
) -> dict[int, int]:
    """Each customer's first purchase before the batch: the one kept now unless the batch
    brought it (a purchase of the batch at that instant), then the earliest purchase among
    their events before, if any."""
    new_first = _earliest_purchases(deltas, purchase)
    earlier = _earliest_purchases(before, purchase)
    result = {}
    for customer, first in now.items():
        if customer not in new_first or first < new_first[customer]:
            result[customer] = first
        elif customer in earlier:
            result[customer] = earlier[customer]
    return result


def contributions(
    *,
    store: Store,
    mapping: Mapping,
    families: list[list[Period]],
    window_days: int,
    now: datetime,
    customers: Ints,
    deltas: blocks.Columns,
) -> tuple[list[FunnelResult], list[FunnelResult]]:
    """The touched customers' share of every standard result, before the batch and after."""
    after = blocks.customers_columns(store_id=store.pk, customer_ids=customers)
    before = events_before(after, deltas)
    first_now = first_purchases(store_id=store.pk, customers=[int(c) for c in customers])
    results = []
    for events, first in (
        (
            before,
            first_purchases_before(first_now, before, deltas, mapping.repeat.purchase)
            if mapping.repeat is not None
            else {},
        ),
        (after, first_now),
    ):
        repeat = (
            Repeat(mapping.repeat.purchase, mapping.repeat.repeat, first)
            if mapping.repeat is not None
            else None
        )
        results.append(
            families_compute(
                store=store,
                mapping=replace(mapping, repeat=repeat),
                families=families,
                window_days=window_days,
                retention_days=store.retention_days,
                now=now,
                buckets=[events],
            )
        )
    return results[0], results[1]


def _key(result: FunnelResult) -> tuple[str, date, date]:
    return (result.kind, result.start, result.end)


def _multiset(old: Ints, minus: Ints, plus: Ints) -> Ints:
    """old − minus + plus, each ascending; ascending. Raises Inconsistent when `minus` is not
    in `old`."""
    if minus.size:
        values, counts = np.unique(minus, return_counts=True)
        first = np.searchsorted(old, values, side="left")
        last = first + counts - 1
        if (last >= old.size).any() or (old[np.minimum(last, old.size - 1)] != values).any():
            raise Inconsistent("seconds to convert stored do not hold the customers' before")
        keep = np.ones(old.size, dtype=bool)
        # The runs [first, last] of each value taken out: a mark at each run's start, undone
        # after its end, summed.
        marks = np.zeros(old.size + 1, dtype=np.int64)
        np.add.at(marks, first, 1)
        np.add.at(marks, last + 1, -1)
        keep[np.cumsum(marks[:-1]) > 0] = False
        old = old[keep]
    if not plus.size:
        return old
    result: Ints = np.insert(old, np.searchsorted(old, plus, side="right"), plus)
    return result


def _entered_update(old: bytes, before: bytes, after: bytes, customers: Ints) -> bytes:
    """The stored entered customers (ordered by entry, then customer) with the touched
    customers' rows replaced: the others stay in order, the new rows are put in their
    places."""
    stored = Entered.unpack(old)
    mine = np.isin(stored.customers, customers)
    removed = pack_entered(
        stored.customers[mine],
        stored.levels[mine].astype(np.int64),
        stored.entries[mine],
        stored.lasts[mine],
        ordered=True,
    )
    if removed != before:
        raise Inconsistent("the entered customers stored are not the customers' before")
    keep = ~mine
    kept_customers, kept_entries = stored.customers[keep], stored.entries[keep]
    new = Entered.unpack(after)  # ordered by (entry, customer) too
    at = np.searchsorted(kept_entries, new.entries, side="left")
    ties = np.searchsorted(kept_entries, new.entries, side="right")
    for i in np.flatnonzero(ties > at):  # the same entry instant: by customer
        at[i] += int(np.searchsorted(kept_customers[at[i] : ties[i]], new.customers[i]))
    return pack_entered(
        np.insert(kept_customers, at, new.customers),
        np.insert(stored.levels[keep], at, new.levels).astype(np.int64),
        np.insert(kept_entries, at, new.entries),
        np.insert(stored.lasts[keep], at, new.lasts),
        ordered=True,
    )


def _same(before: FunnelResult, after: FunnelResult) -> bool:
    return (
        before.stages == after.stages
        and before.names == after.names
        and bytes(before.entered) == bytes(after.entered)
        and bytes(before.seconds) == bytes(after.seconds)
        and (before.sessions, before.bounced, before.first_buyers, before.returned)
        == (after.sessions, after.bounced, after.first_buyers, after.returned)
        and before.events_counted == after.events_counted
    )


def blobs_fetch(ids: list[int]) -> dict[int, tuple[bytes, bytes]]:
    """The entered customers and seconds of these stored results, in binary (as hex text,
    Django's cursor takes several times as long for the megabytes of a 90-day period)."""
    if not ids:
        return {}
    with connection.cursor() as cursor, psycopg.Cursor(cursor.cursor.connection) as raw:
        raw.execute(
            "SELECT id, entered, seconds FROM metrics_funnelresult WHERE id = ANY(%s)",
            [ids],
            binary=True,
        )
        return {row[0]: (bytes(row[1]), bytes(row[2])) for row in raw.fetchall()}


def results_apply(
    *,
    stored: list[FunnelResult],
    before: list[FunnelResult],
    after: list[FunnelResult],
    customers: Ints,
    window_days: int,
) -> list[FunnelResult]:
    """The stored results (entered and seconds deferred) each made itself − before + after;
    answers those whose figures changed, with their entered and seconds set (the others only
    need their times). Raises Inconsistent when the stored rows are not the periods
    computed."""
    by_key = {_key(r): r for r in stored}
    if len(by_key) != len(stored) or set(by_key) != {_key(r) for r in after}:
        raise Inconsistent("the stored periods are not the standard periods")
    bins = np.array(histogram_edges(window_days), dtype=np.int64)
    pairs = [(b, a) for b, a in zip(before, after, strict=True) if not _same(b, a)]
    blobs = blobs_fetch([by_key[_key(a)].pk for _b, a in pairs])
    changed = []
    for b, a in pairs:
        row = by_key[_key(a)]
        entered, stored_seconds = blobs[row.pk]
        later = sum(1 for s in a.stages if s["tracked"]) - 1
        seconds = [
            _multiset(old, minus, plus)
            for old, minus, plus in zip(
                unpack_seconds(stored_seconds, later),
                unpack_seconds(bytes(b.seconds), later),
                unpack_seconds(bytes(a.seconds), later),
                strict=True,
            )
        ]
        stages = []
        k = 0
        for old, minus, plus in zip(row.stages, b.stages, a.stages, strict=True):
            figures = dict(plus)
            if plus["tracked"]:
                if old["id"] != plus["id"] or not old["tracked"]:
                    raise Inconsistent("the stored stages are not the mapping's")
                for field in ("reached", "funnel"):
                    figures[field] = old[field] - minus[field] + plus[field]
                if k > 0:
                    figures.update(seconds_figures(seconds[k - 1], bins))
                k += 1
            stages.append(figures)
        names = dict(row.names)
        for name, count in b.names.items():
            names[name] = names.get(name, 0) - count
        for name, count in a.names.items():
            names[name] = names.get(name, 0) + count
        if any(count < 0 for count in names.values()):
            raise Inconsistent("the stored events per name are not the customers' before")
        row.stages = stages
        row.names = {name: count for name, count in names.items() if count}
        row.seconds = pack_seconds(seconds)
        row.entered = _entered_update(entered, bytes(b.entered), bytes(a.entered), customers)
        for field in ("events_counted", "sessions", "bounced", "first_buyers", "returned"):
            setattr(row, field, getattr(row, field) - getattr(b, field) + getattr(a, field))
        changed.append(row)
    return changed


def results_write(rows: list[FunnelResult]) -> None:
    """The changed results' figures, the entered customers and seconds sent in binary."""
    if not rows:
        return
    with connection.cursor() as cursor, psycopg.Cursor(cursor.cursor.connection) as raw:
        raw.executemany(
            "UPDATE metrics_funnelresult SET stages = %s, names = %s, entered = %s, "
            "seconds = %s, events_counted = %s, sessions = %s, bounced = %s, "
            "first_buyers = %s, returned = %s WHERE id = %s",
            [
                (
                    Jsonb(row.stages),
                    Jsonb(row.names),
                    bytes(row.entered),
                    bytes(row.seconds),
                    row.events_counted,
                    row.sessions,
                    row.bounced,
                    row.first_buyers,
                    row.returned,
                    row.pk,
                )
                for row in rows
            ],
        )
