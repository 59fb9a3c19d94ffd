"""Reads for surveys, always scoped to the caller's organisation, and survey results.

Results follow shared/docs/domain.md: CSAT is the share of 4–5 on the 1–5 scale (and the
mean), NPS the % of promoters (9–10) minus the % of detractors (0–6), CES the mean of 1–7,
the response rate responses over invitations delivered (sent, opened or answered), with
Wilson 95 % intervals for proportions. Periods are half-open, [start, end); None is open.
"""

from __future__ import annotations

import csv
import functools
import io
import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar, cast

from django.db import connection, models
from django.db.models import (
    DEFERRED,
    Count,
    DateTimeField,
    DurationField,
    ExpressionWrapper,
    F,
    IntegerField,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    Window,
)
from django.db.models.functions import Coalesce, RowNumber
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _

from accounts.models import Organisation, Store
from core.csv_safety import csv_cell
from journeys.models import Moment
from surveys import buyer_texts, stats, tokens
from surveys.comment_themes import LANGUAGES, Comment
from surveys.models import (
    Answer,
    CommentThemeResult,
    Contact,
    Invitation,
    Question,
    Response,
    StoreSurveySettings,
    Survey,
)
from surveys.signals import contact_exporting

# Free-text answers listed per question in the results, newest first; `count` has them all.
TEXT_ANSWERS_SHOWN = 200

SCALE_TYPES = (Question.Type.RATING, Question.Type.NPS, Question.Type.CES)
# The metric each scale feeds, and the survey-level headline it makes.
METRIC_OF_TYPE: dict[str, tuple[str, Callable[[list[int]], dict[str, object]]]] = {
    Question.Type.RATING: ("csat", stats.csat),
    Question.Type.NPS: ("nps", stats.nps),
    Question.Type.CES: ("ces", stats.ces),
}


# --- Store settings


def store_survey_settings_get(*, store: Store) -> StoreSurveySettings:
    """The store's sending settings, or the defaults (unsaved) when it has none yet: reading
    them writes nothing. The store must already be scoped to the caller."""
    return StoreSurveySettings.objects.filter(store=store).first() or StoreSurveySettings(
        store=store
    )


# --- Surveys, contacts, invitations


def survey_list(
    *, organisation: Organisation, store_id: int | None = None, status: str = ""
) -> QuerySet[Survey]:
    # A store being deleted takes its surveys and contacts out of every list at once.
    surveys = Survey.objects.filter(
        organisation=organisation, store__deletion_requested_at__isnull=True
    ).select_related("store", "touchpoint")
    if store_id:
        surveys = surveys.filter(store_id=store_id)
    if status:
        surveys = surveys.filter(status=status)
    return surveys


def survey_list_with_counts(
    *, organisation: Organisation, store_id: int | None = None, status: str = ""
) -> QuerySet[Survey]:
    """The list page's rows: each survey with `question_count`, `invitation_count` and
    `response_count` (submitted), as subqueries (no join fan-out, no rows loaded)."""

    def count(queryset: QuerySet[Any]) -> Coalesce:
        return Coalesce(
            Subquery(
                queryset.filter(survey=OuterRef("pk"))
                .order_by()
                .values("survey")
                .annotate(n=Count("id"))
                .values("n"),
                output_field=IntegerField(),
            ),
            Value(0),
        )

    surveys = survey_list(organisation=organisation, store_id=store_id, status=status)
    return surveys.annotate(
        question_count=count(Question.objects.all()),
        invitation_count=count(Invitation.objects.all()),
        response_count=count(Response.objects.filter(submitted_at__isnull=False)),
    )


def survey_get(*, organisation: Organisation, pk: int) -> Survey:
    """One survey with its questions (the pages and the API's detail show them)."""
    return get_object_or_404(
        survey_list(organisation=organisation).prefetch_related("questions"), pk=pk
    )


def question_list(*, organisation: Organisation) -> QuerySet[Question]:
    return Question.objects.filter(
        survey__organisation=organisation, survey__store__deletion_requested_at__isnull=True
    ).select_related("survey")


def contact_list(
    *, organisation: Organisation, store_id: int | None = None, search: str = ""
) -> QuerySet[Contact]:
    contacts = Contact.objects.filter(
        organisation=organisation, store__deletion_requested_at__isnull=True
    ).select_related("store")
    if store_id:
        contacts = contacts.filter(store_id=store_id)
    if search:
        contacts = contacts.filter(
            Q(email__icontains=search) | Q(name__icontains=search) | Q(customer_key=search)
        )
    return contacts


def invitation_list(*, survey: Survey, status: str = "") -> QuerySet[Invitation]:
    invitations = survey.invitations.select_related("contact")
    if status:
        invitations = invitations.filter(status=status)
    return invitations


