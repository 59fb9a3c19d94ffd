"""Sending survey emails through a real SMTP server (aiosmtpd on 127.0.0.1), end to end:
trigger, due list, batch send, the received message, and what must never be sent."""

from __future__ import annotations

import base64
import hashlib
import re
import socket
from collections.abc import Iterator
from datetime import datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from django.core.mail import EmailMultiAlternatives
from django.test import Client
from django.utils import timezone

from accounts.services import Actor
from surveys import services, tokens
from surveys.models import Contact, Invitation, Response, Survey
from surveys.services import sending
from tests.factories import StoreFactory

pytestmark = pytest.mark.django_db

SITE = "https://answers.example"
FROM_ADDRESS = "surveys@momentmap.test"


class Mailbox:
    """An SMTP handler that keeps what it accepts, or refuses as told."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.data_commands = 0
        self.refuse_data = ""  # e.g. "451 4.3.0 Try again later"
        self.refuse_rcpt = ""

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if self.refuse_rcpt:
            return self.refuse_rcpt
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.data_commands += 1
        if self.refuse_data:
            return self.refuse_data
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))  # type: ignore[arg-type]
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class SmtpServer:
    """aiosmtpd on a free local port; stop() and start() again on the same port."""

    def __init__(self, mailbox: Mailbox) -> None:
        self.mailbox = mailbox
        self.port = _free_port()
        self.controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smtp(settings: Any) -> Iterator[SmtpServer]:
    server = SmtpServer(Mailbox())
    server.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = server.port
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 5
    settings.DEFAULT_FROM_EMAIL = f"MomentMap <{FROM_ADDRESS}>"
    settings.SITE_URL = SITE
    yield server
    server.stop()


@pytest.fixture
def mailbox(smtp: SmtpServer) -> Mailbox:
    return smtp.mailbox


@pytest.fixture
def actor(organisation: Any, member_factory: Any) -> Actor:
    """An admin here (tests/conftest.py's is an editor): resending is an admin's."""
    return Actor(user=member_factory(organisation, "admin"))


def _survey(organisation: Any, store: Any, actor: Actor, template: str) -> Survey:
    survey = services.survey_create_from_template(
        organisation=organisation,
        store=store,
        actor=actor,
        template=template,
        languages=["en", "lt"],
    )
    return services.survey_set_status(survey=survey, actor=actor, status="active")


@pytest.fixture
def nps(organisation: Any, store: Any, actor: Actor) -> Survey:
    """Triggered by `delivered`, sent 30 days later, one reminder after 3 days."""
    return _survey(organisation, store, actor, "nps")


@pytest.fixture
def csat(organisation: Any, store: Any, actor: Actor) -> Survey:
    """Triggered by `purchase`, sent a day later."""
    return _survey(organisation, store, actor, "post-purchase-csat")


@pytest.fixture
def sender(store: Any, actor: Actor) -> None:
    services.store_survey_settings_update(
        store=store, actor=actor, sender_name="Baltų Prekės", reply_to="pagalba@baltic.example"
    )


def _contact(store: Any, email: str, language: str = "en") -> Contact:
    contact, _created = services.contact_upsert(
        store=store, email=email, customer_key=email, language=language
    )
    return contact


def _trigger(store: Any, contact: Contact, event: str, at: datetime) -> Invitation:
    [invitation] = services.invitations_trigger(
        store=store, event_name=event, occurred_at=at, customer_key=contact.customer_key
    )
    return invitation


def _due_now(survey: Survey, store: Any, contact: Contact) -> Invitation:
    """An invitation whose delay has passed: triggered long enough ago."""
    event = survey.trigger_event
    return _trigger(store, contact, event, timezone.now() - survey.delay - timedelta(minutes=5))


def _send_due() -> dict[str, int]:
    counts: dict[str, int] = {}
    for ids in services.invitations_due(now=timezone.now()).values():
        for status, count in services.invitations_send_batch(invitation_ids=ids).items():
            counts[status] = counts.get(status, 0) + count
    return counts


def _status(invitation: Invitation) -> str:
    invitation.refresh_from_db()
    return invitation.status


def _header(message: EmailMessage, name: str) -> str:
    """As a mail client reads it: Django folds a long header onto a continuation line right
    after the colon, and Python's parser keeps that line's leading space."""
    return str(message[name]).strip()


def _subject(message: EmailMessage) -> str:
    return _header(message, "Subject")


def _parts(message: EmailMessage) -> tuple[str, str]:
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None and html is not None
    return text.get_content(), html.get_content()


SCORE_LINK = re.compile(rf"{re.escape(SITE)}/s/([A-Za-z0-9_-]+)/\?q(\d+)=(\d+)")


# --- The message as received


def test_the_received_email_is_complete_and_in_the_contacts_language(
    mailbox: Mailbox, nps: Survey, store: Any, sender: None, client: Client
) -> None:
    jonas = _contact(store, "jonas@example.lt", "lt")
    ona = _contact(store, "ona@example.com", "en")
    lt_invitation = _due_now(nps, store, jonas)
    en_invitation = _due_now(nps, store, ona)

    assert _send_due() == {"sent": 2}

    assert sorted(rcpts for _from, rcpts in mailbox.envelopes) == [
        ["jonas@example.lt"],
        ["ona@example.com"],
    ]
    by_recipient = {m["To"]: m for m in mailbox.messages}
    lt, en = by_recipient["jonas@example.lt"], by_recipient["ona@example.com"]
    assert _subject(lt) == "Ar rekomenduotumėte parduotuvę Baltic Goods LT?"
    assert _subject(en) == "Would you recommend Baltic Goods LT?"
    token = tokens.token_for(lt_invitation.nonce)
    first_question = nps.questions.order_by("position").first()
    assert first_question is not None
    for message, invitation in ((lt, lt_invitation), (en, en_invitation)):
        link_token = tokens.token_for(invitation.nonce)
        assert message.get_content_type() == "multipart/alternative"
        assert [p.get_content_type() for p in message.iter_parts()] == [
            "text/plain",
            "text/html",
        ]
        assert message["From"] == f"Baltų Prekės <{FROM_ADDRESS}>"
        assert message["Reply-To"] == "pagalba@baltic.example"
        assert _header(message, "List-Unsubscribe") == f"<{SITE}/s/{link_token}/unsubscribe/>"
        assert _header(message, "List-Unsubscribe-Post") == "List-Unsubscribe=One-Click"
        for part in _parts(message):
            assert SCORE_LINK.findall(part) == [
                (link_token, str(first_question.pk), str(score)) for score in range(11)
            ]
    text, html = _parts(lt)
    assert "Mums svarbi Jūsų nuomonė apie parduotuvę Baltic Goods LT." in text
    assert "Mums svarbi Jūsų nuomonė apie parduotuvę Baltic Goods LT." in html
    assert "Visiškai netikėtina" in text
    assert f"Atsisakyti apklausų: {SITE}/s/{token}/unsubscribe/" in text
    assert (_status(lt_invitation), lt_invitation.attempts) == ("sent", 1)

    # The received link opens the answer page with the score chosen, and records nothing.
    link = next(m for m in SCORE_LINK.finditer(text) if m.group(3) == "9").group(0)
    page = client.get(link.removeprefix(SITE))
    assert page.status_code == 200
    assert 'value="9" checked' in page.content.decode()
    assert "Klausimas 1 iš 2" in page.content.decode()
    assert _status(lt_invitation) == "opened"
    assert Response.objects.count() == 0


def test_messages_of_one_batch_in_one_language_each_carry_their_own_links(
    mailbox: Mailbox, nps: Survey, store: Any
) -> None:
    """The bodies are rendered once per survey and language in a batch; each message still
    gets its own token in every link, and nothing of the rendering's stand-in."""
    from surveys.emails import _TOKEN_STAND_IN

    invitations = [
        _due_now(nps, store, _contact(store, f"buyer{n}@example.lt", "lt")) for n in range(3)
    ]

    assert _send_due() == {"sent": 3}

    by_recipient = {m["To"]: m for m in mailbox.messages}
    tokens_seen = set()
    for n, invitation in enumerate(invitations):
        token = tokens.token_for(invitation.nonce)
        tokens_seen.add(token)
        message = by_recipient[f"buyer{n}@example.lt"]
        assert _header(message, "List-Unsubscribe") == f"<{SITE}/s/{token}/unsubscribe/>"
        for part in _parts(message):
            assert {found[0] for found in SCORE_LINK.findall(part)} == {token}
            assert len(SCORE_LINK.findall(part)) == 11
            assert f"{SITE}/s/{token}/unsubscribe/" in part
            assert _TOKEN_STAND_IN not in part
    assert len(tokens_seen) == 3


def test_the_link_token_is_long_and_only_its_nonce_and_hash_are_stored(
    mailbox: Mailbox, nps: Survey, store: Any
) -> None:
    invitation = _due_now(nps, store, _contact(store, "ona@example.com"))
    _send_due()
    token = tokens.token_for(invitation.nonce)

    assert len(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))) * 8 >= 128
    row = Invitation.objects.filter(pk=invitation.pk).values().get()
    assert all(token not in str(value) for value in row.values())
    assert row["token_hash"] == hashlib.sha256(token.encode()).hexdigest()
    assert len(row["nonce"]) == 32
    [message] = mailbox.messages
    assert f"/s/{token}/" in _parts(message)[0]


