"""Writes for surveys: surveys and questions, contacts, invitations and their sending,
answers, unsubscribes, bounces and personal-data erasure.

Sending never emails one invitation twice: an invitation is marked `sending` (committed)
before the SMTP call and `sent` after it. An error raised by the SMTP call means the server
did not accept the message, so the invitation goes back to `queued` for a retry with backoff.
A process that dies in between leaves it in `sending`; the sweeper turns that into `unknown`,
which is never resent automatically (an admin may resend it).
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.core.mail import get_connection
from django.core.validators import validate_email
from django.db import IntegrityError, connection, models, transaction
from django.db.models import (
    DEFERRED,
    DateTimeField,
    DurationField,
    ExpressionWrapper,
    F,
    Q,
    Value,
)
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from accounts.models import Organisation, Store
from accounts.services import Actor, audit_record
from core.ordering import positions_renumber
from journeys.models import Moment
from surveys import selectors, tokens
from surveys.emails import Bodies, invitation_message
from surveys.models import (
    SURVEY_LANGUAGES,
    Answer,
    Contact,
    Invitation,
    Question,
    Response,
    StoreSurveySettings,
    Survey,
)

logger = logging.getLogger(__name__)

MAX_SEND_ATTEMPTS = 5
RETRY_BACKOFF = [60, 300, 900, 3600]  # seconds before attempts 2, 3, 4, 5
# Emails a minute for a store without settings: the settings' own default.
DEFAULT_SEND_RATE = StoreSurveySettings._meta.get_field("send_rate_per_minute").default
STUCK_SENDING_AFTER = timedelta(minutes=15)  # far above the SMTP timeout (20 s)
MAX_TEXT_ANSWER = 5000


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
        missing = [
            f"{code}: {q}"
            for q in survey.questions.all()
            for code in survey.languages
            if not (q.text or {}).get(code)
        ]
        if missing:
            raise ValidationError(
                _("Some questions have no text in the survey's languages: %(list)s")
                % {"list": "; ".join(missing[:5])}
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


# --- Contacts


def _normal_email(email: str) -> str:
    email = (email or "").strip().lower()
    validate_email(email)
    return email


@transaction.atomic
def contact_upsert(
    *,
    store: Store,
    email: str,
    customer_key: str = "",
    name: str = "",
    language: str = "",
) -> tuple[Contact, bool]:
    """Create or update the store's contact for this address (addresses are the identity)."""
    try:
        email = _normal_email(email)
    except ValidationError as exc:
        raise ValidationError(
            {"email": _("“%(email)s” is not a valid email address.") % {"email": email}}
        ) from exc
    if language and language not in SURVEY_LANGUAGES:
        raise ValidationError(
            {"language": _("Use one of %(codes)s.") % {"codes": ", ".join(SURVEY_LANGUAGES)}}
        )
    contact = Contact.objects.select_for_update().filter(store=store, email=email).first()
    created = contact is None
    if contact is None:
        contact = Contact(organisation_id=store.organisation_id, store=store, email=email)
    if customer_key:
        contact.customer_key = customer_key.strip()[:128]
    if name:
        contact.name = name.strip()[:160]
    if language:
        contact.language = language
    contact.save()
    return contact, created


@transaction.atomic
def contact_unsubscribe(*, contact: Contact) -> Contact:
    if contact.unsubscribed_at is None:
        contact.unsubscribed_at = timezone.now()
        contact.save(update_fields=["unsubscribed_at"])
    return contact


@transaction.atomic
def contact_suppress(*, store: Store, email: str, reason: str) -> Contact | None:
    """A bounce or complaint: never email this address again; mark its last invitation."""
    contact = (
        Contact.objects.select_for_update().filter(store=store, email=email.strip().lower()).first()
    )
    if contact is None:
        return None
    if contact.suppressed_at is None:
        contact.suppressed_at = timezone.now()
        contact.suppression_reason = reason[:200]
        contact.save(update_fields=["suppressed_at", "suppression_reason"])
    last = (
        contact.invitations.filter(status__in=[Invitation.Status.SENT, Invitation.Status.UNKNOWN])
        .order_by("-sent_at", "-id")
        .first()
    )
    if last is not None:
        last.status = Invitation.Status.BOUNCED
        last.save(update_fields=["status"])
    return contact


