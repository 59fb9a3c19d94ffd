"""What the dashboards show, read from the metrics' stored results (never from raw events): a
store's funnel of the chosen period beside the period of the same length before it, the weekly
digest's figures (one ISO week beside the week before), and the organisation's stores side by
side."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import F, Q, QuerySet

from accounts.models import Membership, Store
from core import clock
from core.models import Task
from dashboards.labels import stage_label
from dashboards.models import DigestSubscription
from dashboards.periods import Period
from events.models import EventName
from journeys.models import Journey, Moment
from metrics import recompute
from metrics import tasks as metrics_tasks
from metrics.funnel import (
    compared_body,
    funnel_body,
    funnel_result,
    stored_funnels,
    with_surveys,
)
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
                    label=stage_label(stage.moment, stage.name),
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


# --- The weekly digest


def last_complete_week(*, store: Store, now: datetime) -> date:
    """The Monday of the last ISO week that has ended in the store's time zone."""
    today = now.astimezone(ZoneInfo(store.time_zone or "UTC")).date()
    return today - timedelta(days=today.weekday(), weeks=1)


class DigestNotReady(Exception):
    """The week's figures cannot be read from the stored results yet: the digest waits for
    the next run. The message says why, for the log."""


@dataclass(frozen=True)
class DigestChange:
    """A significant change of one figure of one stage, for the digest's first section."""

    stage: dict[str, Any]
    figure: str  # "conversion" or "csat" (the CSAT share)
    current: float | None
    previous: float | None
    change: float

    @property
    def direction(self) -> str:
        return "up" if self.change > 0 else "down"


@dataclass
class WeeklyDigest:
    store: Store
    start: date  # the ISO week's Monday, days in the store's time zone
    body: dict[str, Any]  # the funnel API's body with compare=previous

    @property
    def end(self) -> date:
        return self.start + timedelta(days=6)

    @property
    def previous_start(self) -> date:
        return self.start - timedelta(weeks=1)

    @property
    def previous_end(self) -> date:
        return self.start - timedelta(days=1)

    @property
    def iso_week(self) -> int:
        return self.start.isocalendar().week

    @property
    def iso_year(self) -> int:
        return self.start.isocalendar().year

    @property
    def complete(self) -> bool:
        return bool(self.body["complete"])

    @property
    def stages(self) -> list[dict[str, Any]]:
        return list(self.body["stages"])

    @property
    def significant(self) -> list[DigestChange]:
        """The significant changes of conversion and CSAT share, in the journey's order."""
        found = []
        for stage in self.stages:
            if not stage["tracked"]:
                continue
            changes = stage["changes"]
            candidates = [
                (
                    "conversion",
                    changes["conversion"],
                    stage["conversion"],
                    stage["previous"]["conversion"],
                ),
                (
                    "csat",
                    (changes["csat"] or {}).get("share"),
                    (stage["csat"] or {}).get("share"),
                    (stage["previous"]["csat"] or {}).get("share"),
                ),
            ]
            for figure, change, current, previous in candidates:
                if change and change["significant"]:
                    found.append(
                        DigestChange(
                            stage=stage,
                            figure=figure,
                            current=current["value"],
                            previous=previous["value"],
                            change=change["change"],
                        )
                    )
        return found


def _stored_week(store: Store, monday: date) -> FunnelResult | None:
    return funnel_result(
        store=store,
        start=monday,
        end=monday + timedelta(days=6),
        window_days=store.funnel_window_days,
        compute=False,
        kind=FunnelResult.Kind.WEEK,
    )


def weekly_digest(*, store: Store, week: date) -> WeeklyDigest:
    """The figures of the ISO week starting on `week` against the week before, from the
    stored week results only (never from raw events). Raises DigestNotReady."""
    zone = ZoneInfo(store.time_zone or "UTC")
    try:
        current = _stored_week(store, week)
        before = _stored_week(store, week - timedelta(weeks=1))
    except NoActiveJourney:
        raise DigestNotReady("the store has no active journey") from None
    if current is None or before is None:
        raise DigestNotReady("the week's stored figures are missing (no recompute since)")
    # Events of the week's last hours may have come after a recompute that ran before its end.
    ended = datetime.combine(week + timedelta(weeks=1), time.min, tzinfo=zone)
    if current.computed_at < ended:
        raise DigestNotReady("the week's stored figures were computed before the week ended")
    body = compared_body(
        funnel_body(with_surveys(store, current)), funnel_body(with_surveys(store, before))
    )
    for stage in body["stages"]:  # as the dashboard's funnel names them
        stage["label"] = stage_label(stage["moment"], stage["name"])
    return WeeklyDigest(store=store, start=week, body=body)


def digest_subscription_get(*, membership: Membership, store: Store) -> DigestSubscription | None:
    return DigestSubscription.objects.filter(membership=membership, store=store).first()


def digest_subscription_find(*, pk: int) -> DigestSubscription | None:
    """By id, for the email's signed unsubscribe link (no log-in: the signature is the key)."""
    return DigestSubscription.objects.select_related("store").filter(pk=pk).first()


def digest_subscriptions_live() -> QuerySet[DigestSubscription]:
    """Subscriptions whose member may still read the store: an active user, and neither the
    store nor the organisation being deleted. (A member who left took theirs with them.)"""
    return DigestSubscription.objects.filter(
        membership__user__is_active=True,
        membership__organisation__deletion_requested_at__isnull=True,
        store__deletion_requested_at__isnull=True,
        store__organisation_id=F("membership__organisation_id"),
    )


