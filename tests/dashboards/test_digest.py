"""The weekly digest: opting in and out on the dashboard, the beat task's email with exact
figures from declared timelines, once a week, the significant changes first, the unsubscribe
link without log-in, and who gets nothing."""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any
from unittest import mock

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client

from accounts.models import Membership, Role
from accounts.services import Actor, member_remove
from dashboards import selectors, services, tasks, tokens
from dashboards.models import DigestSubscription
from journeys.models import Journey
from metrics import recompute
from tests.factories import StoreFactory
from tests.journeys.factories import JourneyFactory, StageFactory, TouchpointFactory
from tests.metrics.conftest import ingest_timelines
from tests.surveys.test_results import Customer, given, make_survey

pytestmark = pytest.mark.django_db

# The week of the digest is ISO week 11 of 2026, Monday 9 to Sunday 15 March; the week before
# is Monday 2 to Sunday 8 March. The beat runs on Monday 16 March at 06:00 UTC.
MONDAY = datetime(2026, 3, 16, 6, 0, tzinfo=UTC)
WEEK = date(2026, 3, 9)
PREVIOUS = datetime(2026, 3, 3, 10, 0, tzinfo=UTC)  # a Tuesday of the week before
THIS = datetime(2026, 3, 10, 10, 0, tzinfo=UTC)  # a Tuesday of the digest's week
WEDNESDAY = datetime(2026, 3, 11, 15, 0, tzinfo=UTC)  # in the digest's week
HOUR = timedelta(hours=1)

# Each customer searches (ZMOT), may view a product an hour later (FMOT) and buy an hour after
# that (SMOT). The week before: 10 search, 9 view, 4 buy; this week: 10 search, 3 view, 2 buy.
TIMELINES = {
    **{
        f"p{i}": [("search", PREVIOUS)]
        + ([("product_view", PREVIOUS + HOUR)] if i < 9 else [])
        + ([("purchase", PREVIOUS + 2 * HOUR)] if i < 4 else [])
        for i in range(10)
    },
    **{
        f"t{i}": [("search", THIS)]
        + ([("product_view", THIS + HOUR)] if i < 3 else [])
        + ([("purchase", THIS + 2 * HOUR)] if i < 2 else [])
        for i in range(10)
    },
}
# The checkout survey (SMOT), 1–5: 2 of 6 satisfied the week before, 6 of 6 this week.
RATINGS_BEFORE = [5, 4, 2, 1, 2, 1]
RATINGS_THIS_WEEK = [5, 5, 4, 4, 5, 4]

STORE_NAME = 'Linen & "Co" <LT>'  # user text: escaped in the HTML, as typed in the text


@pytest.fixture
def clock_at(monkeypatch: Any) -> Callable[[datetime], None]:
    from core import clock

    def freeze(moment: datetime) -> None:
        monkeypatch.setattr(clock, "now", lambda: moment)

    return freeze


@pytest.fixture
def shop(organisation: Any, clock_at: Callable[[datetime], None]) -> Any:
    """A store in UTC with three tracked stages (and one not tracked), two weeks of events
    and checkout answers, its figures computed on Monday morning."""
    clock_at(MONDAY)
    store = StoreFactory(organisation=organisation, name=STORE_NAME, time_zone="UTC")
    store.event_retention_months = None
    store.save()
    journey = JourneyFactory(store=store, status=Journey.Status.ACTIVE)
    for position, (moment, name, names) in enumerate(
        [
            ("ZMOT", "Research", ["search"]),
            ("FMOT", "Product page", ["product_view"]),
            ("SMOT", "Checkout & pay", ["purchase"]),
            ("TMOT", "Delivery", ["delivered"]),  # never sent: not tracked
        ]
    ):
        stage = StageFactory(journey=journey, moment=moment, name=name, position=position)
        TouchpointFactory(stage=stage, event_names=names)
    ingest_timelines(store, TIMELINES)
    survey = make_survey(store, questions=["rating"], moment="SMOT", name="Checkout")
    given(
        survey,
        [
            Customer(f"b{i}@example.com", answers={"rating": r}, answered_at=PREVIOUS)
            for i, r in enumerate(RATINGS_BEFORE)
        ]
        + [
            Customer(f"n{i}@example.com", answers={"rating": r}, answered_at=THIS)
            for i, r in enumerate(RATINGS_THIS_WEEK)
        ],
    )
    recompute.results_recompute(store_id=store.pk)
    return store


