"""One stage of the store dashboard, in detail: its touchpoints, the events per name behind
it, how long customers took to get there from the stage before, its survey answers and
comments, and (for editors) the customers who converted or dropped off there, all read from
the same stored result as the dashboard's figures; and what buyers write, the comment themes
of its surveys (stored by the surveys' own computation, for the last 90 days or all time)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.http import Http404

from accounts.models import Store
from core.models import Task
from dashboards.periods import Period
from dashboards.selectors import period_result
from journeys.models import Journey, Stage
from metrics import selectors as metrics_selectors
from metrics.funnel import funnel_body, with_surveys
from metrics.models import FunnelResult
from surveys import selectors as survey_selectors
from surveys.comment_themes import SCALES
from surveys.models import CommentThemeResult

CUSTOMERS_PAGE = 50


@dataclass
class Bin:
    low: int  # seconds, included
    high: int  # seconds, excluded
    count: int


@dataclass
class StageDetail:
    store: Store
    period: Period
    journey: Journey
    stage: Stage
    result: FunnelResult | None = None
    task: Task | None = None  # a large store's range being computed
    figures: dict[str, Any] = field(default_factory=dict)  # the funnel body's stage
    previous_stage: dict[str, Any] | None = None  # the tracked stage before it
    names: list[tuple[str, int]] = field(default_factory=list)
    histogram: list[Bin] = field(default_factory=list)
    answers: dict[str, Any] = field(default_factory=dict)
    themes: dict[str, Any] = field(default_factory=dict)  # survey_selectors.comment_themes
    themes_period: str = CommentThemeResult.Period.LAST_90
    customers: metrics_selectors.CustomerPage | None = None
    outcome: str = metrics_selectors.Outcome.CONVERTED

    @property
    def first(self) -> bool:
        """The funnel's first tracked stage: nobody drops off before it."""
        return self.previous_stage is None

    @property
    def dropped(self) -> int | None:
        if self.previous_stage is None or self.figures.get("funnel") is None:
            return None
        return int(self.previous_stage["funnel"]) - int(self.figures["funnel"])

    @property
    def computed_at(self) -> datetime | None:
        return self.result.computed_at if self.result is not None else None


def stage_of(store: Store, stage_id: int) -> tuple[Journey, Stage]:
    """The stage of the store's active journey; anything else (another store's stage, a
    stage of an inactive map) is not found."""
    stage = (
        Stage.objects.select_related("journey")
        .prefetch_related("touchpoints")
        .filter(
            pk=stage_id,
            journey__store=store,
            journey__status=Journey.Status.ACTIVE,
        )
        .first()
    )
    if stage is None:
        raise Http404
    return stage.journey, stage


def _histogram(figures: dict[str, Any]) -> list[Bin]:
    histogram = figures.get("histogram")
    if not histogram:
        return []
    edges, counts = histogram["edges"], histogram["counts"]
    return [Bin(edges[i], edges[i + 1], int(counts[i])) for i in range(len(counts))]


def stage_detail(
    *,
    store: Store,
    stage_id: int,
    period: Period,
    user_id: int | None,
    with_customers: bool,
    outcome: str = metrics_selectors.Outcome.CONVERTED,
    cursor: str | None = None,
    themes_period: str = CommentThemeResult.Period.LAST_90,
) -> StageDetail:
    """Raises Http404 for a stage that is not on the store's active journey, and
    metrics_selectors.BadListQuery for a bad cursor or `dropped` at the first stage."""
    journey, stage = stage_of(store, stage_id)
    detail = StageDetail(
        store=store, period=period, journey=journey, stage=stage, themes_period=themes_period
    )
    result = period_result(store, period.start, period.end, store.funnel_window_days, user_id)
    if isinstance(result, Task):
        detail.task = result
        return detail
    detail.result = result
    stored = next((s for s in result.stages if s["id"] == stage.pk), None)
    if stored is None:  # the map changed after the result was computed
        return detail
    body = funnel_body(with_surveys(store, result))
    before = None
    for figures in body["stages"]:
        if figures["id"] == stage.pk:
            detail.figures = figures
            break
        if figures["tracked"]:
            before = figures
    detail.previous_stage = before if stored["tracked"] else None
    counts = dict(result.names)
    detail.names = sorted(
        ((name, int(counts.get(name, 0))) for name in stored["event_names"]),
        key=lambda item: (-item[1], item[0]),
    )
    detail.histogram = _histogram(stored)
    zone = ZoneInfo(store.time_zone or "UTC")
    detail.answers = survey_selectors.stage_answers(
        store=store,
        moment=stage.moment,
        custom_stage="" if stage.moment else stage.name,
        start=datetime.combine(result.start, time.min, tzinfo=zone),
        end=datetime.combine(result.end + timedelta(days=1), time.min, tzinfo=zone),
    )
    detail.themes = themes_for_page(
        survey_selectors.comment_themes(
            store=store,
            period=themes_period,
            stage=(stage.moment, "") if stage.moment else ("", stage.name),
        )
    )
    if with_customers and stored["tracked"]:
        if outcome == metrics_selectors.Outcome.DROPPED and detail.first:
            outcome = metrics_selectors.Outcome.CONVERTED
        detail.outcome = outcome
        detail.customers = metrics_selectors.funnel_customers(
            result=result,
            stage_id=stage.pk,
            outcome=outcome,
            cursor=cursor,
            page_size=CUSTOMERS_PAGE,
        )
    return detail


def themes_for_page(themes: dict[str, Any]) -> dict[str, Any]:
    """One stage's comment themes as the page's tables show them: per language, the scales
    its answers were scored on (`scales`) and, per theme and for all the language's answers,
    the mean on each of them, in that order (`means`)."""
    languages = []
    for stage in themes["stages"]:
        for language in stage["languages"]:
            scales = [scale for scale in SCALES if language["scores"].get(scale)]

            def means(scores: dict[str, Any], scales: list[str] = scales) -> list[Any]:
                return [(scores.get(scale) or {}).get("mean") for scale in scales]

            languages.append(
                {
                    **language,
                    "scales": scales,
                    "means": means(language["scores"]),
                    "themes": [
                        {**theme, "means": means(theme["scores"])} for theme in language["themes"]
                    ],
                }
            )
    return {**themes, "languages": languages}
