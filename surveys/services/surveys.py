"""Surveys and their questions, and a store's sending settings."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from accounts.models import Organisation, Store
from accounts.services import Actor, audit_record
from core.ordering import positions_renumber
from journeys.models import Moment
from surveys.models import (
    SURVEY_LANGUAGES,
    Question,
    StoreSurveySettings,
    Survey,
)

logger = logging.getLogger(__name__)


# --- Store settings


def store_survey_settings(*, store: Store) -> StoreSurveySettings:
    settings_row, _created = StoreSurveySettings.objects.get_or_create(store=store)
    return settings_row


@transaction.atomic
def store_survey_settings_update(
    *, store: Store, actor: Actor, **fields: Any
) -> StoreSurveySettings:
    row = store_survey_settings(store=store)
    for name in ("sender_name", "reply_to", "fatigue_days", "send_rate_per_minute"):
        if name in fields:
            setattr(row, name, fields[name])
    errors: dict[str, str] = {}
    low, high = StoreSurveySettings.FATIGUE_DAYS_RANGE
    if not low <= row.fatigue_days <= high:
        errors["fatigue_days"] = _("Give a number of days from %(min)s to %(max)s.") % {
            "min": low,
            "max": number_format(high, force_grouping=True),
        }
    low, high = StoreSurveySettings.SEND_RATE_RANGE
    if not low <= row.send_rate_per_minute <= high:
        errors["send_rate_per_minute"] = _(
            "Give a number of emails per minute from %(min)s to %(max)s."
        ) % {"min": low, "max": number_format(high, force_grouping=True)}
    # The From header: a line break would make every message of the store fail to build.
    if any(ord(char) < 32 or ord(char) == 127 for char in row.sender_name):
        errors["sender_name"] = _("The sender name must be one line of text.")
    if errors:
        raise ValidationError(errors)
    row.full_clean(exclude=["store"])
    row.save()
    audit_record(
        organisation=store.organisation,
        actor=actor,
        action="survey_settings.updated",
        target=store,
        details={k: str(v) for k, v in fields.items()},
    )
    return row


# --- Surveys and questions


def _check_languages(languages: Iterable[str]) -> list[str]:
    result = [code for code in dict.fromkeys(languages) if code]
    unknown = [code for code in result if code not in SURVEY_LANGUAGES]
    if unknown or not result:
        raise ValidationError(
            {
                "languages": _("Choose one or more of %(codes)s.")
                % {"codes": ", ".join(SURVEY_LANGUAGES)}
            }
        )
    return result


@transaction.atomic
def survey_create_from_template(
    *,
    organisation: Organisation,
    store: Store,
    actor: Actor,
    template: str,
    languages: Iterable[str] | None = None,
    name: str = "",
) -> Survey:
    from surveys.blueprints import TEMPLATES

    if template not in TEMPLATES:
        raise ValidationError({"template": _("Unknown template %(key)s.") % {"key": template}})
    if store.organisation_id != organisation.pk:
        raise ValidationError({"store": _("Choose a store of this organisation.")})
    blueprint = TEMPLATES[template]
    chosen = _check_languages(languages or SURVEY_LANGUAGES)
    default = store.default_language if store.default_language in chosen else chosen[0]

    def pick(texts: dict[str, str]) -> dict[str, str]:
        return {code: texts[code] for code in chosen if code in texts}

    survey = Survey.objects.create(
        organisation=organisation,
        store=store,
        name=name.strip() or blueprint["name"].get(default) or blueprint["name"]["en"],
        kind=blueprint["kind"],
        moment=blueprint["moment"],
        trigger_event=blueprint["trigger_event"],
        delay=timedelta(hours=blueprint["delay_hours"]),
        reminder_after_days=blueprint["reminder_after_days"],
        languages=chosen,
        default_language=default,
        email_subject=pick(blueprint["email_subject"]),
        email_intro=pick(blueprint["email_intro"]),
        thank_you_text=pick(blueprint["thank_you"]),
        template_key=template,
        created_by=actor.user,
    )
    Question.objects.bulk_create(
        Question(
            survey=survey,
            position=index,
            type=q["type"],
            required=q["required"],
            text=pick(q["text"]),
            choices={code: list(values) for code, values in pick(q.get("choices") or {}).items()},
        )
        for index, q in enumerate(blueprint["questions"])
    )
    audit_record(
        organisation=organisation,
        actor=actor,
        action="survey.created",
        target=survey,
        details={"template": template},
    )
    return survey


SURVEY_FIELDS = (
    "name",
    "moment",
    "custom_stage",
    "touchpoint",
    "trigger_event",
    "delay",
    "reminder_after_days",
    "languages",
    "default_language",
    "email_subject",
    "email_intro",
    "thank_you_text",
)


def _check_survey(survey: Survey) -> None:
    if not survey.name.strip():
        raise ValidationError({"name": _("Give the survey a name.")})
    survey.languages = _check_languages(survey.languages)
    if survey.default_language not in survey.languages:
        raise ValidationError(
            {"default_language": _("The default language must be one of the survey's languages.")}
        )
    if survey.moment and survey.moment not in Moment.values:
        raise ValidationError({"moment": _("Unknown moment code.")})
    if survey.moment and survey.custom_stage:
        raise ValidationError(
            {"custom_stage": _("Choose a moment code or a custom stage, not both.")}
        )
    if survey.touchpoint is not None and (
        survey.touchpoint.stage.journey.organisation_id != survey.organisation_id
    ):
        raise ValidationError({"touchpoint": _("Choose a touchpoint of this organisation.")})
    if survey.delay < timedelta(0):
        raise ValidationError({"delay": _("The delay cannot be negative.")})


@transaction.atomic
def survey_create(
    *, organisation: Organisation, store: Store, actor: Actor, name: str, kind: str, **fields: Any
) -> Survey:
    if store.organisation_id != organisation.pk:
        raise ValidationError({"store": _("Choose a store of this organisation.")})
    survey = Survey(
        organisation=organisation,
        store=store,
        name=name.strip(),
        kind=kind,
        created_by=actor.user,
        languages=fields.pop("languages", None) or [store.default_language],
        default_language=fields.pop("default_language", None) or "",
    )
    if not survey.default_language:
        # Unless chosen: the store's language when the survey has it, else its first one.
        survey.default_language = (
            store.default_language
            if store.default_language in survey.languages
            else (survey.languages[0] if survey.languages else "")
        )
    for key in SURVEY_FIELDS:
        if key in fields:
            setattr(survey, key, fields[key])
    if kind not in Survey.Kind.values:
        raise ValidationError({"kind": _("Unknown survey kind.")})
    _check_survey(survey)
    survey.save()
    audit_record(organisation=organisation, actor=actor, action="survey.created", target=survey)
    return survey


@transaction.atomic
def survey_update(*, survey: Survey, actor: Actor, **fields: Any) -> Survey:
    survey = Survey.objects.select_for_update().get(pk=survey.pk)
    changed = {}
    for key in SURVEY_FIELDS:
        if key in fields and getattr(survey, key) != fields[key]:
            changed[key] = str(fields[key])[:200]
            setattr(survey, key, fields[key])
    _check_survey(survey)
    survey.save()
    if changed:
        audit_record(
            organisation=survey.organisation,
            actor=actor,
            action="survey.updated",
            target=survey,
            details=changed,
        )
    return survey


def surveys_close_for_store(*, store: Store) -> int:
    """The store is being deleted: its surveys stop at once (nothing more is triggered, sent,
    reminded or answered), ahead of the removal of their rows in the background."""
    return (
        Survey.objects.filter(store=store)
        .exclude(status=Survey.Status.CLOSED)
        .update(status=Survey.Status.CLOSED, updated_at=timezone.now())
    )


@transaction.atomic
def survey_set_status(*, survey: Survey, actor: Actor, status: str) -> Survey:
    if status not in Survey.Status.values:
        raise ValidationError({"status": _("Unknown status.")})
    survey = Survey.objects.select_for_update().get(pk=survey.pk)
    if status == Survey.Status.ACTIVE:
        if not survey.questions.exists():
            raise ValidationError(_("Add at least one question before activating the survey."))
        if not survey.trigger_event:
            raise ValidationError(_("Set the event that triggers the survey before activating it."))
        missing = _texts_missing(survey=survey)
        if missing:
            raise ValidationError(
                [
                    _(
                        "Fill in every text in each of the survey's languages before "
                        "activating it. Missing:"
                    ),
                    *(
                        _("%(language)s: %(missing)s.")
                        % {"language": dict(settings.LANGUAGES)[code], "missing": ", ".join(parts)}
                        for code, parts in missing.items()
                    ),
                ]
            )
    previous = survey.status
    survey.status = status
    survey.save(update_fields=["status", "updated_at"])
    audit_record(
        organisation=survey.organisation,
        actor=actor,
        action="survey.status_changed",
        target=survey,
        details={"from": previous, "to": status},
    )
    return survey


def _blank(value: Any) -> bool:
    return not str(value or "").strip()


def _lower_first(label: str) -> str:
    """A field's name inside a list ("Email subject" -> "email subject")."""
    return label[:1].lower() + label[1:]