def _subscribe(user: Any, store: Any, *, at: datetime = WEDNESDAY) -> DigestSubscription:
    """The member asks for the digest during the digest's week (its first one is that week)."""
    from core import clock

    membership = Membership.objects.get(user=user, organisation=store.organisation)
    with mock.patch.object(clock, "now", lambda: at):
        return services.digest_subscribe(membership=membership, store=store)


def _page(client: Client, store: Any, **query: Any) -> str:
    answer = client.get(f"/stores/{store.pk}/dashboard/", query)
    assert answer.status_code == 200
    return answer.content.decode()


# --- Opting in and out


def test_any_member_opts_in_and_out_on_the_dashboard(
    shop: Any, client_as: Any, other_organisation: Any
) -> None:
    viewer = client_as("viewer")
    url = f"/stores/{shop.pk}/dashboard/digest/"
    assert "Email me this store's weekly digest" in _page(viewer, shop)

    answer = viewer.post(url, {"subscribe": "on", "period": "last_7", "next": "https://x.test/"})
    assert answer.status_code == 302
    assert answer.url == f"/stores/{shop.pk}/dashboard/?period=last_7"
    (subscription,) = DigestSubscription.objects.all()
    assert subscription.store == shop
    assert subscription.membership.role == Role.VIEWER
    # On Monday the week just ended counts as sent: the first digest is of this week.
    assert subscription.last_sent_week == WEEK
    html = _page(viewer, shop)
    assert "Stop the weekly digest" in html
    assert "Email me this store's weekly digest" not in html
    viewer.post(url, {"subscribe": "on"})  # twice is still one
    assert DigestSubscription.objects.count() == 1

    assert viewer.post(url, {}).status_code == 302
    assert not DigestSubscription.objects.exists()
    assert viewer.get(url).status_code == 405  # a POST form only

    foreign = StoreFactory(organisation=other_organisation)
    assert (
        viewer.post(f"/stores/{foreign.pk}/dashboard/digest/", {"subscribe": "on"}).status_code
        == 404
    )
    assert not DigestSubscription.objects.exists()
    anonymous = Client()
    assert anonymous.post(url, {"subscribe": "on"}).status_code == 302  # to the log-in page
    assert not DigestSubscription.objects.exists()


def test_the_toggle_needs_the_csrf_token(shop: Any, member_factory: Any, organisation: Any) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(member_factory(organisation, Role.VIEWER))
    url = f"/stores/{shop.pk}/dashboard/digest/"
    assert client.post(url, {"subscribe": "on"}).status_code == 403
    assert not DigestSubscription.objects.exists()


# --- The email


def _by_recipient() -> dict[str, Any]:
    return {message.to[0]: message for message in mail.outbox}