@dataclass(frozen=True)
class SendOutlook:
    """What sending a survey now would do for some contacts of its store (their ids)."""

    # They have an invitation for this survey already: waiting, sent or answered. One held
    # back by the fatigue cap or that failed does not count; such a contact may be invited.
    already_invited: frozenset[int]
    # Not invited yet, but over the fatigue cap: emailed within the store's window (by any
    # survey) or being emailed now, which is what sending marks `capped`.
    over_cap: frozenset[int]


def survey_send_outlook(
    *, survey: Survey, contact_ids: Iterable[int] | QuerySet[Any], now: datetime
) -> SendOutlook:
    """For these contacts of the survey's store, who is invited already and who is over the
    fatigue cap now, by the sending's own rules (services._claim_batch). One query, one row per
    contact that has an invitation that matters."""
    default_days = StoreSurveySettings._meta.get_field("fatigue_days").default
    days = Coalesce(
        Subquery(
            StoreSurveySettings.objects.filter(store_id=survey.store_id).values("fatigue_days")[:1]
        ),
        Value(default_days),
    )
    since = ExpressionWrapper(
        Value(now)
        - ExpressionWrapper(days * Value(timedelta(days=1)), output_field=DurationField()),
        output_field=DateTimeField(),
    )
    invited = Q(survey=survey) & ~Q(status__in=[Invitation.Status.CAPPED, Invitation.Status.FAILED])
    rows = (
        Invitation.objects.filter(contact_id__in=contact_ids)
        .filter(invited | Q(status=Invitation.Status.SENDING) | Q(sent_at__gte=since))
        .order_by()
        .values("contact_id")
        .annotate(invitations=Count("id", filter=invited))
        .values_list("contact_id", "invitations")
    )
    already_invited: set[int] = set()
    over_cap: set[int] = set()
    for contact_id, invitations in rows:
        (already_invited if invitations else over_cap).add(contact_id)
    return SendOutlook(frozenset(already_invited), frozenset(over_cap))


# --- Results


def _period(field: str, start: datetime | None, end: datetime | None) -> Q:
    q = Q()
    if start is not None:
        q &= Q(**{f"{field}__gte": start})
    if end is not None:
        q &= Q(**{f"{field}__lt": end})
    return q


def _delivery_counts(invitations: QuerySet[Invitation], start: Any, end: Any) -> tuple[int, int]:
    """Invitations delivered in the period, and how many of them were answered."""
    counts = invitations.filter(
        _period("sent_at", start, end), status__in=Invitation.DELIVERED
    ).aggregate(
        delivered=Count("id"),
        answered=Count("id", filter=Q(status=Invitation.Status.ANSWERED)),
    )
    return counts["delivered"], counts["answered"]


def _expand(counts: dict[int, int]) -> list[int]:
    """{score: how many} back to the scores, for the formulas in surveys.stats."""
    return [value for value, n in sorted(counts.items()) for _ in range(n)]


