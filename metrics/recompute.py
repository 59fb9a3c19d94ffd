"""The metrics' work: a store's stored funnel results, recomputed from the compact form of its
events, and results for other ranges, computed on request and kept a while.

A recompute takes the store's metrics lock (a session-level advisory lock: two recomputes of a
store never interleave, and a worker that dies releases it with its connection) and consumes
the store's recompute marks in a short transaction. Then, in one transaction, it compacts the
pending deltas and either updates the stored results with the change of the customers those
events touched (metrics/incremental.py: after new events, while the results' basis holds) or
computes them all again from the compact form and replaces them. A reader sees the previous
recompute's results or this one's, never a mix. A worker killed before that transaction
commits leaves the previous results and the pending deltas; the task is delivered again (acks
late: Redis hands a dead worker's message out again once the broker's visibility timeout, an
hour, has passed), and a later batch's recompute takes them meanwhile. Twice gives the same
rows. tests/metrics/test_worker_kill.py kills a real worker inside a full recompute and inside
an incremental one.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from django.conf import settings
from django.db import connection, transaction

from accounts.models import Store
from core import clock
from core import services as core_services
from core.models import Task
from events import blocks
from metrics import incremental
from metrics.mapping import Mapping, NoActiveJourney, store_mapping, with_first_purchases
from metrics.models import FunnelResult
from metrics.rollups import Period, families_compute, standard_families
from metrics.signals import results_written

logger = logging.getLogger(__name__)

DEFAULT_WINDOW_DAYS = 30
_LOCK_NAMESPACE = 7_214_005  # pg_advisory_lock(namespace, store): one recompute a store
# A result for another range is served while younger than this, even when newer events have
# been recomputed into the standard periods since (a client polling a task reads it back).
CUSTOM_FRESH = timedelta(minutes=5)
RECOMPUTE_KIND = "metrics.recompute"
CUSTOM_KIND = "metrics.custom_range"


@contextmanager
def _advisory_lock(namespace: int, store_id: int) -> Iterator[None]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s, %s)", [namespace, store_id])
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [namespace, store_id])


@transaction.atomic
def _marks_consume(store_id: int) -> tuple[int, bool]:
    """Before reading: a batch that commits after this marks its day again, for the next
    recompute; one that committed before is in what this one reads. Answers the marks taken
    and whether one of them asks for a full recompute (events moved or removed); then the
    stored results lose their basis in the same short transaction, so that a recompute that
    dies after it still leaves the next one full. (Short: a batch marking the same day waits
    for it.)"""
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM events_recomputemark WHERE store_id = %s RETURNING full_recompute",
            [store_id],
        )
        rows = cursor.fetchall()
    full = any(row[0] for row in rows)
    if full:
        FunnelResult.objects.filter(store_id=store_id).update(basis="")
    return len(rows), full


def _full_marked(store_id: int) -> bool:
    """A mark asking for a full recompute committed since the marks were taken (its events
    may be among the deltas compacted since)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT EXISTS (SELECT 1 FROM events_recomputemark "
            "WHERE store_id = %s AND full_recompute)",
            [store_id],
        )
        return bool(cursor.fetchone()[0])


def _progress(task: Task | None) -> Any:
    if task is None:
        return None

    def report(done: int, total: int) -> None:
        core_services.task_progress(task=task, done=done, total=total, phase="Computing the funnel")

    return report


def _compute(
    store: Store,
    mapping: Mapping,
    families: list[list[Period]],
    window_days: int,
    task: Task | None,
) -> list[FunnelResult]:
    now = clock.now()
    # Compaction and erasures rewrite blocks: they wait while the engine reads them, so that
    # every event is read once.
    with _advisory_lock(blocks.LOCK_NAMESPACE, store.pk):
        return families_compute(
            store=store,
            mapping=mapping,
            families=families,
            window_days=window_days,
            retention_days=store.retention_days,
            now=now,
            progress=_progress(task),
        )


def results_recompute(
    *, store_id: int, task: Task | None = None, full: bool = False
) -> dict[str, Any]:
    """Recompute the store's standard periods: only the customers touched by events added
    since the last recompute when that is enough (metrics/incremental.py), else everything
    (`full`: always). Returns what it did, for the task's result.

    One transaction from the compaction to the results: a worker killed anywhere leaves the
    deltas and the previous results as they were, for the recompute that follows (the task
    delivered again, or the next batch's)."""
    store = Store.objects.filter(pk=store_id).first()
    if store is None:
        return {"results": 0}
    with _advisory_lock(_LOCK_NAMESPACE, store_id):
        marks, full_marked = _marks_consume(store_id)
        with transaction.atomic():
            return _recompute(store, marks, full or full_marked, task)