def test_the_beat_task_emails_each_subscribed_member_the_weeks_figures(
    shop: Any, member_factory: Any, organisation: Any
) -> None:
    vera = member_factory(organisation, Role.VIEWER, email="vera@example.com")
    olga = member_factory(organisation, Role.OWNER, email="olga@example.com")
    member_factory(organisation, Role.EDITOR, email="not-subscribed@example.com")
    for user in (vera, olga):
        _subscribe(user, shop)

    assert tasks.digests_dispatch() == 2

    messages = _by_recipient()
    assert sorted(messages) == ["olga@example.com", "vera@example.com"]
    message = messages["vera@example.com"]
    assert message.subject == f"{STORE_NAME}: weekly digest, week 11 of 2026"
    subscription = DigestSubscription.objects.get(membership__user=vera)
    unsubscribe = f"{settings.SITE_URL}/digest/unsubscribe/{tokens.token_for(subscription.pk)}/"
    assert message.extra_headers["List-Unsubscribe"] == f"<{unsubscribe}>"
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    dashboard = (
        f"{settings.SITE_URL}/stores/{shop.pk}/dashboard/"
        "?period=custom&start=2026-03-09&end=2026-03-15"
    )
    # FMOT: 3 of 10 against 9 of 10: pooled 12/20, z = −0.6 / √(0.6 · 0.4 · (1/10 + 1/10)) =
    # −2.739, p = 0.0062: significant. SMOT: 2 of 3 against 4 of 9: pooled 6/12, z = 0.2222 /
    # √(0.25 · (1/3 + 1/9)) = 0.667, p = 0.505: not. CSAT at SMOT: 6 of 6 against 2 of 6:
    # pooled 8/12, z = 0.6667 / √(2/3 · 1/3 · (1/6 + 1/6)) = 2.449, p = 0.0143: significant.
    assert message.body == (
        f"{STORE_NAME}, week 11 of 2026: 2026-03-09 to 2026-03-15 (UTC), compared with the "
        "week before, 2026-03-02 to 2026-03-08.\n"
        "\n"
        "Significant changes\n"
        "▼ FMOT · Product page: conversion down from 90.0 % to 30.0 % (-60.0 pp)\n"
        "▲ SMOT · Checkout & pay: CSAT up from 33.3 % to 100.0 % (+66.7 pp)\n"
        "\n"
        "Stages\n"
        "\n"
        "ZMOT · Research\n"
        "  In the funnel: 10 (the week before: 10, +0)\n"
        "\n"
        "FMOT · Product page\n"
        "  In the funnel: 3 (the week before: 9, -6)\n"
        "  Conversion: 30.0 % (the week before: 90.0 %, -60.0 pp), significant\n"
        "\n"
        "SMOT · Checkout & pay\n"
        "  In the funnel: 2 (the week before: 4, -2)\n"
        "  Conversion: 66.7 % (the week before: 44.4 %, +22.2 pp)\n"
        "  CSAT: 100.0 % of 6 answers (the week before: 33.3 % of 6, +66.7 pp), significant\n"
        "\n"
        "TMOT · Delivery\n"
        "  Not tracked: the store has sent none of the events this stage maps.\n"
        "\n"
        "The week is still open: customers who entered near its end have up to 30 days to "
        "reach the next stages, so its conversion rates may still rise.\n"
        "\n"
        "The store's dashboard for this week:\n"
        f"{dashboard}\n"
        "\n"
        f"You get this email because you asked for the weekly digest of {STORE_NAME} on its "
        "dashboard. To stop it:\n"
        f"{unsubscribe}\n"
    )
    (html, kind) = message.alternatives[0]
    assert kind == "text/html"
    # The store's and the stages' names are escaped; no raw markup of theirs gets through.
    assert "Linen &amp; &quot;Co&quot; &lt;LT&gt;: week 11 of 2026" in html
    assert "<LT>" not in html
    assert "SMOT · Checkout &amp; pay" in html
    assert f'href="{dashboard.replace("&", "&amp;")}"' in html
    assert f'href="{unsubscribe}"' in html
    assert html.index("Significant changes") < html.index('<th scope="col"')
    assert "▼ FMOT · Product page: conversion down from 90.0 % to 30.0 % (-60.0 pp)" in html
    assert (
        messages["olga@example.com"].body.replace(
            tokens.token_for(DigestSubscription.objects.get(membership__user=olga).pk),
            tokens.token_for(subscription.pk),
        )
        == message.body
    )  # the same digest; each with their own unsubscribe link
    assert set(DigestSubscription.objects.values_list("last_sent_week", flat=True)) == {WEEK}


def test_the_dashboard_link_shows_that_week(shop: Any, client_as: Any) -> None:
    html = _page(client_as("viewer"), shop, period="custom", start="2026-03-09", end="2026-03-15")
    assert "2026-03-09 to 2026-03-15" in html
    assert "compared with 2026-03-02 to 2026-03-08" in html


def test_significant_changes_come_first_and_none_says_so(
    shop: Any, member_factory: Any, organisation: Any
) -> None:
    _subscribe(member_factory(organisation, Role.VIEWER), shop)
    tasks.digests_dispatch()
    (message,) = mail.outbox
    body = message.body
    significant = body.index("Significant changes")
    assert significant < body.index("▼ FMOT") < body.index("▲ SMOT") < body.index("\nStages\n")

    # A week with nothing significant: the two quiet weeks of January (no events, no answers).
    subscription = DigestSubscription.objects.get()
    quiet = selectors.weekly_digest(store=shop, week=date(2026, 1, 12))
    assert quiet.significant == []
    mail.outbox.clear()
    DigestSubscription.objects.filter(pk=subscription.pk).update(last_sent_week=None)
    assert services.digest_send(subscription_id=subscription.pk, week=date(2026, 1, 12)) == "sent"
    assert (
        "Significant changes\nNone this week: no change of conversion or CSAT is larger than "
        "chance would often give.\n"
    ) in mail.outbox[0].body