def survey_results(
    *, survey: Survey, start: datetime | None = None, end: datetime | None = None
) -> dict[str, Any]:
    """A survey's results in [start, end), in at most six queries whatever its size.

    `responses` counts the responses submitted in the period; an answer counts in the period
    of its submission. The response rate is taken over the invitations delivered in the
    period: the share of them that were answered (at any time, so a recent period's rate can
    still rise), which keeps it a proportion between 0 and 1.
    """
    questions = _questions(survey)
    delivered, answered = _delivery_counts(survey.invitations.all(), start, end)
    responses = Response.objects.filter(
        _period("submitted_at", start, end), survey=survey, submitted_at__isnull=False
    ).count()
    answers = Answer.objects.filter(_period("answered_at", start, end), question__survey=survey)

    # Scales and single choice: how many answers per question and value, counted in SQL.
    numbers: dict[int, dict[int, int]] = defaultdict(dict)
    number_types = (*SCALE_TYPES, Question.Type.SINGLE_CHOICE)
    if any(q.type in number_types for q in questions):
        number_rows = (
            answers.filter(question__type__in=number_types, number__isnull=False)
            .values_list("question_id", "number")
            .annotate(n=Count("id"))
            .order_by()
        )
        for question_id, number, n in number_rows:
            numbers[question_id][number] = n

    # Multiple choice: per question, its answers and how many picked each choice.
    picked: dict[str, int] = {}
    multiple = [q for q in questions if q.type == Question.Type.MULTIPLE_CHOICE]
    if multiple:
        aggregates = {}
        for q in multiple:
            aggregates[f"q{q.pk}"] = Count("id", filter=Q(question_id=q.pk))
            for index in range(len(_labels(survey, q))):
                aggregates[f"q{q.pk}_{index}"] = Count(
                    "id", filter=Q(question_id=q.pk, choices__contains=[index])
                )
        picked = answers.filter(question__in=multiple).aggregate(**aggregates)

    # Free text: the newest answers of each question, and how many there are.
    texts: dict[int, list[dict[str, Any]]] = defaultdict(list)
    text_counts: dict[int, int] = {}
    if any(q.type == Question.Type.FREE_TEXT for q in questions):
        rows = (
            answers.filter(question__type=Question.Type.FREE_TEXT)
            .exclude(text="")
            .annotate(
                rank=Window(
                    RowNumber(),
                    partition_by=F("question_id"),
                    order_by=[F("answered_at").desc(), F("id").desc()],
                ),
                total=Window(Count("id"), partition_by=F("question_id")),
            )
            .filter(rank__lte=TEXT_ANSWERS_SHOWN)
            .values_list(
                "question_id",
                "text",
                "response__language",
                "answered_at",
                "question__survey__touchpoint__name",
                "total",
            )
            .order_by("question_id", "-answered_at", "-id")
        )
        for question_id, text, language, answered_at, touchpoint, total in rows:
            text_counts[question_id] = total
            texts[question_id].append(
                {
                    "text": text,
                    "language": language,
                    "answered_at": answered_at,
                    "touchpoint": touchpoint or "",
                }
            )

    results = []
    headline: dict[str, Any] = {"csat": None, "nps": None, "ces": None}
    for q in questions:
        item: dict[str, Any] = {
            "id": q.pk,
            "position": q.position,
            "type": q.type,
            "text": _question_text(survey, q),
        }
        if q.type in METRIC_OF_TYPE:
            metric, formula = METRIC_OF_TYPE[q.type]
            item[metric] = formula(_expand(numbers.get(q.pk, {})))
            # Answers per score, every score of the scale included (the results' chart).
            low, high = Question.SCALES[q.type]  # type: ignore[index]
            item["distribution"] = {
                score: numbers.get(q.pk, {}).get(score, 0) for score in range(low, high + 1)
            }
            if headline[metric] is None:
                headline[metric] = item[metric]
        elif q.type == Question.Type.SINGLE_CHOICE:
            counts = numbers.get(q.pk, {})
            item["count"] = sum(counts.values())
            item["choices"] = _choice_counts(_labels(survey, q), counts.get, item["count"])
        elif q.type == Question.Type.MULTIPLE_CHOICE:
            item["count"] = picked.get(f"q{q.pk}", 0)
            item["choices"] = _choice_counts(
                _labels(survey, q), lambda i, pk=q.pk: picked.get(f"q{pk}_{i}"), item["count"]
            )
        else:
            item["count"] = text_counts.get(q.pk, 0)
            item["answers"] = texts.get(q.pk, [])
        results.append(item)

    return {
        "survey": survey.pk,
        "start": start,
        "end": end,
        "delivered": delivered,
        "responses": responses,
        "response_rate": stats.Proportion(answered, delivered).as_dict(),
        **headline,
        "questions": results,
    }


def _questions(survey: Survey) -> list[Question]:
    # The store's name comes along for the {store} placeholder, without a query of its own.
    return list(
        survey.questions.annotate(store_name=F("survey__store__name")).order_by("position", "id")
    )


def _question_text(survey: Survey, question: Question) -> str:
    """In the survey's default language (else any), with the store's name filled in."""
    text = question.text.get(survey.default_language) or str(question)
    return buyer_texts.fill(text, store=getattr(question, "store_name", ""))


def _labels(survey: Survey, question: Question) -> list[str]:
    """A choice question's labels in the survey's default language (else any language)."""
    choices = question.choices or {}
    return list(choices.get(survey.default_language) or next(iter(choices.values()), []))


def _choice_counts(labels: list[str], count_of: Any, total: int) -> list[dict[str, Any]]:
    """Per choice: its index, label, how many picked it, and that as a share of the answers."""
    rows = []
    for index, label in enumerate(labels):
        n = count_of(index) or 0
        rows.append(
            {
                "index": index,
                "label": label,
                "count": n,
                "share": stats.Proportion(n, total).as_dict(),
            }
        )
    return rows


def _moment_key(moment: str, custom_stage: str) -> tuple[int, str, str]:
    """Moment codes in their canonical order, then custom stages by name, then the rest."""
    if moment:
        return (0, f"{Moment.order(moment):02d}", moment)
    if custom_stage:
        return (1, custom_stage.casefold(), custom_stage)
    return (2, "", "")


