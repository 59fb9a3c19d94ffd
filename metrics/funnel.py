"""A store's moment-of-truth funnel for a period, as the API and the pages read it: the stored
result of the recompute tasks when the period is a standard one (metrics/recompute.py), else a
result computed for the range and kept a while; survey figures per stage read as they are.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Max

from accounts.models import Store
from core import clock
from core.stats import Change, Proportion, proportion_change
from metrics import recompute
from metrics.mapping import Mapping, NoActiveJourney, store_mapping
from metrics.models import FunnelResult
from surveys import selectors as survey_selectors
from surveys.stats import SURVEY_METRICS, survey_change

DEFAULT_WINDOW_DAYS = recompute.DEFAULT_WINDOW_DAYS

__all__ = [
    "DEFAULT_WINDOW_DAYS",
    "NoActiveJourney",
    "StoreFunnel",
    "compared_body",
    "funnel_body",
    "funnel_result",
    "store_funnel",
]


@dataclass
class StoreFunnel:
    result: FunnelResult
    time_zone: str
    # Per stage id: the survey figures (csat, nps, ces) of the stage's moment in the period.
    surveys: dict[int, dict[str, Any]] = field(default_factory=dict)

    @property
    def store_id(self) -> int:
        return self.result.store_id

    @property
    def journey_id(self) -> int:
        return self.result.journey_id

    @property
    def start(self) -> date:
        return self.result.start

    @property
    def end(self) -> date:
        return self.result.end

    @property
    def window_days(self) -> int:
        return self.result.window_days

    @property
    def complete(self) -> bool:
        """Read now, not when computed: a period is complete once its end plus the window has
        passed."""
        zone = ZoneInfo(self.time_zone or "UTC")
        end = datetime.combine(self.result.end + timedelta(days=1), time.min, tzinfo=zone)
        return end + timedelta(days=self.result.window_days) <= clock.now()

    @property
    def computed_at(self) -> datetime:
        return self.result.computed_at

    @property
    def events_counted(self) -> int:
        return self.result.events_counted

    @property
    def stages(self) -> list[dict[str, Any]]:
        return list(self.result.stages)


def period_bounds(store: Store, start: date, end: date) -> tuple[int, int]:
    """Days in the store's time zone, both included, as [first ms, last ms]."""
    zone = ZoneInfo(store.time_zone or "UTC")
    first = datetime.combine(start, time.min, tzinfo=zone)
    after = datetime.combine(end + timedelta(days=1), time.min, tzinfo=zone)
    return int(first.timestamp() * 1000), int(after.timestamp() * 1000) - 1


def _matches(result: FunnelResult, mapping: Mapping) -> bool:
    """Computed for the journey and mapping that are active now (a stage becomes tracked when
    its first event arrives)."""
    return result.journey_id == mapping.journey_id and [
        [s["id"], s["event_names"], s["tracked"]] for s in result.stages
    ] == [[s.id, s.event_names, s.tracked] for s in mapping.stages]


def _fresh(result: FunnelResult) -> bool:
    if result.kind != FunnelResult.Kind.CUSTOM:
        return True  # the tasks keep the standard periods up to date
    if result.computed_at >= clock.now() - recompute.CUSTOM_FRESH:
        return True
    latest = (
        FunnelResult.objects.filter(store_id=result.store_id)
        .exclude(kind=FunnelResult.Kind.CUSTOM)
        .aggregate(latest=Max("computed_at"))["latest"]
    )
    return latest is not None and result.computed_at >= latest


def funnel_result(
    *,
    store: Store,
    start: date,
    end: date,
    window_days: int,
    compute: bool = True,
    kind: str | None = None,
) -> FunnelResult | None:
    """The stored result of the range (of that `kind` only, when given), or one computed now
    (None when `compute` is false and there is none to serve). Raises NoActiveJourney."""
    mapping = store_mapping(store=store, first_purchases=False)
    rows = FunnelResult.objects.filter(store=store, start=start, end=end, window_days=window_days)
    if kind is not None:
        rows = rows.filter(kind=kind)
    stored = rows.order_by("-computed_at").first()
    if stored is not None and _matches(stored, mapping) and _fresh(stored):
        return stored
    if not compute:
        return None
    return recompute.custom_compute(store=store, start=start, end=end, window_days=window_days)