def _recompute(store: Store, marks: int, full: bool, task: Task | None) -> dict[str, Any]:
    store_id = store.pk
    _blocks_count, deltas = blocks.compact_taking(store_id=store_id)
    try:
        mapping = store_mapping(store=store, first_purchases=False)
    except NoActiveJourney:
        FunnelResult.objects.filter(store=store).delete()
        return {"results": 0, "marks": marks, "journey": None}
    window_days = store.funnel_window_days
    today = clock.now().astimezone(ZoneInfo(store.time_zone or "UTC")).date()
    families = standard_families(today)
    basis = incremental.basis(
        store=store,
        mapping=mapping,
        window_days=window_days,
        retention_days=store.retention_days,
        today=today,
    )
    if not (full or _full_marked(store_id)):
        try:
            with transaction.atomic():  # a savepoint: nothing of a failed attempt stays
                done = _incremental(store, mapping, families, window_days, deltas, basis)
        except incremental.Inconsistent:
            logger.warning("Store %s: stored results inconsistent; recomputing all", store_id)
            done = None
        if done is not None:
            done["marks"] = marks
            return done
    mapping = with_first_purchases(mapping, store_id=store_id)
    results = _compute(store, mapping, families, window_days, task)
    computed_at = results[0].computed_at if results else clock.now()
    for result in results:
        result.basis = basis
    FunnelResult.objects.filter(store=store).exclude(kind=FunnelResult.Kind.CUSTOM).delete()
    _customs_drop(store, {(r.start, r.end, r.window_days) for r in results}, computed_at)
    FunnelResult.objects.bulk_create(results)
    results_written.send(sender=FunnelResult, store_id=store_id)
    return {
        "results": len(results),
        "marks": marks,
        "mode": "full",
        "events_read": results[0].events_read if results else 0,
        "computed_at": computed_at.isoformat(),
    }


def _customs_drop(store: Store, standard: set[tuple[date, date, int]], computed_at: Any) -> None:
    """Results of other ranges that a standard period now holds, or older than CUSTOM_FRESH."""
    stale = FunnelResult.objects.filter(store=store, kind=FunnelResult.Kind.CUSTOM)
    for custom in stale.only("id", "start", "end", "window_days", "computed_at"):
        if (custom.start, custom.end, custom.window_days) in standard or (
            custom.computed_at < computed_at - CUSTOM_FRESH
        ):
            custom.delete()


def _incremental(
    store: Store,
    mapping: Mapping,
    families: list[list[Period]],
    window_days: int,
    deltas: blocks.Columns,
    basis: str,
) -> dict[str, Any] | None:
    """The stored standard results updated with the touched customers' change, or None when
    they cannot be (another basis, none stored, too many customers touched)."""
    stored = list(
        FunnelResult.objects.filter(store=store)
        .exclude(kind=FunnelResult.Kind.CUSTOM)
        .defer("entered", "seconds")
    )
    if not stored or any(r.basis != basis for r in stored):
        return None
    now = clock.now()
    customers = np.unique(deltas.customers)
    if customers.size > incremental.MAX_CUSTOMERS:
        return None  # an import of a large file: all at once is about as quick
    if customers.size:
        customers = incremental.customers_touched(
            store_id=store.pk, customers=customers, deltas=deltas
        )
    if customers.size > incremental.MAX_CUSTOMERS:
        return None
    changed: list[FunnelResult] = []
    if customers.size:
        before, after = incremental.contributions(
            store=store,
            mapping=mapping,
            families=families,
            window_days=window_days,
            now=now,
            customers=customers,
            deltas=deltas,
        )
        changed = incremental.results_apply(
            stored=stored, before=before, after=after, customers=customers, window_days=window_days
        )
    events_read = store_events_total(store_id=store.pk)
    for row in stored:
        end_ms = datetime.combine(
            row.end + timedelta(days=1), time.min, tzinfo=ZoneInfo(store.time_zone or "UTC")
        )
        row.complete = end_ms + timedelta(days=row.window_days) <= now
        row.computed_at = now
        row.events_read = events_read
    FunnelResult.objects.bulk_update(stored, ["complete", "computed_at", "events_read"])
    incremental.results_write(changed)
    _customs_drop(store, {(r.start, r.end, r.window_days) for r in stored}, now)
    results_written.send(sender=FunnelResult, store_id=store.pk)
    return {
        "results": len(stored),
        "mode": "incremental",
        "customers": int(customers.size),
        "events_added": len(deltas),
        "changed": len(changed),
        "events_read": events_read,
        "computed_at": now.isoformat(),
    }


def custom_compute(
    *, store: Store, start: date, end: date, window_days: int, task: Task | None = None
) -> FunnelResult:
    """The funnel of any range, stored as a custom result (replacing an older one of the same
    range and window)."""
    mapping = store_mapping(store=store)
    [result] = _compute(
        store, mapping, [[Period(FunnelResult.Kind.CUSTOM, start, end)]], window_days, task
    )
    with transaction.atomic():
        FunnelResult.objects.filter(
            store=store,
            kind=FunnelResult.Kind.CUSTOM,
            start=start,
            end=end,
            window_days=window_days,
        ).delete()
        result.save()
    return result


def ranges_compute(
    *, store: Store, ranges: list[tuple[date, date]], window_days: int
) -> list[FunnelResult]:
    """Unsaved results for a few ranges at once (one read of the compact form): the funnel,
    bounce rate and retention of each, for a caller that keeps what it needs (an experiment's
    two windows). Raises NoActiveJourney."""
    mapping = store_mapping(store=store)
    families = [[Period(FunnelResult.Kind.CUSTOM, start, end)] for start, end in ranges]
    return _compute(store, mapping, families, window_days, None)


def store_events_total(*, store_id: int) -> int:
    """Events in the store's compact form: what a computation reads."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT coalesce(sum(events), 0) FROM events_eventblock WHERE store_id = %s",
            [store_id],
        )
        return int(cursor.fetchone()[0])


def sync_limit() -> int:
    return int(settings.METRICS_SYNC_EVENTS)