def results_by_moment(
    *, store: Store, start: datetime | None = None, end: datetime | None = None
) -> list[dict[str, Any]]:
    """Per moment of truth of the store's surveys (by moment code, so results survive a
    journey being edited or replaced): surveys, responses, response rate, and CSAT, NPS and
    CES pooled over the answers to each survey's first question of that type. Five queries."""
    surveys = list(Survey.objects.filter(store=store).values_list("id", "moment", "custom_stage"))
    groups: dict[tuple[str, str], dict[str, Any]] = {}
    for pk, moment, custom_stage in surveys:
        key = (moment, "") if moment else ("", custom_stage)
        group = groups.setdefault(
            key, {"moment": key[0], "custom_stage": key[1], "surveys": 0, "_ids": []}
        )
        group["surveys"] += 1
        group["_ids"].append(pk)
    headline = _headline_questions(store)

    delivery = (
        Invitation.objects.filter(
            _period("sent_at", start, end),
            survey__store=store,
            status__in=Invitation.DELIVERED,
        )
        .values_list("survey_id")
        .annotate(
            delivered=Count("id"),
            answered=Count("id", filter=Q(status=Invitation.Status.ANSWERED)),
        )
        .order_by()
    )
    responses = (
        Response.objects.filter(
            _period("submitted_at", start, end), store=store, submitted_at__isnull=False
        )
        .values_list("survey_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    scores: dict[tuple[int, str], dict[int, int]] = defaultdict(lambda: defaultdict(int))
    if headline:
        rows = (
            Answer.objects.filter(
                _period("answered_at", start, end),
                question_id__in=list(headline),
                number__isnull=False,
            )
            .values_list("question_id", "number")
            .annotate(n=Count("id"))
            .order_by()
        )
        for question_id, number, n in rows:
            survey_id, metric = headline[question_id]
            scores[(survey_id, metric)][number] += n

    delivered_of = {survey_id: (d, a) for survey_id, d, a in delivery}
    responses_of = dict(responses)
    result = []
    for key in sorted(groups, key=lambda k: _moment_key(*k)):
        group = groups[key]
        ids = group.pop("_ids")
        delivered = sum(delivered_of.get(pk, (0, 0))[0] for pk in ids)
        answered = sum(delivered_of.get(pk, (0, 0))[1] for pk in ids)
        pooled = {
            metric: _pool(scores.get((pk, metric), {}) for pk in ids)
            for metric in ("csat", "nps", "ces")
        }
        result.append(
            {
                **group,
                "label": str(Moment(key[0]).label) if key[0] else key[1] or _("No moment of truth"),
                "delivered": delivered,
                "responses": sum(responses_of.get(pk, 0) for pk in ids),
                "response_rate": stats.Proportion(answered, delivered).as_dict(),
                "csat": stats.csat(pooled["csat"]),
                "nps": stats.nps(pooled["nps"]),
                "ces": stats.ces(pooled["ces"]),
            }
        )
    return result


@dataclass(frozen=True)
class Headline:
    """A survey's headline question of one scale (its first of that type)."""

    survey_id: int
    store_id: int
    stage: tuple[str, str]  # (moment, "") or ("", custom stage)
    metric: str  # csat, nps or ces


def _headlines(**survey_filter: Any) -> dict[int, Headline]:
    """Question id -> its Headline, for the surveys the filter (on Question, e.g.
    survey__store=…) selects. One query."""
    headline: dict[int, Headline] = {}
    seen: set[tuple[int, str]] = set()
    question_rows = (
        Question.objects.filter(type__in=SCALE_TYPES, **survey_filter)
        .order_by("survey_id", "position", "id")
        .values_list(
            "id", "survey_id", "type", "survey__store_id", "survey__moment", "survey__custom_stage"
        )
    )
    for question_id, survey_id, kind, store_id, moment, custom_stage in question_rows:
        metric = METRIC_OF_TYPE[kind][0]
        if (survey_id, metric) not in seen:
            seen.add((survey_id, metric))
            stage = (moment, "") if moment else ("", custom_stage)
            headline[question_id] = Headline(survey_id, store_id, stage, metric)
    return headline


def _headline_questions(store: Store) -> dict[int, tuple[int, str]]:
    """Question id -> (survey id, metric) of the store's headline questions. One query."""
    return {q: (h.survey_id, h.metric) for q, h in _headlines(survey__store=store).items()}


def _answers_of_stage(moment: str, custom_stage: str) -> Q:
    """Answers to the surveys of one stage: by moment code, or a custom stage by its name."""
    if moment:
        return Q(question__survey__moment=moment)
    return Q(question__survey__moment="", question__survey__custom_stage=custom_stage)


def scores_by_day(
    *, store: Store, start: datetime, end: datetime, time_zone: str
) -> dict[tuple[str, str, str], dict[Any, dict[int, int]]]:
    """Headline scores answered in [start, end), counted per (moment, custom stage, metric)
    and day in `time_zone`: what pools into any run of days (a trend's weeks or months)
    without a query per period. Three queries."""
    from zoneinfo import ZoneInfo

    from django.db.models.functions import TruncDate

    headline = _headline_questions(store)
    if not headline:
        return {}
    stage_of = {
        pk: (moment, "" if moment else custom_stage)
        for pk, moment, custom_stage in Survey.objects.filter(store=store).values_list(
            "id", "moment", "custom_stage"
        )
    }
    rows = (
        Answer.objects.filter(
            _period("answered_at", start, end),
            question_id__in=list(headline),
            number__isnull=False,
        )
        .annotate(day=TruncDate("answered_at", tzinfo=ZoneInfo(time_zone or "UTC")))
        .values_list("question_id", "day", "number")
        .annotate(n=Count("id"))
        .order_by()
    )
    counts: dict[tuple[str, str, str], dict[Any, dict[int, int]]] = defaultdict(
        lambda: defaultdict(lambda: defaultdict(int))
    )
    for question_id, day, number, n in rows:
        survey_id, metric = headline[question_id]
        moment, custom_stage = stage_of[survey_id]
        counts[(moment, custom_stage, metric)][day][number] += n
    return counts


def stage_answers(
    *,
    store: Store,
    moment: str,
    custom_stage: str,
    start: datetime,
    end: datetime,
    limit: int = TEXT_ANSWERS_SHOWN,
) -> dict[str, Any]:
    """One stage's answers in [start, end): how many gave each score of each headline scale,
    and its free-text comments, newest first (`limit` of them; `comments_total` counts all).
    Comments carry their text, day and language, never who wrote them. Three queries."""
    headline = _headline_questions(store)
    of_stage = _answers_of_stage(moment, custom_stage)
    scores: dict[str, dict[int, int]] = {"csat": {}, "nps": {}, "ces": {}}
    rows = (
        Answer.objects.filter(
            of_stage,
            _period("answered_at", start, end),
            question_id__in=list(headline),
            number__isnull=False,
        )
        .values_list("question_id", "number")
        .annotate(n=Count("id"))
        .order_by()
    )
    for question_id, number, n in rows:
        metric = headline[question_id][1]
        scores[metric][number] = scores[metric].get(number, 0) + n
    comments = list(
        Answer.objects.filter(
            of_stage,
            _period("answered_at", start, end),
            question__type=Question.Type.FREE_TEXT,
            question__survey__store=store,
        )
        .exclude(text="")
        .annotate(total=Window(Count("id")))
        .order_by("-answered_at", "-id")
        .values_list("text", "answered_at", "response__language", "total")[:limit]
    )
    listed = [
        {"text": text, "answered_at": at, "language": language}
        for text, at, language, _total in comments
    ]
    return {
        "scores": {metric: dict(sorted(v.items())) for metric, v in scores.items()},
        "comments": listed,
        "comments_total": comments[0][3] if listed else 0,
    }


# --- Comment themes


# Free-text answers read at a time by a computation (a server-side cursor): a few MB.
COMMENTS_BATCH = 2000


def comments_of_store(
    *, store: Store, before: datetime
) -> Iterator[tuple[tuple[str, str], Comment]]:
    """Every free-text answer of the store's surveys saved before `before`, newest first, in
    one of the six survey languages (the response's), with its stage (moment, custom stage)
    and its response's score on each headline scale (the survey's first question of the
    scale, as the results read them). One query, read COMMENTS_BATCH rows at a time."""
    by_metric: dict[str, list[int]] = defaultdict(list)
    for question_id, headline in _headlines(survey__store=store).items():
        by_metric[headline.metric].append(question_id)
    scores = {
        f"score_{metric}": Subquery(
            Answer.objects.filter(
                response_id=OuterRef("response_id"),
                question_id__in=questions,
                number__isnull=False,
            ).values("number")[:1]
        )
        for metric, questions in by_metric.items()
    }
    rows = (
        Answer.objects.filter(
            question__survey__store=store,
            question__type=Question.Type.FREE_TEXT,
            answered_at__lt=before,
            response__language__in=LANGUAGES,
        )
        .exclude(text="")
        .annotate(**scores)
        .order_by("-answered_at", "-id")
        .values_list(
            "id",
            "text",
            "response__language",
            "answered_at",
            "question__survey__moment",
            "question__survey__custom_stage",
            *scores,
        )
    )
    metrics = [name.removeprefix("score_") for name in scores]
    for pk, text, language, answered_at, moment, custom_stage, *numbers in rows.iterator(
        chunk_size=COMMENTS_BATCH
    ):
        stage = (moment, "") if moment else ("", custom_stage)
        given = {m: n for m, n in zip(metrics, numbers, strict=True) if n is not None}
        yield stage, Comment(pk, text, language, answered_at, given)


def comment_themes(
    *,
    store: Store,
    period: str = CommentThemeResult.Period.LAST_90,
    stage: tuple[str, str] | None = None,
) -> dict[str, Any]:
    """The store's stored comment themes of one period: of every stage, or of one (moment,
    custom stage). Per stage and language: the answers, their scores, and the themes with
    their share of those answers and up to three example answers, newest first, read now:
    an answer deleted since (its contact erased) is not shown. Examples carry their text, day
    and language, never who wrote them. `computed_at` is the store's last computation (None
    before the first, or while it has no free-text answer). Three queries."""
    rows = CommentThemeResult.objects.filter(store=store, period=period)
    computed = rows.aggregate(computed_at=Max("computed_at"), start=Min("start"))
    if stage is not None:
        rows = rows.filter(moment=stage[0], custom_stage=stage[1])
    results = list(rows)
    wanted = {pk for row in results for theme in row.themes for pk in theme["examples"]}
    examples = {
        pk: {"text": text, "answered_at": answered_at, "language": language}
        for pk, text, answered_at, language in Answer.objects.filter(
            pk__in=wanted, question__survey__store=store
        )
        .exclude(text="")
        .values_list("id", "text", "answered_at", "response__language")
    }
    stages: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for row in results:
        stages[(row.moment, row.custom_stage)].append(
            {
                "language": row.language,
                "answers": row.answers,
                "scores": row.scores,
                "themes": [
                    {
                        "phrase": theme["phrase"],
                        "words": theme["words"],
                        "answers": theme["answers"],
                        "share": stats.Proportion(theme["answers"], row.answers).as_dict(),
                        "scores": theme["scores"],
                        "examples": [examples[pk] for pk in theme["examples"] if pk in examples],
                    }
                    for theme in row.themes
                ],
            }
        )
    return {
        "period": str(period),
        "start": computed["start"],
        "computed_at": computed["computed_at"],
        "stages": [
            {
                "moment": key[0],
                "custom_stage": key[1],
                "label": str(Moment(key[0]).label) if key[0] else key[1] or _("No moment of truth"),
                # The languages with the most answers first.
                "languages": sorted(languages, key=lambda g: (-g["answers"], g["language"])),
            }
            for key, languages in sorted(stages.items(), key=lambda item: _moment_key(*item[0]))
        ],
    }


# A computation may run while an answer's transaction commits: answers saved up to this long
# before a store's last computation count as new again, so that none is missed.
THEMES_OVERLAP = timedelta(minutes=1)


def stores_with_new_comments(*, since: datetime) -> list[int]:
    """The stores (not being deleted) with free-text answers saved since `since` and after
    their last comment themes' computation (less THEMES_OVERLAP), or never computed. Two
    queries; the answers' one reads the free-text questions' (question, answered_at) index."""
    last = dict(
        CommentThemeResult.objects.values_list("store_id")
        .annotate(at=Max("computed_at"))
        .order_by()
    )
    rows = (
        Answer.objects.filter(
            question__type=Question.Type.FREE_TEXT,
            question__survey__store__deletion_requested_at__isnull=True,
            answered_at__gte=since,
        )
        .exclude(text="")
        .values_list("question__survey__store_id")
        .annotate(latest=Max("answered_at"))
        .order_by()
    )
    return sorted(
        store_id
        for store_id, latest in rows
        if store_id not in last or latest >= last[store_id] - THEMES_OVERLAP
    )


def stores_with_comment_themes() -> list[int]:
    """The stores (not being deleted) with a free-text question or stored comment themes."""
    asking = Question.objects.filter(
        type=Question.Type.FREE_TEXT, survey__store__deletion_requested_at__isnull=True
    ).values_list("survey__store_id", flat=True)
    stored = CommentThemeResult.objects.filter(
        store__deletion_requested_at__isnull=True
    ).values_list("store_id", flat=True)
    return sorted(set(asking) | set(stored))


def _pool(counts: Iterable[dict[int, int]]) -> list[int]:
    total: dict[int, int] = defaultdict(int)
    for one in counts:
        for value, n in one.items():
            total[value] += n
    return _expand(total)


def scores_by_moment(
    *, periods: dict[int, tuple[datetime, datetime]]
) -> dict[int, dict[tuple[str, str], dict[str, Any]]]:
    """results_by_moment's CSAT, NPS and CES for many stores at once, each store over its own
    period [start, end) (store id → period, days in its time zone): per store, per (moment,
    custom stage) of its surveys with a scale question. Two queries whatever the number of
    stores; the answers' query names each store's period, so it grows with the stores (an
    organisation has at most a few dozen)."""
    if not periods:
        return {}
    # Each survey's headline question of each scale, as results_by_moment takes it.
    headline = {
        q: (h.store_id, h.stage, h.metric)
        for q, h in _headlines(survey__store_id__in=list(periods)).items()
    }
    if not headline:
        return {}
    of_store: dict[int, list[int]] = defaultdict(list)
    for question_id, (store_id, _key, _metric) in headline.items():
        of_store[store_id].append(question_id)
    in_period = Q()
    for store_id, questions in of_store.items():
        start, end = periods[store_id]
        in_period |= Q(question_id__in=questions, answered_at__gte=start, answered_at__lt=end)
    # Every group, answered in the period or not, as results_by_moment has it.
    counts: dict[tuple[int, tuple[str, str], str], dict[int, int]] = {
        group: defaultdict(int) for group in headline.values()
    }
    rows = (
        Answer.objects.filter(in_period, number__isnull=False)
        .values_list("question_id", "number")
        .annotate(n=Count("id"))
        .order_by()
    )
    for question_id, number, n in rows:
        counts[headline[question_id]][number] += n
    result: dict[int, dict[tuple[str, str], dict[str, Any]]] = defaultdict(dict)
    for (store_id, key, metric), scores in counts.items():
        formula = {"csat": stats.csat, "nps": stats.nps, "ces": stats.ces}[metric]
        result[store_id].setdefault(key, {})[metric] = formula(_expand(scores))
    return dict(result)


# --- The admin's export of individual responses


def responses_csv(*, survey: Survey) -> str:
    """One row per submitted response: the contact's address, language, time and one column
    per question (scores as numbers, choices as their labels, text as written). Cells that a
    spreadsheet would run as a formula are kept as text."""
    questions = _questions(survey)
    labels = {q.pk: _labels(survey, q) for q in questions}
    responses = (
        Response.objects.filter(survey=survey, submitted_at__isnull=False)
        .select_related("invitation__contact")
        .prefetch_related("answers")
        .order_by("submitted_at", "id")
    )
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            csv_cell(v)
            for v in (
                "response_id",
                "email",
                "language",
                "submitted_at",
                *(
                    f"Q{index} {_question_text(survey, q)}"
                    for index, q in enumerate(questions, start=1)
                ),
            )
        ]
    )
    for response in responses.iterator(chunk_size=500):
        answers = {a.question_id: a for a in response.answers.all()}
        row: list[Any] = [
            response.pk,
            response.invitation.contact.email,
            response.language,
            response.submitted_at.isoformat() if response.submitted_at else "",
        ]
        for q in questions:
            answer = answers.get(q.pk)
            row.append("" if answer is None else _answer_value(q, answer, labels[q.pk]))
        writer.writerow([csv_cell(v) for v in row])
    return out.getvalue()


