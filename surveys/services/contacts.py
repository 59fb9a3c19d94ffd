"""Contacts: the upsert that imports and triggers share, unsubscribes, bounces, and
personal-data export and erasure (audited)."""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Store
from accounts.services import Actor, audit_record
from surveys.models import (
    SURVEY_LANGUAGES,
    Contact,
    Invitation,
    Survey,
)
from surveys.selectors import contact_export, responses_csv
from surveys.signals import contact_erasing

logger = logging.getLogger(__name__)


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
    contact_erasing.send(sender=Contact, contact=contact)
    contact.delete()


# --- Audited exports (the members' pages and the API both call these)


def survey_responses_export(*, survey: Survey, actor: Actor) -> str:
    """The survey's submitted responses as CSV, with an audit line: they hold personal data."""
    content = responses_csv(survey=survey)
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