def contact_export(*, contact: Contact) -> dict[str, Any]:
    """Everything stored about one person, for a data-subject access request."""
    invitations = contact.invitations.select_related("survey").prefetch_related(
        "response__answers__question"
    )
    return {
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


@transaction.atomic
def contact_erase(*, contact: Contact, actor: Actor) -> None:
    """Delete the person's contact, invitations, responses and answers; keep an audit line
    without the personal data itself."""
    audit_record(
        organisation=contact.organisation,
        actor=actor,
        action="contact.erased",
        details={
            "contact_id": contact.pk,
            "store": contact.store.name,
            "invitations": contact.invitations.count(),
        },
    )
    contact.delete()


# --- Invitations


def _invitation_language(survey: Survey, contact: Contact) -> str:
    for code in (contact.language, survey.store.default_language, survey.default_language):
        if code and code in survey.languages:
            return code
    return survey.languages[0]


def _new_invitation_fields(survey: Survey, contact: Contact) -> dict[str, str]:
    """A new invitation's link secret (its nonce and the token's hash) and its language."""
    nonce = tokens.new_nonce()
    return {
        "nonce": nonce,
        "token_hash": tokens.token_hash(tokens.token_for(nonce)),
        "language": _invitation_language(survey, contact),
    }


@transaction.atomic
def invitations_trigger(
    *,
    store: Store,
    event_name: str,
    occurred_at: datetime,
    customer_key: str = "",
    email: str = "",
) -> list[Invitation]:
    """Queue the invitations of every active survey of the store triggered by this event,
    due after each survey's delay. The event ingestion built later calls this too.
    A repeated call for the same event creates nothing new."""
    surveys = list(
        Survey.objects.select_related("store").filter(
            store=store, status=Survey.Status.ACTIVE, trigger_event=event_name
        )
    )
    if not surveys:
        return []
    contact = None
    if customer_key:
        contact = (
            Contact.objects.filter(store=store, customer_key=customer_key).order_by("id").first()
        )
    if contact is None and email:
        contact, _created = contact_upsert(store=store, email=email, customer_key=customer_key)
    if contact is None:
        return []
    created = []
    for survey in surveys:
        try:
            with transaction.atomic():
                invitation = Invitation.objects.create(
                    survey=survey,
                    contact=contact,
                    **_new_invitation_fields(survey, contact),
                    trigger_event=event_name,
                    triggered_at=occurred_at,
                    due_at=occurred_at + survey.delay,
                )
        except IntegrityError:
            continue  # this event already queued this survey for this contact
        created.append(invitation)
    return created


@dataclass
class SendOutcome:
    status: str
    detail: str = ""


def _claim_batch(
    invitation_ids: list[int], now: datetime
) -> tuple[list[Invitation], dict[int, SendOutcome]]:
    """Decide, under row locks and in one transaction, which invitations are sent now, and
    mark those `sending`. A fixed number of queries whatever the batch's size; invitations
    locked by another worker are skipped (SKIP LOCKED), never waited for."""
    outcomes: dict[int, SendOutcome] = {}
    ids = list(dict.fromkeys(invitation_ids))
    with transaction.atomic():
        rows = list(
            # The contacts are read below, locked; the surveys with their stores here.
            Invitation.objects.select_for_update(of=("self",), skip_locked=True)
            .select_related("survey__store")
            .filter(pk__in=ids)
            .order_by("pk")
        )
        found = {invitation.pk: invitation for invitation in rows}
        absent = [pk for pk in ids if pk not in found]
        if absent:
            locked = set(Invitation.objects.filter(pk__in=absent).values_list("pk", flat=True))
            for pk in absent:
                outcomes[pk] = SendOutcome("skipped" if pk in locked else "missing", "busy")
        queued = [inv for inv in rows if inv.status == Invitation.Status.QUEUED]
        for invitation in rows:
            if invitation.status != Invitation.Status.QUEUED:
                outcomes[invitation.pk] = SendOutcome("skipped", invitation.status)
        # Lock the contacts, in id order: two invitations of one person never pass the cap
        # together, in this batch or in a concurrent one.
        contact_ids = sorted({inv.contact_id for inv in queued})
        contacts = {
            c.pk: c
            for c in Contact.objects.select_for_update().filter(pk__in=contact_ids).order_by("pk")
        }
        default_days = StoreSurveySettings._meta.get_field("fatigue_days").default
        windows = {
            store_id: timedelta(days=days)
            for store_id, days in StoreSurveySettings.objects.filter(
                store_id__in={inv.survey.store_id for inv in queued}
            ).values_list("store_id", "fatigue_days")
        }
        longest = max([*windows.values(), timedelta(days=default_days)])
        recent: dict[int, list[tuple[datetime | None, str]]] = {}
        for contact_id, sent_at, status in (
            Invitation.objects.filter(contact_id__in=contact_ids)
            .filter(Q(sent_at__gte=now - longest) | Q(status=Invitation.Status.SENDING))
            .exclude(pk__in=ids)
            .values_list("contact_id", "sent_at", "status")
        ):
            recent.setdefault(contact_id, []).append((sent_at, status))
        claimed: list[Invitation] = []
        capped: list[int] = []
        failed: dict[str, list[int]] = {}
        taken: set[int] = set()
        for invitation in queued:
            survey = invitation.survey
            contact = contacts[invitation.contact_id]
            window = windows.get(survey.store_id, timedelta(days=default_days))
            if survey.status == Survey.Status.PAUSED:
                outcomes[invitation.pk] = SendOutcome("skipped", "survey paused")
            elif survey.status != Survey.Status.ACTIVE:
                failed.setdefault("survey not active", []).append(invitation.pk)
            elif not contact.can_be_emailed:
                reason = "unsubscribed" if contact.unsubscribed_at else "suppressed"
                failed.setdefault(reason, []).append(invitation.pk)
            elif contact.pk in taken or any(
                status == Invitation.Status.SENDING or (sent_at and sent_at >= now - window)
                for sent_at, status in recent.get(contact.pk, [])
            ):
                capped.append(invitation.pk)
            else:
                taken.add(contact.pk)
                invitation.contact = contact
                invitation.status = Invitation.Status.SENDING
                invitation.sending_started_at = now
                invitation.attempts += 1
                claimed.append(invitation)
        for reason, pks in failed.items():
            Invitation.objects.filter(pk__in=pks).update(
                status=Invitation.Status.FAILED, last_error=reason
            )
            outcomes.update({pk: SendOutcome("failed", reason) for pk in pks})
        if capped:
            Invitation.objects.filter(pk__in=capped).update(status=Invitation.Status.CAPPED)
            outcomes.update({pk: SendOutcome("capped") for pk in capped})
        if claimed:
            Invitation.objects.filter(pk__in=[inv.pk for inv in claimed]).update(
                status=Invitation.Status.SENDING,
                sending_started_at=now,
                attempts=F("attempts") + 1,
            )
    return claimed, outcomes


# Rows marked `sent` together: a worker that dies mid-batch leaves at most this many messages
# in `sending` (later `unknown`) although the server accepted them. Never resent either way.
SENT_FLUSH_EVERY = 25


def _mark_sent(sent: dict[int, datetime]) -> None:
    if not sent:
        return
    # Plain SQL: the ORM's CASE of one WHEN per message cost more than the UPDATE itself.
    with connection.cursor() as cursor:
        cursor.execute(
            """
            UPDATE surveys_invitation AS invitation
            SET status = %s, last_error = '', sent_at = sent.at
            FROM unnest(%s::bigint[], %s::timestamptz[]) AS sent (id, at)
            WHERE invitation.id = sent.id AND invitation.status = %s
            """,
            [
                Invitation.Status.SENT.value,
                list(sent),
                list(sent.values()),
                Invitation.Status.SENDING.value,
            ],
        )
    sent.clear()


def _send_batch(invitation_ids: list[int], connection: Any) -> list[SendOutcome]:
    """The sending path: claim, build each message from data loaded once per batch, send over
    the one connection, record. Returns one outcome per given id, in order."""

    claimed, outcomes = _claim_batch(invitation_ids, timezone.now())
    firsts: dict[int, Question] = {}
    for question in Question.objects.filter(
        survey_id__in={inv.survey_id for inv in claimed}
    ).order_by("survey_id", "position", "id"):
        firsts.setdefault(question.survey_id, question)
    # Read, never created here: a store without a settings row sends with the defaults.
    stores = {inv.survey.store_id: inv.survey.store for inv in claimed}
    saved = {row.store_id: row for row in StoreSurveySettings.objects.filter(store__in=stores)}
    store_settings = {
        store_id: saved.get(store_id) or StoreSurveySettings(store=store)
        for store_id, store in stores.items()
    }
    sent: dict[int, datetime] = {}
    bodies: Bodies = {}
    for invitation in claimed:
        try:
            invitation_message(
                invitation,
                reminder=False,
                connection=connection,
                first_question=firsts.get(invitation.survey_id),
                sending=store_settings[invitation.survey.store_id],
                bodies=bodies,
            ).send()
        except Exception as exc:
            outcomes[invitation.pk] = _send_failed(invitation, exc)
            continue
        sent[invitation.pk] = timezone.now()
        outcomes[invitation.pk] = SendOutcome("sent")
        if len(sent) >= SENT_FLUSH_EVERY:
            _mark_sent(sent)
    _mark_sent(sent)
    seen: set[int] = set()
    result = []
    for pk in invitation_ids:
        result.append(outcomes[pk] if pk not in seen else SendOutcome("skipped", "duplicate"))
        seen.add(pk)
    return result


def invitation_send(*, invitation_id: int, connection: Any = None) -> SendOutcome:
    """Send one due invitation: at most one email, whatever fails."""
    return _send_batch([invitation_id], connection or get_connection())[0]


def _send_failed(invitation: Invitation, exc: Exception) -> SendOutcome:
    import smtplib

    detail = f"{type(exc).__name__}: {exc}"[:300]
    logger.warning("Survey invitation %s not sent: %s", invitation.pk, detail)
    # A 5xx refusal of the address is final; a 4xx one (greylisting) is worth a retry.
    permanent = isinstance(exc, smtplib.SMTPRecipientsRefused) and all(
        code >= 500 for code, _message in exc.recipients.values()
    )
    if permanent or invitation.attempts >= MAX_SEND_ATTEMPTS:
        status, due = Invitation.Status.FAILED, invitation.due_at
    else:
        backoff = RETRY_BACKOFF[min(invitation.attempts - 1, len(RETRY_BACKOFF) - 1)]
        status, due = Invitation.Status.QUEUED, timezone.now() + timedelta(seconds=backoff)
    Invitation.objects.filter(pk=invitation.pk, status=Invitation.Status.SENDING).update(
        status=status, due_at=due, last_error=detail
    )
    return SendOutcome("failed" if status == Invitation.Status.FAILED else "retry", detail)


def invitations_send_batch(*, invitation_ids: list[int]) -> dict[str, int]:
    """Send several invitations over one SMTP connection (the worker's bulk path). The
    connection is opened first: with the server down nothing is claimed and no attempt used."""
    counts: dict[str, int] = {}
    connection = get_connection()
    connection.open()
    try:
        for outcome in _send_batch(invitation_ids, connection):
            counts[outcome.status] = counts.get(outcome.status, 0) + 1
    finally:
        try:
            connection.close()
        except Exception:
            logger.warning("Closing the SMTP connection failed", exc_info=True)
    return counts


def invitations_due(*, now: datetime) -> dict[int, list[int]]:
    """Ids of queued, due invitations per store, at most each store's rate for one minute."""
    due: dict[int, list[int]] = {}
    rates = _send_rates()
    rows = (
        Invitation.objects.filter(
            status=Invitation.Status.QUEUED,
            due_at__lte=now,
            survey__status=Survey.Status.ACTIVE,
        )
        .order_by("due_at", "id")
        .values_list("id", "survey__store_id")[:50_000]  # ~1 MB of ids at most per run
    )
    for invitation_id, store_id in rows:
        bucket = due.setdefault(store_id, [])
        if len(bucket) < rates.get(store_id, DEFAULT_SEND_RATE):
            bucket.append(invitation_id)
    return due


def _send_rates() -> dict[int, int]:
    """Emails a minute per store that has settings (DEFAULT_SEND_RATE for the others)."""
    return dict(StoreSurveySettings.objects.values_list("store_id", "send_rate_per_minute"))


def invitations_mark_stuck(*, now: datetime) -> int:
    """`sending` for longer than any SMTP call takes: the worker died; never resend blindly."""
    return Invitation.objects.filter(
        status=Invitation.Status.SENDING, sending_started_at__lt=now - STUCK_SENDING_AFTER
    ).update(status=Invitation.Status.UNKNOWN, last_error="the sending process stopped")


@transaction.atomic
def invitation_resend(*, invitation: Invitation, actor: Actor) -> Invitation:
    """An admin's decision to send an `unknown` or `failed` invitation again."""
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.status not in (Invitation.Status.UNKNOWN, Invitation.Status.FAILED):
        raise ValidationError(_("Only invitations in the unknown or failed state can be resent."))
    invitation.status = Invitation.Status.QUEUED
    invitation.due_at = timezone.now()
    invitation.attempts = 0
    invitation.save(update_fields=["status", "due_at", "attempts"])
    audit_record(
        organisation=invitation.survey.organisation,
        actor=actor,
        action="invitation.resent",
        target=invitation,
    )
    return invitation


def reminders_due(*, now: datetime, spent: dict[int, int] | None = None) -> list[int]:
    """Ids of the reminders due, oldest first, within each store's send rate for one minute
    less `spent` (store id: emails already queued this minute, e.g. by invitations_due)."""
    spent = spent or {}
    rates = _send_rates()
    rows = (
        Invitation.objects.filter(
            status__in=[Invitation.Status.SENT, Invitation.Status.OPENED],
            reminder_sent_at__isnull=True,
            survey__status=Survey.Status.ACTIVE,
            survey__reminder_after_days__isnull=False,
            contact__unsubscribed_at__isnull=True,
            contact__suppressed_at__isnull=True,
        )
        .filter(Q(response__isnull=True) | Q(response__submitted_at__isnull=True))
        .annotate(
            remind_at=ExpressionWrapper(
                F("sent_at")
                + ExpressionWrapper(
                    F("survey__reminder_after_days") * Value(timedelta(days=1)),
                    output_field=DurationField(),
                ),
                output_field=DateTimeField(),
            )
        )
        .filter(remind_at__lte=now)
        .order_by("sent_at", "id")
        .values_list("id", "survey__store_id")[:50_000]
    )
    due: list[int] = []
    taken: dict[int, int] = {}
    for invitation_id, store_id in rows:
        room = rates.get(store_id, DEFAULT_SEND_RATE) - spent.get(store_id, 0)
        if taken.get(store_id, 0) < room:
            taken[store_id] = taken.get(store_id, 0) + 1
            due.append(invitation_id)
    return due


def reminder_send(*, invitation_id: int, connection: Any = None) -> SendOutcome:
    """The one reminder, to a non-responder, with the same link. Marked before sending: a
    crash loses a reminder rather than sending two."""

    with transaction.atomic():
        invitation = (
            Invitation.objects.select_for_update(of=("self",))
            .select_related("survey__store", "contact")
            .filter(pk=invitation_id)
            .first()
        )
        if invitation is None or invitation.reminder_sent_at is not None:
            return SendOutcome("skipped")
        if invitation.status not in (Invitation.Status.SENT, Invitation.Status.OPENED):
            return SendOutcome("skipped", invitation.status)
        if not invitation.contact.can_be_emailed:
            return SendOutcome("skipped", "contact cannot be emailed")
        invitation.reminder_sent_at = timezone.now()
        invitation.save(update_fields=["reminder_sent_at"])
    try:
        invitation_message(invitation, reminder=True, connection=connection).send()
    except Exception as exc:
        # The reminder is given up rather than retried: it is optional, and a retry loop
        # against an address that refuses mail would run every minute.
        logger.warning("Reminder for invitation %s not sent: %s", invitation.pk, exc)
        return SendOutcome("failed", str(exc)[:300])
    return SendOutcome("sent")


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


def invitation_mark_opened(*, invitation: Invitation) -> None:
    """The buyer opened the link: proof of delivery, also for an `unknown` invitation."""
    if invitation.status not in (Invitation.Status.SENT, Invitation.Status.UNKNOWN):
        return  # already opened, answered or bounced: nothing to record, no UPDATE
    Invitation.objects.filter(
        pk=invitation.pk, status__in=[Invitation.Status.SENT, Invitation.Status.UNKNOWN]
    ).update(status=Invitation.Status.OPENED, opened_at=timezone.now())


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


@dataclass
class SendSummary:
    """What survey_send_to_contacts did: the invitations it created, `queued` or (over the
    fatigue cap) `capped`, and how many contacts it left out as invited already."""

    invitations: list[Invitation]
    already_invited: int

    @property
    def queued(self) -> int:
        return sum(i.status == Invitation.Status.QUEUED for i in self.invitations)

    @property
    def capped(self) -> int:
        return sum(i.status == Invitation.Status.CAPPED for i in self.invitations)


@transaction.atomic
def survey_send_to_contacts(
    *, survey: Survey, actor: Actor, contacts: Iterable[Contact], when: datetime | None = None
) -> SendSummary:
    """Invite a list of the store's contacts now. Unsubscribed and suppressed contacts are
    skipped, and so is a contact invited to this survey already (selectors.survey_send_outlook),
    so a repeated request invites nobody twice. One over the fatigue cap gets an invitation
    marked `capped` at once, as sending would a minute later, so that the caller can say so."""
    if survey.status != Survey.Status.ACTIVE:
        raise ValidationError(_("Activate the survey before sending it."))
    when = when or timezone.now()
    chosen = {
        contact.pk: contact
        for contact in contacts
        if contact.store_id == survey.store_id and contact.can_be_emailed
    }
    outlook = selectors.survey_send_outlook(survey=survey, contact_ids=list(chosen), now=when)
    created = Invitation.objects.bulk_create(
        Invitation(
            survey=survey,
            contact=contact,
            status=Invitation.Status.CAPPED if pk in outlook.over_cap else Invitation.Status.QUEUED,
            trigger_event="manual",
            triggered_at=when,
            due_at=when,
            **_new_invitation_fields(survey, contact),
        )
        for pk, contact in chosen.items()
        if pk not in outlook.already_invited
    )
    audit_record(
        organisation=survey.organisation,
        actor=actor,
        action="survey.sent_to_contacts",
        target=survey,
        details={"invitations": len(created)},
    )
    return SendSummary(invitations=created, already_invited=len(outlook.already_invited))


# --- Audited exports (the members' pages and the API both call these)


def survey_responses_export(*, survey: Survey, actor: Actor) -> str:
    """The survey's submitted responses as CSV, with an audit line: they hold personal data."""
    content = selectors.responses_csv(survey=survey)
    audit_record(
        organisation=survey.organisation,
        actor=actor,
        action="survey.responses_exported",
        target=survey,
    )
    return content


def contact_export_audited(*, contact: Contact, actor: Actor) -> dict[str, Any]:
    """`contact_export` with an audit line, for a data-subject access request."""
    data = contact_export(contact=contact)
    audit_record(
        organisation=contact.organisation,
        actor=actor,
        action="contact.exported",
        target=contact,
    )
    return data