def _answer_value(question: Question, answer: Answer, labels: list[str]) -> Any:
    if question.type == Question.Type.SINGLE_CHOICE:
        return _label(labels, answer.number)
    if question.type == Question.Type.MULTIPLE_CHOICE:
        return "; ".join(_label(labels, i) for i in answer.choices)
    if question.type == Question.Type.FREE_TEXT:
        return answer.text
    return answer.number


def _label(labels: list[str], index: int | None) -> str:
    if index is None:
        return ""
    return labels[index] if 0 <= index < len(labels) else str(index)


# --- The public pages' reads
#
# Every request of the answer pages starts with these two reads. In plain SQL rather than
# through the ORM: building and compiling the ORM's three-join query cost more CPU than
# everything else in a submission (bench/answer_bench.py), and the public pages are the
# part of the product that sees a crowd (a survey sent to a store's buyers at once).

ModelT = TypeVar("ModelT", bound=models.Model)


@functools.lru_cache(maxsize=32)
def _columns(
    model: type[models.Model], names: tuple[str, ...]
) -> tuple[list[str], list[tuple[int | None, Any]]]:
    """For the columns `names`, in the model's own field order (the order Model.from_db
    takes): every attribute name, and where each value comes from (its index in `names`, or
    None: deferred) with its conversion from the database (or None), as the ORM applies it.
    Looked up once per model and columns."""
    given = {model._meta.get_field(name).attname: index for index, name in enumerate(names)}  # type: ignore[union-attr]
    fields = model._meta.concrete_fields
    return (
        [field.attname for field in fields],
        [(given.get(field.attname), getattr(field, "from_db_value", None)) for field in fields],
    )


