"""The store's figures over time, from the recompute's stored ISO weeks and calendar months
(metrics/rollups.py): conversion and CSAT per stage, the bounce rate and repeat-purchase
retention, each period marked when it is still open; and the experiments that went live in
them, as markers at their go-live day."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from accounts.models import Store
from core import clock
from core.stats import Proportion
from dashboards.labels import stage_label
from journeys.models import Experiment
from metrics.models import FunnelResult
from surveys import selectors as survey_selectors

GRAINS = {"week": FunnelResult.Kind.WEEK, "month": FunnelResult.Kind.MONTH}
SATISFIED = (4, 5)  # CSAT: the share of 4 and 5 on the 1–5 scale


@dataclass
class TrendPeriod:
    start: date
    end: date
    label: str
    ended: bool  # the period's last day is over
    complete: bool  # end + the funnel window has passed: late converters are all in
    retention_complete: bool  # end + the retention days has passed
    conversion: dict[int, Proportion | None]  # per tracked stage id, from the stage before
    csat: dict[int, Proportion | None]  # per stage id
    bounce: Proportion
    retention: Proportion


@dataclass
class TrendMarker:
    """An experiment's go-live day, on the period (a category of the charts) that holds it."""

    label: str
    day: date
    title: str
    stage: str


@dataclass
class Trends:
    grain: str
    stages: list[dict[str, Any]] = field(default_factory=list)  # id, label, tracked, first
    periods: list[TrendPeriod] = field(default_factory=list)
    markers: list[TrendMarker] = field(default_factory=list)


def _label(grain: str, start: date) -> str:
    if grain == "week":
        year, week, _day = start.isocalendar()
        return f"{year}-W{week:02d}"
    return f"{start:%Y-%m}"


def _after(day: date, zone: ZoneInfo, days: int) -> datetime:
    return datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone) + timedelta(days=days)


def _csat(days: dict[Any, dict[int, int]], start: date, end: date) -> Proportion | None:
    satisfied = total = 0
    for day, counts in days.items():
        if start <= day <= end:
            total += sum(counts.values())
            satisfied += sum(n for score, n in counts.items() if score in SATISFIED)
    return Proportion(satisfied, total) if total else None


def _markers(store: Store, periods: list[TrendPeriod]) -> list[TrendMarker]:
    first, last = periods[0].start, periods[-1].end
    markers = []
    for experiment in Experiment.objects.filter(
        store=store, started_on__gte=first, started_on__lte=last
    ).order_by("started_on", "id"):
        period = next(p for p in periods if p.start <= experiment.started_on <= p.end)
        markers.append(
            TrendMarker(
                label=period.label,
                day=experiment.started_on,
                title=experiment.title,
                stage=experiment.stage_label,
            )
        )
    return markers


def store_trends(*, store: Store, grain: str) -> Trends:
    """The stored periods of `grain` ("week" or "month"), oldest first, and the experiments
    that went live in them. Five queries."""
    trends = Trends(grain=grain)
    results = list(
        FunnelResult.objects.filter(store=store, kind=GRAINS[grain])
        .defer("entered", "names")
        .order_by("start")
    )
    # A store's first weeks or months before any event are no trend: start at the first
    # period with a customer or a session in it.
    while (
        results
        and not results[0].sessions
        and not any(s["funnel"] for s in results[0].stages if s["tracked"])
    ):
        results.pop(0)
    if not results:
        return trends
    zone = ZoneInfo(store.time_zone or "UTC")
    now = clock.now()
    latest = results[-1]
    first_tracked = next((s["id"] for s in latest.stages if s["tracked"]), None)
    trends.stages = [
        {
            "id": s["id"],
            "label": stage_label(s["moment"], s["name"]),
            "moment": s["moment"],
            "name": s["name"],
            "tracked": s["tracked"],
            "first": s["id"] == first_tracked,
        }
        for s in latest.stages
    ]
    scores = survey_selectors.scores_by_day(
        store=store,
        start=datetime.combine(results[0].start, time.min, tzinfo=zone),
        end=_after(results[-1].end, zone, 0),
        time_zone=store.time_zone,
    )
    csat_days: dict[int, dict[Any, dict[int, int]]] = defaultdict(dict)
    for stage in latest.stages:
        key = (stage["moment"], "" if stage["moment"] else stage["name"], "csat")
        csat_days[stage["id"]] = scores.get(key, {})
    for result in results:
        conversion: dict[int, Proportion | None] = {}
        previous: int | None = None
        for stage in result.stages:
            if not stage["tracked"]:
                continue
            if previous is not None:
                conversion[stage["id"]] = Proportion(stage["funnel"], previous)
            previous = stage["funnel"]
        trends.periods.append(
            TrendPeriod(
                start=result.start,
                end=result.end,
                label=_label(grain, result.start),
                ended=_after(result.end, zone, 0) <= now,
                complete=_after(result.end, zone, result.window_days) <= now,
                retention_complete=_after(result.end, zone, result.retention_days) <= now,
                conversion=conversion,
                csat={
                    s["id"]: _csat(csat_days[s["id"]], result.start, result.end)
                    for s in trends.stages
                },
                bounce=Proportion(result.bounced, result.sessions),
                retention=Proportion(result.returned, result.first_buyers),
            )
        )
    trends.markers = _markers(store, trends.periods)
    return trends