def test_a_second_run_the_same_week_sends_nothing_and_the_next_week_sends_again(
    shop: Any, member_factory: Any, organisation: Any, clock_at: Callable[[datetime], None]
) -> None:
    subscription = _subscribe(member_factory(organisation, Role.VIEWER), shop)
    assert tasks.digests_dispatch() == 1
    assert tasks.digests_dispatch() == 0
    # A redelivered task, or two runs racing past the dispatch: the claim lets one through.
    assert services.digest_send(subscription_id=subscription.pk, week=WEEK) == "already_sent"
    clock_at(MONDAY + timedelta(days=3, hours=12))  # later the same week
    assert tasks.digests_dispatch() == 0
    # Stopping and asking again does not bring the week back.
    membership = subscription.membership
    services.digest_stop(membership=membership, store=shop)
    subscription = services.digest_subscribe(membership=membership, store=shop)
    assert subscription.last_sent_week == WEEK
    assert tasks.digests_dispatch() == 0
    assert len(mail.outbox) == 1

    clock_at(MONDAY + timedelta(weeks=1))
    recompute.results_recompute(store_id=shop.pk)
    assert tasks.digests_dispatch() == 1
    assert len(mail.outbox) == 2
    assert mail.outbox[1].subject == f"{STORE_NAME}: weekly digest, week 12 of 2026"
    # Week 12 had no event: a real zero against week 11's ten.
    assert "  In the funnel: 0 (the week before: 10, -10)\n" in mail.outbox[1].body


def test_a_week_not_stored_since_it_ended_is_skipped_and_retried_at_the_next_run(
    shop: Any,
    member_factory: Any,
    organisation: Any,
    clock_at: Callable[[datetime], None],
    caplog: Any,
) -> None:
    subscription = _subscribe(member_factory(organisation, Role.VIEWER), shop)
    # The stored figures of the digest's week were computed on its Sunday, before it ended.
    clock_at(datetime(2026, 3, 15, 20, 0, tzinfo=UTC))
    recompute.results_recompute(store_id=shop.pk)
    clock_at(MONDAY)
    with caplog.at_level(logging.INFO, logger="dashboards.services"):
        assert tasks.digests_dispatch() == 1  # queued, and skipped by the send
    assert mail.outbox == []
    assert "computed before the week ended" in caplog.text
    assert "the next run tries again" in caplog.text
    subscription.refresh_from_db()
    assert subscription.last_sent_week == WEEK - timedelta(weeks=1)  # as it was

    # No stored week at all (a journey just deactivated): skipped, and said why.
    Journey.objects.filter(store=shop).update(status=Journey.Status.ARCHIVED)
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="dashboards.services"):
        tasks.digests_dispatch()
    assert "no active journey" in caplog.text
    assert mail.outbox == []

    # The next morning the week has been recomputed since it ended: it goes out.
    Journey.objects.filter(store=shop).update(status=Journey.Status.ACTIVE)
    clock_at(MONDAY + timedelta(days=1))
    recompute.results_recompute(store_id=shop.pk)
    assert tasks.digests_dispatch() == 1
    assert len(mail.outbox) == 1
    assert "week 11 of 2026" in mail.outbox[0].subject


def test_a_run_that_loses_the_race_for_the_week_sends_nothing(
    shop: Any, member_factory: Any, organisation: Any
) -> None:
    """Two runs read the subscription as unsent; the other one claims the week while this one
    renders its email: this one's conditional update finds nothing to claim."""
    from dashboards import emails

    subscription = _subscribe(member_factory(organisation, Role.VIEWER), shop)
    render = emails.digest_message

    def render_while_the_other_run_claims(**kwargs: Any) -> Any:
        DigestSubscription.objects.filter(pk=subscription.pk).update(last_sent_week=WEEK)
        return render(**kwargs)

    with mock.patch.object(emails, "digest_message", render_while_the_other_run_claims):
        outcome = services.digest_send(subscription_id=subscription.pk, week=WEEK)
    assert outcome == "already_sent"
    assert mail.outbox == []


def test_the_week_is_the_stores_own(organisation: Any) -> None:
    sunday_noon = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)
    utc = StoreFactory(organisation=organisation, time_zone="UTC")
    auckland = StoreFactory(organisation=organisation, time_zone="Pacific/Auckland")
    honolulu = StoreFactory(organisation=organisation, time_zone="Pacific/Honolulu")
    # It is Monday 01:00 in Auckland: week 11 has ended there, not yet in UTC.
    assert selectors.last_complete_week(store=auckland, now=sunday_noon) == date(2026, 3, 9)
    assert selectors.last_complete_week(store=utc, now=sunday_noon) == date(2026, 3, 2)
    # Monday 06:00 UTC is still Sunday evening in Honolulu.
    assert selectors.last_complete_week(store=honolulu, now=MONDAY) == date(2026, 3, 2)
    assert selectors.last_complete_week(store=utc, now=MONDAY) == date(2026, 3, 9)