def _from_row(
    model: type[ModelT], names: tuple[str, ...], values: Sequence[Any], *, decoded: bool = False
) -> ModelT:
    """An instance of `model` from the columns `names` read with plain SQL (`values` in that
    order), converted as the ORM would (JSON decoded, unless `decoded` already); the other
    fields are deferred, as with only()."""
    attnames, plan = _columns(model, names)
    row = [
        DEFERRED
        if index is None
        else values[index]
        if convert is None or decoded
        else convert(values[index], None, connection)
        for index, convert in plan
    ]
    return model.from_db(connection.alias, attnames, row)


INVITATION_BY_TOKEN_SQL = """
SELECT invitation.id, invitation.contact_id, invitation.status, invitation.language,
       survey.id, survey.status, survey.languages, survey.default_language,
       survey.thank_you_text, store.id, store.name,
       response.id, response.language, response.submitted_at{questions}
FROM surveys_invitation AS invitation
JOIN surveys_survey AS survey ON survey.id = invitation.survey_id
JOIN accounts_store AS store ON store.id = survey.store_id
LEFT JOIN surveys_response AS response ON response.invitation_id = invitation.id
WHERE invitation.token_hash = %s AND invitation.status <> ALL(%s)
"""
# The answer page's questions, in order, as one JSON array in the same row (one round trip).
WITH_QUESTIONS = """,
       (SELECT coalesce(json_agg(json_build_array(question.id, question.position,
                                                  question.type, question.required,
                                                  question.text, question.choices)
                                 ORDER BY question.position, question.id), '[]')::text
        FROM surveys_question AS question WHERE question.survey_id = survey.id)"""
