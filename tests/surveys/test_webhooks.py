"""Bounces and complaints from the email provider (anymail's tracking signal and webhook)."""

from __future__ import annotations

import base64
import importlib
import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from anymail.signals import AnymailTrackingEvent, tracking
from django.test import Client
from django.urls import clear_url_caches
from django.utils import timezone

from surveys import tokens
from surveys.models import Contact, Invitation, Survey
from tests.factories import OrganisationFactory, StoreFactory

pytestmark = pytest.mark.django_db

ADDRESS = "gone@example.com"


def _survey(store: Any) -> Survey:
    return Survey.objects.filter(store=store).first() or Survey.objects.create(
        organisation=store.organisation, store=store, name="Delivery", kind="csat",
        status="active", trigger_event="delivered", languages=["lt"], default_language="lt",
    )  # fmt: skip


def _contact(store: Any, email: str = ADDRESS) -> Contact:
    return Contact.objects.create(organisation=store.organisation, store=store, email=email)


def _invitation(contact: Contact, status: str, sent_days_ago: float | None) -> Invitation:
    nonce = tokens.new_nonce()
    now = timezone.now()
    return Invitation.objects.create(
        survey=_survey(contact.store), contact=contact, status=status, nonce=nonce,
        token_hash=tokens.token_hash(tokens.token_for(nonce)), language="lt",
        trigger_event="delivered", triggered_at=now - timedelta(days=(sent_days_ago or 0) + 1),
        due_at=now, sending_started_at=now - timedelta(days=sent_days_ago or 0),
        sent_at=None if sent_days_ago is None else now - timedelta(days=sent_days_ago),
    )  # fmt: skip


def _send(event_type: str, recipient: str = ADDRESS, **fields: Any) -> None:
    tracking.send(
        sender=object,
        event=AnymailTrackingEvent(
            event_type=event_type, recipient=recipient, timestamp=timezone.now(), **fields
        ),
        esp_name="Test",
    )


def _status(invitation: Invitation) -> str:
    invitation.refresh_from_db()
    return invitation.status


@pytest.fixture
def stores(organisation: Any) -> dict[str, Any]:
    """Two stores of one organisation and one of another, all knowing the address."""
    return {
        "lt": StoreFactory(organisation=organisation, name="LT"),
        "ro": StoreFactory(organisation=organisation, name="RO", default_language="ro"),
        "other": StoreFactory(organisation=OrganisationFactory(), name="Other"),
    }


def test_a_hard_bounce_suppresses_the_address_in_every_store(stores: dict[str, Any]) -> None:
    contacts = {key: _contact(store) for key, store in stores.items()}
    just_sent = _invitation(contacts["lt"], Invitation.Status.SENT, sent_days_ago=0.01)
    earlier = _invitation(contacts["lt"], Invitation.Status.SENT, sent_days_ago=10)
    answered = _invitation(contacts["ro"], Invitation.Status.ANSWERED, sent_days_ago=1)
    long_ago = _invitation(contacts["other"], Invitation.Status.SENT, sent_days_ago=60)
    bystander = _contact(stores["lt"], "still-here@example.com")
    _invitation(bystander, Invitation.Status.SENT, sent_days_ago=0.01)

    _send("bounced", mta_response="550 5.1.1 The email account does not exist")

    for contact in contacts.values():
        contact.refresh_from_db()
        assert contact.suppressed_at is not None
        assert not contact.can_be_emailed
        assert contact.suppression_reason == (
            "bounced (Test): 550 5.1.1 The email account does not exist"
        )
    # The last invitation sent within the window, one per store; the others keep their state.
    assert _status(just_sent) == Invitation.Status.BOUNCED
    assert _status(earlier) == Invitation.Status.SENT
    assert _status(answered) == Invitation.Status.ANSWERED
    assert _status(long_ago) == Invitation.Status.SENT
    bystander.refresh_from_db()
    assert bystander.suppressed_at is None


def test_a_rejection_marks_an_unknown_invitation_bounced(store: Any) -> None:
    contact = _contact(store)
    unknown = _invitation(contact, Invitation.Status.UNKNOWN, sent_days_ago=None)

    _send("rejected", recipient="Gone@Example.COM", reject_reason="invalid")

    contact.refresh_from_db()
    assert contact.suppression_reason == "rejected (Test): invalid"
    assert _status(unknown) == Invitation.Status.BOUNCED


def test_a_complaint_suppresses_but_the_message_counts_as_delivered(store: Any) -> None:
    contact = _contact(store)
    opened = _invitation(contact, Invitation.Status.OPENED, sent_days_ago=1)
    sent = _invitation(contact, Invitation.Status.SENT, sent_days_ago=0.5)

    _send("complained")

    contact.refresh_from_db()
    assert contact.suppressed_at is not None
    assert contact.suppression_reason == "complained (Test)"
    assert (_status(opened), _status(sent)) == (Invitation.Status.OPENED, Invitation.Status.SENT)