def with_surveys(store: Store, result: FunnelResult) -> StoreFunnel:
    """The result with the survey figures of each stage's moment in the period: answers to
    surveys whose moment is the stage's code, or whose custom stage is a custom stage's name."""
    zone = ZoneInfo(store.time_zone or "UTC")
    by_moment = {
        (row["moment"] or "", row["custom_stage"] or ""): row
        for row in survey_selectors.results_by_moment(
            store=store,
            start=datetime.combine(result.start, time.min, tzinfo=zone),
            end=datetime.combine(result.end + timedelta(days=1), time.min, tzinfo=zone),
        )
    }
    surveys = {}
    for stage in result.stages:
        key = (stage["moment"], "") if stage["moment"] else ("", stage["name"])
        row = by_moment.get(key)
        if row:
            surveys[stage["id"]] = {m: row[m] for m in ("csat", "nps", "ces")}
    return StoreFunnel(result, store.time_zone, surveys)


def store_funnel(
    *, store: Store, start: date, end: date, window_days: int = DEFAULT_WINDOW_DAYS
) -> StoreFunnel:
    """The funnel of the range, stored or computed now. Raises NoActiveJourney."""
    result = funnel_result(store=store, start=start, end=end, window_days=window_days)
    assert result is not None
    return with_surveys(store, result)


# --- The figures as the API and the pages show them


def funnel_body(funnel: StoreFunnel) -> dict[str, Any]:
    stages = []
    previous: int | None = None
    for stage in funnel.stages:
        figures: dict[str, Any] = {
            "id": stage["id"],
            "moment": stage["moment"],
            "name": stage["name"],
            "tracked": stage["tracked"],
            "reached": stage["reached"],
            "funnel": stage["funnel"],
            "conversion": None,
            "median_seconds_to_convert": None,
            "p90_seconds_to_convert": None,
            **{m: funnel.surveys.get(stage["id"], {}).get(m) for m in ("csat", "nps", "ces")},
        }
        if stage["tracked"]:
            if previous:
                figures["conversion"] = Proportion(stage["funnel"], previous).as_dict()
                figures["median_seconds_to_convert"] = stage["median_seconds_to_convert"]
                figures["p90_seconds_to_convert"] = stage["p90_seconds_to_convert"]
            previous = stage["funnel"]
        stages.append(figures)
    return {
        "store": funnel.store_id,
        "journey": funnel.journey_id,
        "start": funnel.start.isoformat(),
        "end": funnel.end.isoformat(),
        "window_days": funnel.window_days,
        "complete": funnel.complete,
        "computed_at": funnel.computed_at.isoformat(),
        "events_counted": funnel.events_counted,
        "stages": stages,
    }


FIGURES = (
    "reached",
    "funnel",
    "conversion",
    "median_seconds_to_convert",
    "p90_seconds_to_convert",
    "csat",
    "nps",
    "ces",
)


def _untested(current: Any, previous: Any) -> dict[str, Any]:
    """A count or a time: its difference, without a test (the rule tests rates and means)."""
    change = None if current is None or previous is None else current - previous
    return Change(change=change, p_value=None).as_dict()


def _figure_change(name: str, current: Any, previous: Any) -> Any:
    if current is None or previous is None:
        return None
    if name == "conversion":
        return proportion_change(
            current=Proportion(current["successes"], current["total"]),
            previous=Proportion(previous["successes"], previous["total"]),
        ).as_dict()
    if name in SURVEY_METRICS:
        return survey_change(kind=name, current=current, previous=previous)
    return _untested(current, previous)


def compared_body(body: dict[str, Any], before: dict[str, Any]) -> dict[str, Any]:
    """`body` with, per stage, `previous` (the same figures in `before`, the period of the
    same length just before) and `changes` (per figure: change, p_value, significant)."""
    earlier = {stage["id"]: stage for stage in before["stages"]}
    for stage in body["stages"]:
        old = earlier.get(stage["id"], {})
        stage["previous"] = {name: old.get(name) for name in FIGURES}
        stage["changes"] = {
            name: _figure_change(name, stage[name], old.get(name)) for name in FIGURES
        }
    body["previous"] = {
        key: before[key] for key in ("start", "end", "complete", "computed_at", "events_counted")
    }
    return body