QUESTION_FIELDS = ("id", "position", "type", "required", "text", "choices")


def invitation_by_token(*, token: str) -> Invitation | None:
    """The sent invitation of a link token, with what the public pages read of it: its
    survey and store (`invitation.survey.store`) and its response, if any (cached even when
    there is none: `invitation.response` raises then). Other fields are deferred: the
    contact, for one, is read only when asked for (unsubscribing)."""
    found = _invitation_by_token(token, with_questions=False)
    return found[0] if found is not None else None


def answer_page_by_token(*, token: str) -> tuple[Invitation, list[Question]] | None:
    """invitation_by_token, and the survey's questions in the order the page asks them, in
    the same statement."""
    return _invitation_by_token(token, with_questions=True)


def _invitation_by_token(
    token: str, *, with_questions: bool
) -> tuple[Invitation, list[Question]] | None:
    if not token or len(token) > 100:
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            INVITATION_BY_TOKEN_SQL.format(questions=WITH_QUESTIONS if with_questions else ""),
            [tokens.token_hash(token), [Invitation.Status.QUEUED, Invitation.Status.CAPPED]],
        )
        row = cursor.fetchone()  # token_hash is unique
    if row is None:
        return None
    (
        pk,
        contact_id,
        status,
        language,
        survey_id,
        survey_status,
        languages,
        default_language,
        thank_you_text,
        store_id,
        store_name,
        response_id,
        response_language,
        submitted_at,
    ) = row[:14]
    store = _from_row(Store, ("id", "name"), (store_id, store_name))
    survey = _from_row(
        Survey,
        ("id", "store", "status", "languages", "default_language", "thank_you_text"),
        (survey_id, store_id, survey_status, languages, default_language, thank_you_text),
    )
    survey.store = store
    invitation = _from_row(
        Invitation,
        ("id", "survey", "contact", "status", "language"),
        (pk, survey_id, contact_id, status, language),
    )
    invitation.survey = survey
    response = None
    if response_id is not None:
        response = _from_row(
            Response,
            ("id", "invitation", "survey", "store", "language", "submitted_at"),
            (response_id, pk, survey_id, store_id, response_language, submitted_at),
        )
        response.invitation = invitation
    Invitation.response.related.set_cached_value(invitation, response)
    questions = []
    if with_questions:
        # Text and choices are decoded already: they are JSON inside the JSON array.
        for values in json.loads(row[14]):
            question = _from_row(
                Question, ("survey", *QUESTION_FIELDS), (survey_id, *values), decoded=True
            )
            question.survey = survey
            questions.append(question)
    return invitation, questions