# --- How often one person is asked


def test_the_fatigue_cap_holds_back_a_second_survey_within_the_window(
    mailbox: Mailbox, nps: Survey, csat: Survey, store: Any
) -> None:
    ona = _contact(store, "ona@example.com")
    first = _due_now(nps, store, ona)
    assert _send_due() == {"sent": 1}

    second = _due_now(csat, store, ona)
    assert _send_due() == {"capped": 1}
    assert _status(second) == "capped"
    assert len(mailbox.messages) == 1

    # 31 days later (the window is 30 days) the next survey goes out.
    Invitation.objects.filter(pk=first.pk).update(sent_at=timezone.now() - timedelta(days=31))
    later = _trigger(store, ona, "purchase", timezone.now() - timedelta(days=1, minutes=1))
    assert _send_due() == {"sent": 1}
    assert _status(later) == "sent"
    assert [_subject(m) for m in mailbox.messages] == [
        "Would you recommend Baltic Goods LT?",
        "How was shopping at Baltic Goods LT?",
    ]


def test_a_reminder_does_not_count_for_the_fatigue_cap(
    mailbox: Mailbox, nps: Survey, csat: Survey, store: Any
) -> None:
    ona = _contact(store, "ona@example.com")
    first = _due_now(nps, store, ona)
    _send_due()
    Invitation.objects.filter(pk=first.pk).update(sent_at=timezone.now() - timedelta(days=31))
    assert services.reminder_send(invitation_id=first.pk).status == "sent"

    second = _due_now(csat, store, ona)

    assert _send_due() == {"sent": 1}
    assert _status(second) == "sent"
    assert len(mailbox.messages) == 3