def _texts_missing(*, survey: Survey) -> dict[str, list[str]]:
    """What a buyer would not get in their language: for each of the survey's languages that
    lacks any, the email's subject and intro, the thank-you text, a question's text, a
    choice's label (numbered as the builder lists them). Else the buyer is sent another
    language's text in its place, or a choice list of another language."""
    questions = list(survey.questions.order_by("position", "id"))
    missing: dict[str, list[str]] = {}
    for code in survey.languages:
        parts = [
            _lower_first(label)
            for field, label in (  # the builder's names of the fields (surveys/forms.py)
                ("email_subject", _("Email subject")),
                ("email_intro", _("Email introduction")),
                ("thank_you_text", _("Thank-you text")),
            )
            if _blank((getattr(survey, field) or {}).get(code))
        ]
        for number, question in enumerate(questions, start=1):
            if _blank((question.text or {}).get(code)):
                parts.append(_("question %(number)s") % {"number": number})
            if question.type not in (Question.Type.SINGLE_CHOICE, Question.Type.MULTIPLE_CHOICE):
                continue
            choices = question.choices or {}
            count = max((len(values or []) for values in choices.values()), default=0)
            labels = list(choices.get(code) or [])
            parts.extend(
                _("choice %(choice)s of question %(number)s")
                % {"choice": index + 1, "number": number}
                for index in range(count)
                if index >= len(labels) or _blank(labels[index])
            )
        if parts:
            missing[code] = [str(part) for part in parts]
    return missing