@pytest.mark.parametrize("event_type", ["delivered", "opened", "clicked", "deferred", "queued"])
def test_other_events_change_nothing(store: Any, event_type: str) -> None:
    contact = _contact(store)
    sent = _invitation(contact, Invitation.Status.SENT, sent_days_ago=0.1)

    _send(event_type)

    contact.refresh_from_db()
    assert contact.suppressed_at is None
    assert _status(sent) == Invitation.Status.SENT


@pytest.mark.parametrize(
    "esp_event",
    [
        {"RecordType": "Bounce", "Type": "SoftBounce"},  # Postmark
        {"event": "soft_bounce"},  # Brevo
        {"type": "activity.soft_bounced"},  # MailerSend
        {"eventType": "Bounce", "bounce": {"bounceType": "Transient"}},  # Amazon SES
    ],
)
def test_a_soft_bounce_does_not_suppress(store: Any, esp_event: dict[str, Any]) -> None:
    contact = _contact(store)
    sent = _invitation(contact, Invitation.Status.SENT, sent_days_ago=0.1)

    _send("bounced", esp_event=esp_event)

    contact.refresh_from_db()
    assert contact.suppressed_at is None
    assert _status(sent) == Invitation.Status.SENT


def test_a_repeated_event_changes_nothing_more(store: Any) -> None:
    contact = _contact(store)
    _send("bounced", mta_response="first")
    contact.refresh_from_db()
    first = (contact.suppressed_at, contact.suppression_reason)

    _send("bounced", mta_response="second")

    contact.refresh_from_db()
    assert (contact.suppressed_at, contact.suppression_reason) == first


def test_an_address_that_is_no_contact_is_ignored(store: Any) -> None:
    _contact(store, "someone@example.com")
    _send("bounced", recipient="nobody@example.com")
    _send("bounced", recipient=None)
    assert not Contact.objects.filter(suppressed_at__isnull=False).exists()


# --- The webhook itself: Postmark's bounce payload, behind basic auth


@pytest.fixture
def webhook_urls(settings: Any) -> Iterator[None]:
    """config/urls.py mounts anymail's webhooks only when a secret is configured."""
    import config.urls

    settings.ANYMAIL = {"WEBHOOK_SECRET": "mm:webhook-secret"}
    importlib.reload(config.urls)
    clear_url_caches()
    yield
    settings.ANYMAIL = {"WEBHOOK_SECRET": ""}
    importlib.reload(config.urls)
    clear_url_caches()


POSTMARK_BOUNCE = {
    "RecordType": "Bounce",
    "ID": 4323372036854775807,
    "Type": "HardBounce",
    "TypeCode": 1,
    "MessageID": "883953f4-6105-42a2-a16a-77a8eac79483",
    "Description": "The server was unable to deliver your message (ex: unknown user, mailbox "
    "not found).",
    "Details": "smtp;550 5.1.1 The email account that you tried to reach does not exist.",
    "Email": ADDRESS,
    "From": "no-reply@example.com",
    "BouncedAt": "2026-03-01T10:00:00Z",
    "Inactive": True,
    "CanActivate": True,
    "Subject": "Kaip vertinate pristatymą?",
}


def _auth(credentials: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(credentials.encode()).decode()}


def test_postmark_webhook_with_the_secret_suppresses(store: Any, webhook_urls: None) -> None:
    contact = _contact(store)

    response = Client().post(
        "/anymail/postmark/tracking/",
        data=json.dumps(POSTMARK_BOUNCE),
        content_type="application/json",
        **_auth("mm:webhook-secret"),
    )

    assert response.status_code == 200
    contact.refresh_from_db()
    assert contact.suppressed_at is not None
    assert "550 5.1.1" in contact.suppression_reason


@pytest.mark.parametrize("credentials", ["", "mm:wrong", "intruder:webhook-secret"])
def test_postmark_webhook_without_the_secret_is_refused(
    store: Any, webhook_urls: None, credentials: str
) -> None:
    contact = _contact(store)
    headers = _auth(credentials) if credentials else {}

    response = Client().post(
        "/anymail/postmark/tracking/",
        data=json.dumps(POSTMARK_BOUNCE),
        content_type="application/json",
        **headers,
    )

    assert response.status_code == 400
    contact.refresh_from_db()
    assert contact.suppressed_at is None


def test_without_a_secret_the_webhooks_are_not_mounted(store: Any, client: Client) -> None:
    contact = _contact(store)

    response = client.post(
        "/anymail/postmark/tracking/",
        data=json.dumps(POSTMARK_BOUNCE),
        content_type="application/json",
    )

    assert response.status_code == 404
    contact.refresh_from_db()
    assert contact.suppressed_at is None
