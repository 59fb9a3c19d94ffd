"""Bounces and complaints reported by the email provider, through django-anymail.

Anymail's tracking webhook (config/urls.py mounts `anymail/` when ANYMAIL_WEBHOOK_SECRET is
set; the provider posts to e.g. /anymail/postmark/tracking/ with that secret as HTTP basic
auth) turns each provider's payload into an AnymailTrackingEvent and sends the `tracking`
signal, received here.

The survey emails carry no store in their metadata, and need not: the whole product sends
through one provider account, and a hard bounce, a rejection by the provider's suppression
list or a spam complaint is a property of the address there (the provider refuses to send to
it again, whichever store asks). So the address is suppressed in every store where it is a
contact, and in each of them the invitation that was just sent to it (within BOUNCE_WINDOW of
the event) is marked bounced. A complaint means the message did arrive: it is suppressed, and
its invitation keeps its state.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from anymail.signals import AnymailTrackingEvent, EventType, tracking
from django.db import transaction
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.dispatch import receiver
from django.utils import timezone

from surveys.models import Contact, Invitation

logger = logging.getLogger(__name__)

SUPPRESSING_EVENTS = (EventType.BOUNCED, EventType.REJECTED, EventType.COMPLAINED)
UNDELIVERED_EVENTS = (EventType.BOUNCED, EventType.REJECTED)
# A bounce comes back within minutes to a few days of sending; an invitation sent earlier than
# this before the event is not the one that bounced.
BOUNCE_WINDOW = timedelta(days=30)


@transaction.atomic
def address_suppress(
    *, email: str, event_type: str, reason: str, occurred_at: datetime | None = None
) -> dict[str, int]:
    """Suppress the address in every store it is a contact of; for a bounce or rejection,
    mark each store's invitation sent to it last (within BOUNCE_WINDOW) bounced.
    Repeated events change nothing more. Returns {"contacts": n, "invitations": m}."""
    email = (email or "").strip().lower()
    if not email:
        return {"contacts": 0, "invitations": 0}
    now = timezone.now()
    occurred_at = occurred_at or now
    contacts = list(Contact.objects.select_for_update().filter(email=email).order_by("id"))
    suppressed = [c.pk for c in contacts if c.suppressed_at is None]
    Contact.objects.filter(pk__in=suppressed).update(
        suppressed_at=now, suppression_reason=reason[:200]
    )
    bounced = 0
    if event_type in UNDELIVERED_EVENTS and contacts:
        since = occurred_at - BOUNCE_WINDOW
        candidates = (
            Invitation.objects.filter(contact__in=contacts)
            .filter(
                Q(status=Invitation.Status.SENT, sent_at__gte=since, sent_at__lte=occurred_at)
                | Q(
                    status=Invitation.Status.UNKNOWN,
                    sending_started_at__gte=since,
                    sending_started_at__lte=occurred_at,
                )
            )
            .annotate(at=Coalesce("sent_at", "sending_started_at"))
            .order_by("contact_id", F("at").desc(), "-id")
            .distinct("contact_id")  # the last one per contact, i.e. per store
            .values_list("id", flat=True)
        )
        bounced = Invitation.objects.filter(pk__in=list(candidates)).update(
            status=Invitation.Status.BOUNCED
        )
    return {"contacts": len(suppressed), "invitations": bounced}


def is_soft_bounce(event: AnymailTrackingEvent) -> bool:
    """A temporary failure (mailbox full, greylisting) that some providers report as
    "bounced": the address works, so it is not suppressed; the provider retries or gives up
    with a hard bounce later. Anymail does not normalise this, so the raw event is read."""
    raw = event.esp_event
    if event.event_type != EventType.BOUNCED or not isinstance(raw, dict):
        return False
    bounce = raw.get("bounce")
    if not isinstance(bounce, dict):
        bounce = {}
    markers = (
        raw.get("Type"),  # Postmark: SoftBounce
        raw.get("event"),  # Brevo: soft_bounce
        raw.get("type"),  # MailerSend: activity.soft_bounced
        bounce.get("bounceType"),  # Amazon SES: Transient
    )
    return any(isinstance(m, str) and ("soft" in m.lower() or m == "Transient") for m in markers)


def _reason(event: AnymailTrackingEvent, esp_name: str) -> str:
    detail = event.mta_response or event.description or event.reject_reason or ""
    return " ".join(f"{event.event_type} ({esp_name}): {detail}".split()).rstrip(": ")


@receiver(tracking, dispatch_uid="surveys.webhooks.tracking_received")
def tracking_received(
    sender: Any, event: AnymailTrackingEvent, esp_name: str, **kwargs: Any
) -> None:
    if event.event_type not in SUPPRESSING_EVENTS or not event.recipient:
        return
    if is_soft_bounce(event):
        logger.info("Soft bounce from %s: the address is not suppressed", esp_name)
        return
    result = address_suppress(
        email=event.recipient,
        event_type=event.event_type,
        reason=_reason(event, esp_name),
        occurred_at=event.timestamp,
    )
    # Counts only: the address is personal data and stays out of the log.
    logger.info(
        "%s event from %s: %s contacts suppressed, %s invitations marked bounced",
        event.event_type,
        esp_name,
        result["contacts"],
        result["invitations"],
    )
