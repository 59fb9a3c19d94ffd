"""A store's moment-of-truth funnel for a period, computed on request from the compact form
of its events (events/blocks.py), a customer bucket at a time, with metrics/engine.py.

Not yet here (the metrics issue's later slices): rollups for the standard periods, the
recompute tasks and their locks, compare=previous, the customers list, bounce rate and
retention.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from django.db import connection

from accounts.models import Store
from core import clock
from core.errors import DomainError
from events import blocks
from events.models import EventName
from events.selectors import active_journey
from metrics.engine import Events, Repeat, funnel_fast
from surveys import selectors as survey_selectors

DEFAULT_WINDOW_DAYS = 30
# The derived event: every purchase after a customer's first ever also counts as one.
REPEAT_PURCHASE = "repeat_purchase"


class NoActiveJourney(DomainError):
    code = "no_active_journey"


@dataclass
class StageFunnel:
    id: int
    moment: str | None
    name: str
    tracked: bool
    reached: int | None = None
    funnel: int | None = None
    seconds_to_convert: list[int] = field(default_factory=list)
    surveys: dict[str, Any] = field(default_factory=dict)


@dataclass
class StoreFunnel:
    store_id: int
    journey_id: int
    start: date
    end: date
    window_days: int
    complete: bool
    computed_at: datetime
    events_counted: int
    stages: list[StageFunnel]


def period_bounds(store: Store, start: date, end: date) -> tuple[int, int]:
    """Days in the store's time zone, both included, as [first ms, last ms]."""
    zone = ZoneInfo(store.time_zone or "UTC")
    first = datetime.combine(start, time.min, tzinfo=zone)
    after = datetime.combine(end + timedelta(days=1), time.min, tzinfo=zone)
    return int(first.timestamp() * 1000), int(after.timestamp() * 1000) - 1


def _first_purchases(store: Store) -> dict[int, int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, (floor(extract(epoch from first_purchase_at) * 1000))::bigint "
            "FROM events_customer WHERE store_id = %s AND first_purchase_at IS NOT NULL",
            [store.pk],
        )
        return dict(cursor.fetchall())


def _has_repeat_purchase(store: Store, purchase: int | None) -> bool:
    if purchase is None:
        return False
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT EXISTS (SELECT 1 FROM events_event e JOIN events_customer c "
            "ON c.id = e.customer_id WHERE e.store_id = %s AND e.event_name_id = %s "
            "AND e.occurred_at > c.first_purchase_at)",
            [store.pk, purchase],
        )
        return bool(cursor.fetchone()[0])


def store_funnel(
    *, store: Store, start: date, end: date, window_days: int = DEFAULT_WINDOW_DAYS
) -> StoreFunnel:
    journey = active_journey(store=store)
    if journey is None:
        raise NoActiveJourney(
            "This store has no active journey: activate one to say which events mark its stages."
        )
    ids = dict(EventName.objects.filter(store=store).values_list("name", "pk"))
    repeat_id = max(ids.values(), default=0) + 1  # stands for the derived repeat_purchase
    purchase = ids.get("purchase")
    has_repeat = _has_repeat_purchase(store, purchase)
    stages = [
        StageFunnel(stage.pk, stage.moment or None, stage.name, tracked=False)
        for stage in journey.stages.all()
    ]
    tracked_names: list[frozenset[int]] = []
    for stage, figures in zip(journey.stages.all(), stages, strict=True):
        names = {n for tp in stage.touchpoints.all() for n in tp.event_names}
        stage_ids = {ids[n] for n in names if n in ids}
        if REPEAT_PURCHASE in names and has_repeat:
            stage_ids.add(repeat_id)
        if stage_ids:
            figures.tracked = True
            tracked_names.append(frozenset(stage_ids))
    first, last = period_bounds(store, start, end)
    window = window_days * 24 * 60 * 60 * 1000
    repeat = Repeat(purchase, repeat_id, _first_purchases(store)) if purchase else None
    count = len(tracked_names)
    funnel = [0] * count
    reached = [0] * count
    seconds: list[list[int]] = [[] for _ in range(count)]
    mapped = np.zeros(max(ids.values(), default=0) + 2, dtype=bool)
    for group in tracked_names:
        mapped[[n for n in group if n != repeat_id]] = True
    events_counted = 0
    for columns in blocks.store_buckets(store_id=store.pk):
        if not len(columns) or not count:
            continue
        in_period = (columns.times >= first) & (columns.times <= last)
        events_counted += int((mapped[columns.names] & in_period).sum())
        result = funnel_fast(
            Events(columns.customers, columns.times, columns.names),
            tracked_names,
            start=first,
            end=last,
            window=window,
            repeat=repeat,
            details=False,
        )
        for k in range(count):
            funnel[k] += result.funnel[k]
            reached[k] += result.reached[k]
            seconds[k] += result.seconds_to_convert[k]
    tracked = [s for s in stages if s.tracked]
    for k, figures in enumerate(tracked):
        figures.funnel, figures.reached = funnel[k], reached[k]
        figures.seconds_to_convert = sorted(seconds[k])
    zone = ZoneInfo(store.time_zone or "UTC")
    survey_start = datetime.combine(start, time.min, tzinfo=zone)
    survey_end = datetime.combine(end + timedelta(days=1), time.min, tzinfo=zone)
    by_moment = {
        (row["moment"] or "", row["custom_stage"] or ""): row
        for row in survey_selectors.results_by_moment(
            store=store, start=survey_start, end=survey_end
        )
    }
    for figures in stages:
        key = (figures.moment, "") if figures.moment else ("", figures.name)
        row = by_moment.get(key)
        if row:
            figures.surveys = {m: row[m] for m in ("csat", "nps", "ces")}
    now = clock.now()
    return StoreFunnel(
        store_id=store.pk,
        journey_id=journey.pk,
        start=start,
        end=end,
        window_days=window_days,
        complete=datetime.fromtimestamp((last + 1 + window) / 1000, tz=UTC) <= now,
        computed_at=now,
        events_counted=events_counted,
        stages=stages,
    )
