"""What a store's dashboard shows, read from the metrics' stored results (never from raw
events): the funnel of the chosen period beside the period of the same length before it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from accounts.models import Store
from core.models import Task
from dashboards.periods import Period
from events.models import EventName
from journeys.models import Journey
from metrics import recompute
from metrics import tasks as metrics_tasks
from metrics.funnel import compared_body, funnel_body, funnel_result, with_surveys
from metrics.mapping import NoActiveJourney
from metrics.models import FunnelResult
from surveys.models import Survey


class State:
    READY = "ready"
    NO_JOURNEY = "no_journey"  # no active journey: nothing says which events mark a stage
    NO_EVENT_NAMES = "no_event_names"  # the journey's touchpoints list no event name
    NO_EVENTS = "no_events"  # names are mapped, and none of them has ever arrived
    COMPUTING = "computing"  # a large store's range is being computed by a task


@dataclass
class DesignedRow:
    """A stage's designed emotion (the mean of its touchpoints' emotions, −2..+2) beside its
    measured satisfaction (CSAT mean − 3, on the same axis); None where there is none."""

    stage_id: int
    label: str
    designed: float | None
    measured: float | None
    answers: int

    @property
    def gap(self) -> float | None:
        if self.designed is None or self.measured is None:
            return None
        return round(self.measured - self.designed, 2)


@dataclass
class Dashboard:
    store: Store
    period: Period
    state: str
    journey: Journey | None = None
    body: dict[str, Any] = field(default_factory=dict)  # the funnel API's, compare=previous
    task: Task | None = None
    has_surveys: bool = False
    recomputing: bool = False  # a recompute is queued or running: the figures will change

    @property
    def computed_at(self) -> datetime | None:
        at = self.body.get("computed_at")
        return datetime.fromisoformat(at) if at else None

    @property
    def stages(self) -> list[dict[str, Any]]:
        return list(self.body.get("stages", []))

    @property
    def tracked(self) -> list[dict[str, Any]]:
        return [s for s in self.stages if s["tracked"]]

    def designed_vs_measured(self) -> list[DesignedRow]:
        """Every stage of the map, in order (an untracked stage may still have answers)."""
        if self.journey is None:
            return []
        figures = {s["id"]: s for s in self.stages}
        rows = []
        for stage in self.journey.stages.all():
            emotions = [t.emotion for t in stage.touchpoints.all()]
            csat = (figures.get(stage.pk) or {}).get("csat") or {}
            count = int(csat.get("count") or 0)
            mean = csat.get("mean")
            rows.append(
                DesignedRow(
                    stage_id=stage.pk,
                    label=f"{stage.moment} · {stage.name}" if stage.moment else stage.name,
                    designed=round(sum(emotions) / len(emotions), 2) if emotions else None,
                    measured=round(float(mean) - 3, 2) if count and mean is not None else None,
                    answers=count,
                )
            )
        return rows


def period_result(
    store: Store, start: date, end: date, window_days: int, user_id: int | None
) -> FunnelResult | Task:
    """The stored result of the range, or one computed now while the store is small enough,
    or the task that computes it."""
    from metrics import services

    result = funnel_result(
        store=store, start=start, end=end, window_days=window_days, compute=False
    )
    if result is not None:
        return result
    if recompute.store_events_total(store_id=store.pk) <= recompute.sync_limit():
        return recompute.custom_compute(store=store, start=start, end=end, window_days=window_days)
    return services.custom_start(
        store=store, start=start, end=end, window_days=window_days, user_id=user_id
    )


def store_dashboard(*, store: Store, period: Period, user_id: int | None) -> Dashboard:
    journey = (
        Journey.objects.filter(store=store, status=Journey.Status.ACTIVE)
        .prefetch_related("stages__touchpoints")
        .first()
    )
    dashboard = Dashboard(store=store, period=period, state=State.READY, journey=journey)
    dashboard.has_surveys = Survey.objects.filter(store=store).exists()
    if journey is None:
        dashboard.state = State.NO_JOURNEY
        return dashboard
    names = {n for s in journey.stages.all() for t in s.touchpoints.all() for n in t.event_names}
    if not names:
        dashboard.state = State.NO_EVENT_NAMES
        return dashboard
    if not EventName.objects.filter(store=store, name__in=names).exists() and not (
        "repeat_purchase" in names and EventName.objects.filter(store=store, name="purchase")
    ):
        dashboard.state = State.NO_EVENTS
        return dashboard
    window = store.funnel_window_days
    try:
        current = period_result(store, period.start, period.end, window, user_id)
        before = period_result(store, *period.previous, window, user_id)
    except NoActiveJourney:  # deactivated meanwhile
        dashboard.state = State.NO_JOURNEY
        return dashboard
    if isinstance(current, Task) or isinstance(before, Task):
        dashboard.state = State.COMPUTING
        dashboard.task = current if isinstance(current, Task) else before  # type: ignore[assignment]
        return dashboard
    dashboard.recomputing = metrics_tasks.recompute_pending(store.pk)
    dashboard.body = compared_body(
        funnel_body(with_surveys(store, current)), funnel_body(with_surveys(store, before))
    )
    return dashboard
