"""A buyer's answers: cleaned, checked and saved (the first save in one statement)."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from surveys.models import (
    Answer,
    Invitation,
    Question,
    Response,
    Survey,
)
from surveys.selectors import _from_row

logger = logging.getLogger(__name__)

MAX_TEXT_ANSWER = 5000


# --- Answers


def _clean_answer(question: Question, raw: Any, language: str) -> dict[str, Any] | None:
    """Turn a submitted value into Answer fields; None for no answer; ValueError if invalid."""
    if raw is None or raw == "" or raw == []:
        return None
    if question.scale is not None:
        low, high = question.scale
        value = int(raw)
        if not low <= value <= high:
            raise ValueError("out of range")
        return {"number": value, "choices": [], "text": ""}
    if question.type == Question.Type.SINGLE_CHOICE:
        count = len(
            (question.choices or {}).get(language) or next(iter(question.choices.values()), [])
        )
        value = int(raw)
        if not 0 <= value < count:
            raise ValueError("no such choice")
        return {"number": value, "choices": [], "text": ""}
    if question.type == Question.Type.MULTIPLE_CHOICE:
        count = len(
            (question.choices or {}).get(language) or next(iter(question.choices.values()), [])
        )
        values = sorted({int(v) for v in (raw if isinstance(raw, list | tuple) else [raw])})
        if any(not 0 <= v < count for v in values):
            raise ValueError("no such choice")
        return {"number": None, "choices": values, "text": ""} if values else None
    # PostgreSQL's text cannot hold NUL; no keyboard types one, so it is dropped, not refused.
    text = str(raw).replace("\x00", "").strip()
    if len(text) > MAX_TEXT_ANSWER:
        raise ValueError("too long")
    return {"number": None, "choices": [], "text": text} if text else None


def _cleaned_answers(
    *, answers: dict[int, Any], questions: dict[int, Question], language: str
) -> tuple[dict[int, dict[str, Any] | None], dict[int, str]]:
    """Each given answer of the survey's questions as Answer fields (None: no answer), and
    the errors per question id of those that cannot be saved."""
    cleaned: dict[int, dict[str, Any] | None] = {}
    errors: dict[int, str] = {}
    for question_id, raw in answers.items():
        question = questions.get(question_id)
        if question is None:
            continue
        try:
            cleaned[question_id] = _clean_answer(question, raw, language)
        except (ValueError, TypeError) as exc:
            errors[question_id] = "too_long" if str(exc) == "too long" else "invalid"
    return cleaned, errors


def _missing_required(questions: dict[int, Question], answered: Iterable[int]) -> dict[int, str]:
    done = set(answered)
    return {pk: "required" for pk, q in questions.items() if q.required and pk not in done}


# The first save of an invitation in one statement, without a lock: the response, its answers
# and, when it submits, the invitation's status. Every buyer's first POST takes this path,
# and most buyers post once (the email's score link, or a one-question survey), so it is the
# public pages' hottest write: one round trip instead of the seven (BEGIN, lock, read,
# three writes, COMMIT) of a later save, and no ORM compilation (~3 ms of CPU per
# submission on a 2-core server, bench/answer_bench.py). Nothing at all is written, and no
# row returned, when the survey is not open (read here, not from the caller's copy) or when
# the invitation has a response already (ON CONFLICT; a concurrent first save waits here
# for the other's commit): the locked path then sorts out which.
FIRST_SAVE_SQL = """
WITH new_response AS (
    INSERT INTO surveys_response
        (invitation_id, survey_id, store_id, language, started_at, updated_at, submitted_at)
    SELECT %(invitation)s, id, store_id, %(language)s, %(now)s, %(now)s, %(submitted_at)s
    FROM surveys_survey WHERE id = %(survey)s AND status = ANY(%(open)s)
    ON CONFLICT (invitation_id) DO NOTHING
    RETURNING id
),
new_answers AS (
    INSERT INTO surveys_answer (response_id, question_id, number, choices, text, answered_at)
    SELECT new_response.id, given.question_id, given.number, given.choices::smallint[],
           given.text, %(now)s
    FROM new_response,
         unnest(%(questions)s::integer[], %(numbers)s::smallint[], %(choices)s::text[],
                %(texts)s::text[]) AS given (question_id, number, choices, text)
),
answered AS (
    UPDATE surveys_invitation SET status = %(answered)s, answered_at = %(now)s
    WHERE id = %(invitation)s AND %(submitted)s AND EXISTS (SELECT FROM new_response)
)
SELECT id FROM new_response
"""


def _response_first_save(
    *,
    invitation: Invitation,
    survey: Survey,
    language: str,
    cleaned: dict[int, dict[str, Any]],
    submitted: bool,
    now: datetime,
) -> Response | None:
    """The response with its answers, if this invitation had none yet and its survey is open;
    else None, and nothing written."""
    given = list(cleaned.items())
    with connection.cursor() as cursor:
        cursor.execute(
            FIRST_SAVE_SQL,
            {
                "invitation": invitation.pk,
                "survey": survey.pk,
                "open": [Survey.Status.ACTIVE.value, Survey.Status.PAUSED.value],
                "language": language,
                "now": now,
                "submitted_at": now if submitted else None,
                "submitted": submitted,
                "answered": Invitation.Status.ANSWERED.value,
                "questions": [question_id for question_id, _fields in given],
                "numbers": [fields["number"] for _question_id, fields in given],
                "choices": [
                    "{" + ",".join(map(str, fields["choices"])) + "}" for _pk, fields in given
                ],
                "texts": [fields["text"] for _question_id, fields in given],
            },
        )
        row = cursor.fetchone()
    if row is None:
        return None
    if submitted:
        invitation.status = Invitation.Status.ANSWERED
        invitation.answered_at = now
    response = _from_row(
        Response,
        (
            "id",
            "invitation",
            "survey",
            "store",
            "language",
            "started_at",
            "updated_at",
            "submitted_at",
        ),
        (
            row[0],
            invitation.pk,
            survey.pk,
            survey.store_id,
            language,
            now,
            now,
            now if submitted else None,
        ),
    )
    response.invitation, response.survey = invitation, survey
    return response


def response_save(
    *,
    invitation: Invitation,
    answers: dict[int, Any],
    language: str,
    submit: bool,
    questions: Iterable[Question] | None = None,
) -> tuple[Response, dict[int, str]]:
    """Save the given answers (partial saves keep them); with `submit`, finish the response.

    Returns the response and errors per question id ("required", "invalid", "too_long");
    valid answers are saved even when others are not. One response per invitation: a second
    submission changes nothing. `questions`: the survey's questions when the caller has
    them already (read again otherwise); questions of another survey are ignored. A survey
    that is not open (draft or closed, as the database has it) takes nothing: ValidationError.
    """
    survey = invitation.survey
    language = language if language in survey.languages else invitation.language
    if questions is None:
        questions = survey.questions.all()
    by_pk = {q.pk: q for q in questions if q.survey_id == survey.pk}
    cleaned, errors = _cleaned_answers(answers=answers, questions=by_pk, language=language)
    now = timezone.now()

    # No response yet, as far as the caller knows (`invitation.response` read with it):
    # the first save, in one statement.
    cached = Invitation.response.is_cached(invitation)
    if not cached or getattr(invitation, "response", None) is None:
        given = {pk: fields for pk, fields in cleaned.items() if fields is not None}
        first_errors = dict(errors)
        if submit and not first_errors:
            first_errors = _missing_required(by_pk, given)
        response = _response_first_save(
            invitation=invitation,
            survey=survey,
            language=language,
            cleaned=given,
            submitted=submit and not first_errors,
            now=now,
        )
        if response is not None:
            return response, first_errors

    # A later save, in one transaction. The invitation's row lock serialises the saves of an
    # invitation that has a response (two tabs, a double click), so the response read below,
    # in a statement of its own, is the current one. It cannot be joined into the locking
    # statement: a read that waited for the lock would still see the rows of its own
    # snapshot, from before the other save committed. Only the invitation's row is locked
    # (its survey's status is read with it): locking the survey's row too would serialise
    # every submission of a survey.
    with transaction.atomic():
        return _response_save_later(
            invitation=invitation,
            questions=by_pk,
            cleaned=cleaned,
            errors=errors,
            language=language,
            submit=submit,
            now=now,
        )


def _response_save_later(
    *,
    invitation: Invitation,
    questions: dict[int, Question],
    cleaned: dict[int, dict[str, Any] | None],
    errors: dict[int, str],
    language: str,
    submit: bool,
    now: datetime,
) -> tuple[Response, dict[int, str]]:
    survey_status = (
        Invitation.objects.select_for_update(of=("self",))
        .filter(pk=invitation.pk)
        .values_list("survey__status", flat=True)
        .get()
    )
    if survey_status not in (Survey.Status.ACTIVE, Survey.Status.PAUSED):
        raise ValidationError(_("This survey is closed."))
    response = Response.objects.get(invitation=invitation)
    if response.submitted_at is not None:
        return response, {}
    existing = {a.question_id: a for a in response.answers.all()}
    new: list[Answer] = []
    for question_id, fields in cleaned.items():
        if fields is None:
            if question_id in existing:
                existing.pop(question_id).delete()
            continue
        answer = existing.get(question_id)
        if answer is None:  # created below, all in one INSERT
            existing[question_id] = Answer(
                response=response, question_id=question_id, answered_at=now, **fields
            )
            new.append(existing[question_id])
        else:
            for key, value in fields.items():
                setattr(answer, key, value)
            answer.answered_at = now
            answer.save()
    Answer.objects.bulk_create(new)
    if submit and not errors:
        errors = _missing_required(questions, existing)
    submitted = submit and not errors
    if submitted or response.language != language:
        response.language = language
        response.submitted_at = now if submitted else None
        response.save(update_fields=["language", "submitted_at", "updated_at"])
    if submitted:
        Invitation.objects.filter(pk=invitation.pk).update(
            status=Invitation.Status.ANSWERED, answered_at=now
        )
        invitation.status = Invitation.Status.ANSWERED
        invitation.answered_at = now
    return response, errors


def invitation_mark_opened(*, invitation: Invitation) -> None:
    """The buyer opened the link: proof of delivery, also for an `unknown` invitation."""
    if invitation.status not in (Invitation.Status.SENT, Invitation.Status.UNKNOWN):
        return  # already opened, answered or bounced: nothing to record, no UPDATE
    Invitation.objects.filter(
        pk=invitation.pk, status__in=[Invitation.Status.SENT, Invitation.Status.UNKNOWN]
    ).update(status=Invitation.Status.OPENED, opened_at=timezone.now())
