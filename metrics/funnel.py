"""A store's moment-of-truth funnel for a period, as the API and the pages read it: the stored
result of the recompute tasks when the period is a standard one (metrics/recompute.py), else a
result computed for the range and kept a while; survey figures per stage read as they are.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Max

from accounts.models import Store
from core import clock
from core.stats import Change, Proportion, proportion_change
from events.models import EventName
from journeys.models import Journey
from metrics import recompute
from metrics.mapping import PURCHASE, REPEAT_PURCHASE, Mapping, NoActiveJourney, store_mapping
from metrics.models import FunnelResult
from surveys import selectors as survey_selectors
from surveys.stats import SURVEY_METRICS, survey_change

DEFAULT_WINDOW_DAYS = recompute.DEFAULT_WINDOW_DAYS

__all__ = [
    "DEFAULT_WINDOW_DAYS",
    "NoActiveJourney",
    "StoreFunnel",
    "StoredFunnels",
    "compared_body",
    "funnel_body",
    "funnel_result",
    "store_funnel",
    "stored_funnels",
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
    # Without the entered customers (megabytes on a large store): the counts do not need them,
    # and the customer lists read them when they ask.
    stored = rows.defer("entered").order_by("-computed_at").first()
    if stored is not None and _matches(stored, mapping) and _fresh(stored):
        return stored
    if not compute:
        return None
    return recompute.custom_compute(store=store, start=start, end=end, window_days=window_days)


def _survey_period(store: Store, result: FunnelResult) -> tuple[datetime, datetime]:
    """The result's days in the store's time zone, as the half-open range answers fall in."""
    zone = ZoneInfo(store.time_zone or "UTC")
    return (
        datetime.combine(result.start, time.min, tzinfo=zone),
        datetime.combine(result.end + timedelta(days=1), time.min, tzinfo=zone),
    )


def _stage_surveys(
    result: FunnelResult, by_moment: dict[tuple[str, str], dict[str, Any]]
) -> dict[int, dict[str, Any]]:
    """Per stage id: the figures of the surveys of the stage's moment code, or of a custom
    stage's name."""
    surveys = {}
    for stage in result.stages:
        key = (stage["moment"], "") if stage["moment"] else ("", stage["name"])
        row = by_moment.get(key)
        if row:
            surveys[stage["id"]] = {m: row.get(m) for m in ("csat", "nps", "ces")}
    return surveys


def with_surveys(store: Store, result: FunnelResult) -> StoreFunnel:
    """The result with the survey figures of each stage's moment in the period: answers to
    surveys whose moment is the stage's code, or whose custom stage is a custom stage's name."""
    start, end = _survey_period(store, result)
    by_moment = {
        (row["moment"] or "", row["custom_stage"] or ""): row
        for row in survey_selectors.results_by_moment(store=store, start=start, end=end)
    }
    return StoreFunnel(result, store.time_zone, _stage_surveys(result, by_moment))


@dataclass
class StoredFunnels:
    # Per store id: the stored result and its survey figures, for the stores that have one.
    funnels: dict[int, StoreFunnel]
    # The stores with an active journey (a store with one and no funnel is not computed yet).
    with_journey: set[int]


def _stored_matches(result: FunnelResult, journey: Journey, known: set[str]) -> bool:
    """_matches without reading events: computed for the journey, event names and tracked
    stages as they are now. Whether a stage that maps repeat_purchase alone is tracked depends
    on whether a customer bought twice; once the store has purchases, the result is trusted
    on it (a purchase that makes a repeat queues a recompute anyway)."""
    stages = list(journey.stages.all())
    if result.journey_id != journey.pk or len(stages) != len(result.stages):
        return False
    for stage, stored in zip(stages, result.stages, strict=True):
        names = sorted({n for tp in stage.touchpoints.all() for n in tp.event_names})
        tracked = any(n in known for n in names)
        if not tracked and REPEAT_PURCHASE in names and PURCHASE in known:
            tracked = bool(stored["tracked"])
        if [stored["id"], stored["event_names"], stored["tracked"]] != [stage.pk, names, tracked]:
            return False
    return True


def stored_funnels(
    *, stores: Sequence[Store], kind: str, start: date | None = None
) -> StoredFunnels:
    """Each store's latest stored result of a standard period (`kind`; with `start`, the one
    of the family that starts that day, e.g. a month) with its survey figures, when it was
    computed for the store's active journey, mapping and conversion window as they are now.
    Never computes and never reads events: at most seven queries whatever the number of
    stores and stages (what the organisation's comparison reads)."""
    by_id = {store.pk: store for store in stores}
    journeys: dict[int, Journey] = {
        journey.store_id: journey
        for journey in Journey.objects.filter(
            store_id__in=list(by_id), status=Journey.Status.ACTIVE
        ).prefetch_related("stages__touchpoints")
        if journey.store_id is not None  # an active journey has a store (a constraint)
    }
    if not journeys:
        return StoredFunnels({}, set())
    mapped = {
        n
        for journey in journeys.values()
        for stage in journey.stages.all()
        for touchpoint in stage.touchpoints.all()
        for n in touchpoint.event_names
    }
    known: dict[int, set[str]] = {store_id: set() for store_id in journeys}
    # Only the names some journey maps (and purchase): a store may send many others.
    for store_id, name in EventName.objects.filter(
        store_id__in=list(journeys), name__in=[*mapped, PURCHASE]
    ).values_list("store_id", "name"):
        known[store_id].add(name)
    results = FunnelResult.objects.filter(store_id__in=list(journeys), kind=kind)
    if start is not None:
        results = results.filter(start=start)
    chosen: dict[int, FunnelResult] = {}
    # The customers list's column and the counts per name are what a comparison never reads;
    # the first is 25 bytes a customer.
    for result in results.defer("entered", "names").order_by("store_id", "-computed_at"):
        store = by_id[result.store_id]
        if (
            result.store_id not in chosen
            and result.window_days == store.funnel_window_days
            and _stored_matches(result, journeys[result.store_id], known[result.store_id])
        ):
            chosen[result.store_id] = result
    scores = survey_selectors.scores_by_moment(
        periods={
            store_id: _survey_period(by_id[store_id], result) for store_id, result in chosen.items()
        }
    )
    return StoredFunnels(
        funnels={
            store_id: StoreFunnel(
                result,
                by_id[store_id].time_zone,
                _stage_surveys(result, scores.get(store_id, {})),
            )
            for store_id, result in chosen.items()
        },
        with_journey=set(journeys),
    )


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