def test_a_failed_send_gives_the_week_back(
    shop: Any, member_factory: Any, organisation: Any
) -> None:
    subscription = _subscribe(member_factory(organisation, Role.VIEWER), shop)
    with (
        mock.patch(
            "django.core.mail.EmailMultiAlternatives.send",
            side_effect=smtplib.SMTPServerDisconnected("gone"),
        ),
        pytest.raises(smtplib.SMTPServerDisconnected),
    ):
        services.digest_send(subscription_id=subscription.pk, week=WEEK)
    subscription.refresh_from_db()
    assert subscription.last_sent_week == WEEK - timedelta(weeks=1)  # as it was
    assert tasks.digests_dispatch() == 1  # the next run sends it
    assert len(mail.outbox) == 1


# --- Who gets nothing


def test_members_who_left_or_lost_access_get_nothing(
    shop: Any, member_factory: Any, organisation: Any
) -> None:
    owner = member_factory(organisation, Role.OWNER, email="owner@example.com")
    leaver = member_factory(organisation, Role.VIEWER, email="leaver@example.com")
    inactive = member_factory(organisation, Role.VIEWER, email="inactive@example.com")
    kept = member_factory(organisation, Role.VIEWER, email="kept@example.com")
    for user in (leaver, inactive, kept):
        _subscribe(user, shop)
    member_remove(
        membership=Membership.objects.get(user=leaver),
        actor=Actor(user=owner),
        actor_role=Role.OWNER,
    )
    assert not DigestSubscription.objects.filter(membership__user=leaver).exists()
    inactive.is_active = False
    inactive.save()

    assert tasks.digests_dispatch() == 1
    assert [m.to for m in mail.outbox] == [["kept@example.com"]]

    # A store being deleted sends nothing more, to anyone.
    mail.outbox.clear()
    DigestSubscription.objects.update(last_sent_week=None)
    shop.deletion_requested_at = MONDAY
    shop.save()
    assert tasks.digests_dispatch() == 0
    kept_subscription = DigestSubscription.objects.get(membership__user=kept)
    assert services.digest_send(subscription_id=kept_subscription.pk, week=WEEK) == "no_access"
    assert mail.outbox == []


# --- The unsubscribe link


def test_the_unsubscribe_link_works_without_log_in_and_a_tampered_one_is_refused(
    shop: Any, member_factory: Any, organisation: Any
) -> None:
    subscription = _subscribe(member_factory(organisation, Role.VIEWER), shop)
    tasks.digests_dispatch()
    (message,) = mail.outbox
    url = message.extra_headers["List-Unsubscribe"].strip("<>").removeprefix(settings.SITE_URL)
    assert url in message.body
    anonymous = Client(enforce_csrf_checks=True)  # as a mail provider's one-click POST comes

    tampered = url.replace(str(subscription.pk), str(subscription.pk + 1), 1)
    assert anonymous.get(tampered).status_code == 404
    assert (
        anonymous.post(
            tampered, "List-Unsubscribe=One-Click", "application/x-www-form-urlencoded"
        ).status_code
        == 404
    )
    assert DigestSubscription.objects.filter(pk=subscription.pk).exists()

    page = anonymous.get(url)
    assert page.status_code == 200
    assert page["Cache-Control"] == "no-store"
    assert page["Referrer-Policy"] == "no-referrer"
    html = page.content.decode()
    assert "Stop emailing you the weekly digest of Linen &amp; &quot;Co&quot; &lt;LT&gt;?" in html
    assert DigestSubscription.objects.filter(pk=subscription.pk).exists()  # a GET only asks

    done = anonymous.post(url, "List-Unsubscribe=One-Click", "application/x-www-form-urlencoded")
    assert done.status_code == 200
    assert "You will no longer get the weekly digest of Linen &amp;" in done.content.decode()
    assert not DigestSubscription.objects.exists()
    again = anonymous.get(url)
    assert again.status_code == 200
    assert "This weekly digest is already stopped." in again.content.decode()

    # A new subscription is not stopped by the old email's link.
    _subscribe(subscription.membership.user, shop)
    assert anonymous.post(url).status_code == 200
    assert DigestSubscription.objects.count() == 1