def contact_export(*, contact: Contact) -> dict[str, Any]:
    """Everything stored about one person, for a data-subject access request."""
    invitations = contact.invitations.select_related("survey").prefetch_related(
        "response__answers__question"
    )
    data: dict[str, Any] = {
        "contact": {
            "email": contact.email,
            "customer_key": contact.customer_key,
            "name": contact.name,
            "language": contact.language,
            "store": contact.store.name,
            "created_at": contact.created_at.isoformat(),
            "unsubscribed_at": contact.unsubscribed_at.isoformat()
            if contact.unsubscribed_at
            else None,
            "suppressed_at": contact.suppressed_at.isoformat() if contact.suppressed_at else None,
            "suppression_reason": contact.suppression_reason,
        },
        "invitations": [
            {
                "survey": inv.survey.name,
                "status": inv.status,
                "language": inv.language,
                "sent_at": inv.sent_at.isoformat() if inv.sent_at else None,
                "reminder_sent_at": inv.reminder_sent_at.isoformat()
                if inv.reminder_sent_at
                else None,
                "answers": [
                    {
                        "question": answer.question.text.get(inv.language) or str(answer.question),
                        "number": answer.number,
                        "choices": answer.choices,
                        "text": answer.text,
                        "answered_at": answer.answered_at.isoformat(),
                    }
                    for answer in (inv.response.answers.all() if hasattr(inv, "response") else [])
                ],
            }
            for inv in invitations
        ],
    }
    for _receiver, sections in contact_exporting.send(sender=Contact, contact=contact):
        data.update(cast(dict[str, Any], sections))
    return data