def test_one_reminder_only_to_non_responders_with_the_same_link(
    mailbox: Mailbox, nps: Survey, store: Any
) -> None:
    answered = _due_now(nps, store, _contact(store, "jonas@example.lt", "lt"))
    started = _due_now(nps, store, _contact(store, "ruta@example.lt", "lt"))
    silent = _due_now(nps, store, _contact(store, "ona@example.com"))
    _send_due()
    score = nps.questions.order_by("position").first()
    assert score is not None
    services.response_save(invitation=answered, answers={score.pk: 9}, language="lt", submit=True)
    services.response_save(invitation=started, answers={score.pk: 4}, language="lt", submit=False)
    assert services.reminders_due(now=timezone.now()) == []  # not 3 days yet

    sent_at = timezone.now() - timedelta(days=3, minutes=1)
    Invitation.objects.filter(survey=nps).update(sent_at=sent_at)
    due = services.reminders_due(now=timezone.now())

    assert sorted(due) == sorted([started.pk, silent.pk])
    for invitation_id in due:
        assert services.reminder_send(invitation_id=invitation_id).status == "sent"
    assert services.reminders_due(now=timezone.now()) == []
    assert services.reminder_send(invitation_id=silent.pk).status == "skipped"
    assert services.reminder_send(invitation_id=answered.pk).status == "skipped"

    first_emails, reminders = mailbox.messages[:3], mailbox.messages[3:]
    assert [m["To"] for m in reminders] == [
        "ruta@example.lt" if i == started.pk else "ona@example.com" for i in due
    ]
    for reminder in reminders:
        original = next(m for m in first_emails if m["To"] == reminder["To"])
        assert (
            _subject(reminder)
            == {
                "ruta@example.lt": "Priminimas: Ar rekomenduotumėte parduotuvę Baltic Goods LT?",
                "ona@example.com": "Reminder: Would you recommend Baltic Goods LT?",
            }[reminder["To"]]
        )
        assert SCORE_LINK.findall(_parts(reminder)[0]) == SCORE_LINK.findall(_parts(original)[0])
        assert _header(reminder, "List-Unsubscribe") == _header(original, "List-Unsubscribe")