def _check_question(question: Question) -> None:
    if question.type not in Question.Type.values:
        raise ValidationError({"type": _("Unknown question type.")})
    languages = question.survey.languages
    if not any((question.text or {}).get(code) for code in languages):
        raise ValidationError({"text": _("Write the question in at least one language.")})
    if question.type in (Question.Type.SINGLE_CHOICE, Question.Type.MULTIPLE_CHOICE):
        lengths = {
            len(question.choices.get(code) or [])
            for code in languages
            if question.choices.get(code)
        }
        if not lengths or 0 in lengths:
            raise ValidationError({"choices": _("Give the choices.")})
        if len(lengths) > 1:
            raise ValidationError(
                {
                    "choices": _(
                        "Every language needs the same number of choices, in the same order."
                    )
                }
            )
        if any(not str(c).strip() for values in question.choices.values() for c in values):
            raise ValidationError({"choices": _("A choice cannot be empty.")})
    else:
        question.choices = {}


@transaction.atomic
def question_create(
    *, survey: Survey, actor: Actor, position: int | None = None, **fields: Any
) -> Question:
    questions = list(survey.questions.order_by("position", "id"))
    question = Question(
        survey=survey,
        **{k: v for k, v in fields.items() if k in ("type", "required", "text", "choices")},
    )
    _check_question(question)
    index = len(questions) if position is None else max(0, min(position, len(questions)))
    question.position = index
    question.save()
    questions.insert(index, question)
    positions_renumber(questions)
    return question


@transaction.atomic
def question_update(*, question: Question, actor: Actor, **fields: Any) -> Question:
    for name in ("type", "required", "text", "choices"):
        if name in fields:
            setattr(question, name, fields[name])
    _check_question(question)
    question.save()
    return question


@transaction.atomic
def question_delete(*, question: Question, actor: Actor) -> None:
    survey = question.survey
    if question.answers.exists():
        raise ValidationError(
            _("This question has answers; close the survey and make a new one instead.")
        )
    question.delete()
    positions_renumber(list(survey.questions.order_by("position", "id")))


@transaction.atomic
def questions_reorder(*, survey: Survey, actor: Actor, order: list[int]) -> None:
    questions = {q.pk: q for q in survey.questions.all()}
    if sorted(order) != sorted(questions):
        raise ValidationError({"order": _("List every question exactly once.")})
    positions_renumber([questions[pk] for pk in order])