def digests_due(*, now: datetime) -> list[tuple[int, date]]:
    """(subscription id, week) of each digest to send now: the last complete week of the
    store, when that week's digest has not gone out yet."""
    # No store's last complete week is later than the one of a time zone a day ahead of UTC.
    latest = (now.astimezone(UTC) + timedelta(days=1)).date()
    latest -= timedelta(days=latest.weekday(), weeks=1)
    due = []
    rows = (
        digest_subscriptions_live()
        .filter(Q(last_sent_week__isnull=True) | Q(last_sent_week__lt=latest))
        .select_related("store")
        .order_by("pk")
    )
    for subscription in rows:
        week = last_complete_week(store=subscription.store, now=now)
        if subscription.last_sent_week is None or subscription.last_sent_week < week:
            due.append((subscription.pk, week))
    return due


# --- The organisation view: every store side by side


class Reason:
    NO_JOURNEY = "no_journey"
    NOT_COMPUTED = "not_computed"  # no stored result of the period for the journey as it is now


METRICS = ("conversion", "csat")
SORT_KEYS = ("name", "currency", "time_zone")


@dataclass(frozen=True)
class Column:
    moment: str
    metric: str  # "conversion" or "csat"

    @property
    def key(self) -> str:
        return f"{self.moment}-{self.metric}"


@dataclass(frozen=True)
class Cell:
    metric: str = ""
    value: float | None = None  # a share, 0 to 1
    # Conversion: customers at the stage before; CSAT: answers; a median: stores.
    count: int | None = None


@dataclass
class StoreRow:
    store: Store
    reason: str = ""
    end: date | None = None  # the last day of the stored period
    complete: bool = True
    behind: bool = False  # a rolling period last computed before the store's today
    by_moment: dict[str, dict[str, Cell]] = field(default_factory=dict)
    custom_stages: list[dict[str, Any]] = field(default_factory=list)
    cells: list[Cell] = field(default_factory=list)  # in the columns' order

    def value_of(self, key: str) -> Any:
        if key in SORT_KEYS:
            value = getattr(self.store, key)
            return value.casefold() if isinstance(value, str) else value
        moment, _sep, metric = key.partition("-")
        return self.by_moment.get(moment, {}).get(metric, Cell()).value


@dataclass
class OrganisationView:
    rows: list[StoreRow]
    columns: list[Column]
    medians: list[Cell]  # per column: the median over the stores that have the figure

    @property
    def moments(self) -> list[tuple[str, str]]:
        """The columns' moment codes, each with its name."""
        return [(m, str(Moment(m).label)) for m in dict.fromkeys(c.moment for c in self.columns)]

    @property
    def still_open(self) -> bool:
        """Some store's period has days whose conversion window has not passed."""
        return any(not row.complete for row in self.rows if not row.reason)

    @property
    def keys(self) -> list[str]:
        return [*SORT_KEYS, *(c.key for c in self.columns)]

    @property
    def custom_rows(self) -> list[StoreRow]:
        return [row for row in self.rows if row.custom_stages]

    def sorted_rows(self, key: str, descending: bool) -> list[StoreRow]:
        """By a store's name, currency, time zone or a column; the stores without the figure
        last either way, by name."""
        by_name = sorted(self.rows, key=lambda r: (r.store.name.casefold(), r.store.pk))
        having = [r for r in by_name if r.value_of(key) is not None]
        lacking = [r for r in by_name if r.value_of(key) is None]
        # A stable sort, reversed or not, keeps equal figures in their order by name.
        return sorted(having, key=lambda r: r.value_of(key), reverse=descending) + lacking


def _stage_cells(stage: dict[str, Any]) -> dict[str, Cell]:
    conversion = stage["conversion"] or {}
    csat = stage["csat"] or {}
    return {
        "conversion": Cell("conversion", conversion.get("value"), conversion.get("total")),
        "csat": Cell("csat", csat["share"]["value"], csat["count"])
        if csat.get("count")
        else Cell("csat"),
    }


def organisation_view(*, stores: list[Store], kind: str, start: date | None) -> OrganisationView:
    """The stores of an organisation side by side for a standard period: per moment code, the
    conversion into the stage and its CSAT share, aligned across stores; custom stages per
    store. Stored results only, in a constant number of queries."""
    stored = stored_funnels(stores=stores, kind=kind, start=start)
    rows: list[StoreRow] = []
    for store in stores:
        row = StoreRow(store=store)
        rows.append(row)
        funnel = stored.funnels.get(store.pk)
        if funnel is None:
            row.reason = (
                Reason.NOT_COMPUTED if store.pk in stored.with_journey else Reason.NO_JOURNEY
            )
            continue
        row.end, row.complete = funnel.end, funnel.complete
        if start is None:  # the rolling periods end on the store's today
            zone = ZoneInfo(store.time_zone or "UTC")
            row.behind = funnel.end < clock.now().astimezone(zone).date()
        for stage in funnel_body(funnel)["stages"]:
            cells = _stage_cells(stage)
            if stage["moment"]:
                row.by_moment[stage["moment"]] = cells
            else:
                row.custom_stages.append({"name": stage["name"], **cells})
    moments = sorted({m for row in rows for m in row.by_moment}, key=Moment.order)
    columns = [Column(moment, metric) for moment in moments for metric in METRICS]
    medians = []
    for column in columns:
        values = [v for row in rows if (v := row.value_of(column.key)) is not None]
        medians.append(
            Cell(column.metric, statistics.median(values) if values else None, len(values))
        )
    for row in rows:
        row.cells = [row.by_moment.get(c.moment, {}).get(c.metric, Cell(c.metric)) for c in columns]
    return OrganisationView(rows=rows, columns=columns, medians=medians)