# --- Never two emails for one invitation


def test_sending_the_same_invitation_twice_sends_one_email(
    mailbox: Mailbox, nps: Survey, store: Any
) -> None:
    invitation = _due_now(nps, store, _contact(store, "ona@example.com"))

    first = services.invitation_send(invitation_id=invitation.pk)
    second = services.invitation_send(invitation_id=invitation.pk)
    batch = services.invitations_send_batch(invitation_ids=[invitation.pk, invitation.pk])

    assert (first.status, second.status, batch) == ("sent", "skipped", {"skipped": 2})
    assert len(mailbox.messages) == 1
    assert services.invitations_due(now=timezone.now()) == {}


def test_an_invitation_stuck_in_sending_becomes_unknown_and_is_resent_only_by_hand(
    mailbox: Mailbox,
    nps: Survey,
    store: Any,
    actor: Actor,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    invitation = _due_now(nps, store, _contact(store, "ona@example.com"))

    def worker_killed(self: Any, fail_silently: bool = False) -> int:
        raise SystemExit("the worker was killed mid-send")

    with monkeypatch.context() as patch:
        patch.setattr(EmailMultiAlternatives, "send", worker_killed)
        with pytest.raises(SystemExit):
            services.invitation_send(invitation_id=invitation.pk)
    assert _status(invitation) == "sending"

    now = timezone.now()
    assert services.invitations_mark_stuck(now=now + timedelta(minutes=14)) == 0
    assert services.invitations_mark_stuck(now=now + timedelta(minutes=16)) == 1
    assert _status(invitation) == "unknown"
    assert services.invitations_due(now=now + timedelta(minutes=16)) == {}
    assert services.invitation_send(invitation_id=invitation.pk).status == "skipped"
    assert mailbox.messages == []

    services.invitation_resend(invitation=invitation, actor=actor)

    assert (_status(invitation), invitation.attempts) == ("queued", 0)
    assert services.invitations_due(now=timezone.now()) == {store.pk: [invitation.pk]}
    assert _send_due() == {"sent": 1}
    assert len(mailbox.messages) == 1


# --- Refusals and retries


def _make_due(invitation: Invitation) -> None:
    Invitation.objects.filter(pk=invitation.pk).update(due_at=timezone.now())


def test_a_temporary_refusal_is_retried_with_backoff_until_the_last_attempt(
    mailbox: Mailbox, nps: Survey, store: Any
) -> None:
    invitation = _due_now(nps, store, _contact(store, "ona@example.com"))
    mailbox.refuse_data = "451 4.3.0 Try again later"

    for attempt, backoff in enumerate(sending.RETRY_BACKOFF, start=1):
        before = timezone.now()
        assert _send_due() == {"retry": 1}
        invitation.refresh_from_db()
        assert (invitation.status, invitation.attempts) == ("queued", attempt)
        assert "451" in invitation.last_error
        assert (
            before + timedelta(seconds=backoff)
            <= invitation.due_at
            <= timezone.now() + timedelta(seconds=backoff)
        )
        assert services.invitations_due(now=timezone.now()) == {}  # not before the backoff
        _make_due(invitation)

    assert _send_due() == {"failed": 1}
    invitation.refresh_from_db()
    assert (invitation.status, invitation.attempts) == ("failed", sending.MAX_SEND_ATTEMPTS)
    mailbox.refuse_data = ""
    assert _send_due() == {}
    assert mailbox.data_commands == sending.MAX_SEND_ATTEMPTS
    assert mailbox.messages == []


def test_a_stopped_server_means_a_retry_and_the_next_try_delivers(
    smtp: SmtpServer, nps: Survey, store: Any
) -> None:
    invitation = _due_now(nps, store, _contact(store, "ona@example.com"))
    smtp.stop()

    outcome = services.invitation_send(invitation_id=invitation.pk)

    invitation.refresh_from_db()
    assert outcome.status == "retry"
    assert (invitation.status, invitation.attempts) == ("queued", 1)
    assert invitation.due_at >= timezone.now() + timedelta(seconds=55)

    smtp.start()
    _make_due(invitation)
    assert _send_due() == {"sent": 1}
    assert (_status(invitation), len(smtp.mailbox.messages)) == ("sent", 1)


def test_a_batch_while_the_server_is_down_sends_nothing_and_counts_no_attempt(
    smtp: SmtpServer, nps: Survey, store: Any
) -> None:
    """The batch's connection fails before any invitation is claimed: all stay queued for the
    next dispatch, without using up their attempts."""
    invitation = _due_now(nps, store, _contact(store, "ona@example.com"))
    smtp.stop()

    with pytest.raises(OSError):
        services.invitations_send_batch(invitation_ids=[invitation.pk])

    invitation.refresh_from_db()
    assert (invitation.status, invitation.attempts) == ("queued", 0)


def test_a_greylisted_recipient_is_retried_not_given_up(
    mailbox: Mailbox, nps: Survey, store: Any
) -> None:
    """450/451 at RCPT is greylisting, common with small mail servers: try again later."""
    invitation = _due_now(nps, store, _contact(store, "ona@example.com"))
    mailbox.refuse_rcpt = "450 4.2.0 Greylisted, please try again later"

    assert _send_due() == {"retry": 1}
    invitation.refresh_from_db()
    assert (invitation.status, invitation.attempts) == ("queued", 1)

    mailbox.refuse_rcpt = ""
    _make_due(invitation)
    assert _send_due() == {"sent": 1}
    assert len(mailbox.messages) == 1


def test_a_rejected_recipient_fails_at_once(mailbox: Mailbox, nps: Survey, store: Any) -> None:
    invitation = _due_now(nps, store, _contact(store, "nobody@example.com"))
    mailbox.refuse_rcpt = "550 5.1.1 No such user"

    assert _send_due() == {"failed": 1}
    invitation.refresh_from_db()
    assert (invitation.status, invitation.attempts) == ("failed", 1)
    assert "550" in invitation.last_error


# --- Who is never emailed


def test_unsubscribed_and_suppressed_contacts_are_never_emailed(
    mailbox: Mailbox, nps: Survey, store: Any
) -> None:
    leaving = _due_now(nps, store, _contact(store, "leaving@example.com"))
    bounced = _due_now(nps, store, _contact(store, "bounced@example.com"))
    staying = _due_now(nps, store, _contact(store, "staying@example.com"))
    services.contact_unsubscribe(contact=Contact.objects.get(email="leaving@example.com"))
    services.contact_suppress(store=store, email="bounced@example.com", reason="hard bounce")

    assert _send_due() == {"failed": 2, "sent": 1}

    assert [rcpts for _from, rcpts in mailbox.envelopes] == [["staying@example.com"]]
    for invitation, reason in ((leaving, "unsubscribed"), (bounced, "suppressed")):
        invitation.refresh_from_db()
        assert (invitation.status, invitation.last_error) == ("failed", reason)
    # Nor reminded, once sent and unsubscribed afterwards.
    services.contact_unsubscribe(contact=Contact.objects.get(email="staying@example.com"))
    Invitation.objects.filter(pk=staying.pk).update(sent_at=timezone.now() - timedelta(days=4))
    assert services.reminders_due(now=timezone.now()) == []
    assert services.reminder_send(invitation_id=staying.pk).status == "skipped"
    assert len(mailbox.messages) == 1


# --- Pace, pauses and repeats


def _other_store_with_nps(organisation: Any, actor: Actor) -> tuple[Any, Survey]:
    store = StoreFactory(organisation=organisation, name="Other shop")
    return store, _survey(organisation, store, actor, "nps")


def test_each_store_is_sent_at_most_its_rate_per_minute(
    mailbox: Mailbox, nps: Survey, store: Any, organisation: Any, actor: Actor
) -> None:
    services.store_survey_settings_update(store=store, actor=actor, send_rate_per_minute=2)
    mine = [_due_now(nps, store, _contact(store, f"buyer{n}@example.com")) for n in range(5)]
    other_store, other_survey = _other_store_with_nps(organisation, actor)
    theirs = [
        _due_now(other_survey, other_store, _contact(other_store, f"them{n}@example.com"))
        for n in range(3)
    ]

    due = services.invitations_due(now=timezone.now())

    assert due == {store.pk: [i.pk for i in mine[:2]], other_store.pk: [i.pk for i in theirs]}
    assert _send_due() == {"sent": 5}
    assert services.invitations_due(now=timezone.now()) == {store.pk: [i.pk for i in mine[2:4]]}


def test_reminders_share_the_stores_rate_with_the_first_emails(
    mailbox: Mailbox, nps: Survey, store: Any, organisation: Any, actor: Actor
) -> None:
    services.store_survey_settings_update(store=store, actor=actor, send_rate_per_minute=2)
    mine = [_due_now(nps, store, _contact(store, f"buyer{n}@example.com")) for n in range(3)]
    other_store, other_survey = _other_store_with_nps(organisation, actor)
    theirs = _due_now(other_survey, other_store, _contact(other_store, "them@example.com"))
    _send_due()
    _send_due()  # the third of mine, in the next minute
    reminder_after = timedelta(days=nps.reminder_after_days or 0, minutes=1)
    Invitation.objects.update(sent_at=timezone.now() - reminder_after)
    Survey.objects.filter(pk=other_survey.pk).update(reminder_after_days=nps.reminder_after_days)
    now = timezone.now()

    assert services.reminders_due(now=now) == [mine[0].pk, mine[1].pk, theirs.pk]
    # One first email of this store queued this minute already: room for one reminder.
    assert services.reminders_due(now=now, spent={store.pk: 1}) == [mine[0].pk, theirs.pk]
    assert services.reminders_due(now=now, spent={store.pk: 2}) == [theirs.pk]


def test_a_paused_surveys_invitations_wait(
    mailbox: Mailbox, nps: Survey, store: Any, actor: Actor
) -> None:
    invitation = _due_now(nps, store, _contact(store, "ona@example.com"))
    services.survey_set_status(survey=nps, actor=actor, status="paused")

    assert services.invitations_due(now=timezone.now()) == {}
    assert services.invitation_send(invitation_id=invitation.pk).status == "skipped"
    assert (_status(invitation), mailbox.messages) == ("queued", [])

    services.survey_set_status(survey=nps, actor=actor, status="active")
    assert _send_due() == {"sent": 1}
    assert _status(invitation) == "sent"


def test_a_repeated_trigger_creates_no_second_invitation(
    mailbox: Mailbox, nps: Survey, store: Any
) -> None:
    ona = _contact(store, "ona@example.com")
    at = timezone.now() - timedelta(days=31)
    first = services.invitations_trigger(
        store=store, event_name="delivered", occurred_at=at, customer_key=ona.customer_key
    )
    _send_due()

    again = services.invitations_trigger(
        store=store, event_name="delivered", occurred_at=at, customer_key=ona.customer_key
    )
    _send_due()

    assert (len(first), again) == (1, [])
    assert Invitation.objects.count() == 1
    assert len(mailbox.messages) == 1
