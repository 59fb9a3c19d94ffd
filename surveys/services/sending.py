"""Invitations and their sending.

Sending never emails one invitation twice: an invitation is marked `sending` (committed)
before the SMTP call and `sent` after it. An error raised by the SMTP call means the server
did not accept the message, so the invitation goes back to `queued` for a retry with backoff.
A process that dies in between leaves it in `sending`; the sweeper turns that into `unknown`,
which is never resent automatically (an admin may resend it).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.core.mail import get_connection
from django.db import IntegrityError, connection, transaction
from django.db.models import (
    DateTimeField,
    DurationField,
    ExpressionWrapper,
    F,
    Q,
    Value,
)
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Store
from accounts.services import Actor, audit_record
from core import clock
from surveys import selectors, tokens
from surveys.emails import Bodies, invitation_message
from surveys.models import (
    Contact,
    Invitation,
    Question,
    StoreSurveySettings,
    Survey,
)
from surveys.services.contacts import contact_upsert

logger = logging.getLogger(__name__)

MAX_SEND_ATTEMPTS = 5
RETRY_BACKOFF = [60, 300, 900, 3600]  # seconds before attempts 2, 3, 4, 5
# Emails a minute for a store without settings: the settings' own default.
DEFAULT_SEND_RATE = StoreSurveySettings._meta.get_field("send_rate_per_minute").default
STUCK_SENDING_AFTER = timedelta(minutes=15)  # far above the SMTP timeout (20 s)


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


# An event triggers a survey only while it is this much younger than the survey's delay plus
# the event's age: history (a CSV of 2011's deliveries, a late batch) never emails a buyer.
TRIGGER_RECENCY_SLACK = timedelta(days=2)


@transaction.atomic
def invitations_trigger(
    *,
    store: Store,
    event_name: str,
    occurred_at: datetime,
    customer_key: str = "",
    email: str = "",
    recent_only: bool = False,
) -> list[Invitation]:
    """Queue the invitations of every active survey of the store triggered by this event,
    due after each survey's delay. A repeated call for the same event creates nothing new.
    `recent_only` (events as they are ingested): a survey is triggered only by an event no
    older than its delay plus TRIGGER_RECENCY_SLACK."""
    surveys = list(
        Survey.objects.select_related("store").filter(
            store=store, status=Survey.Status.ACTIVE, trigger_event=event_name
        )
    )
    if recent_only:
        now = clock.now()
        surveys = [s for s in surveys if occurred_at >= now - s.delay - TRIGGER_RECENCY_SLACK]
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


@transaction.atomic
def event_trigger(
    *,
    store: Store,
    event_name: str,
    occurred_at: datetime,
    customer_key: str = "",
    email: str = "",
    name: str = "",
    language: str = "",
    recent_only: bool = False,
) -> list[Invitation]:
    """A customer's event, from the trigger API or from event ingestion: the contact is
    created or updated when the event says who they are (an email with a name or language),
    then the surveys it triggers are queued (invitations_trigger)."""
    if email and (language or name):
        contact_upsert(
            store=store, email=email, customer_key=customer_key, name=name, language=language
        )
    return invitations_trigger(
        store=store,
        event_name=event_name,
        occurred_at=occurred_at,
        customer_key=customer_key,
        email=email,
        recent_only=recent_only,
    )


def trigger_event_names(*, store: Store) -> set[str]:
    """The event names that trigger an active survey of the store."""
    return set(
        Survey.objects.filter(store=store, status=Survey.Status.ACTIVE)
        .exclude(trigger_event="")
        .values_list("trigger_event", flat=True)
    )


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
