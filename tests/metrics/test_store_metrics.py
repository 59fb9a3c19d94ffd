"""GET /api/v1/stores/{id}/metrics/: bounce rate, retention and response rate, exactly."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from events.ingest import EventIn
from events.models import EventSource
from events.services import events_ingest
from surveys.models import Invitation
from tests.surveys.factories import SurveyFactory, sent_invitation

pytestmark = pytest.mark.django_db


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def ingest(store: Any, rows: list[tuple[str, str, bool, datetime, str]]) -> None:
    events_ingest(
        store=store,
        items=[
            EventIn(i, f"m{i}", name, key, anonymous, moment, session)
            for i, (name, key, anonymous, moment, session) in enumerate(rows)
        ],
        source=EventSource.CSV,
    )


def metrics(api_as: Any, store: Any, **query: Any) -> Any:
    answer = api_as("viewer").get(f"/api/v1/stores/{store.pk}/metrics/", query)
    assert answer.status_code == 200, answer.content
    return answer.json()


def test_bounce_rate_counts_sessions_whose_only_event_is_one_page_view(
    utc_store: Any, api_as: Any, now: datetime
) -> None:
    ingest(
        utc_store,
        [
            ("page_view", "a1", True, at(2026, 1, 3, 10), "s1"),  # bounce
            ("product_view", "a2", True, at(2026, 1, 4, 10), "s2"),
            ("add_to_cart", "a2", True, at(2026, 1, 4, 10, 5), "s2"),
            ("add_to_cart", "a3", True, at(2026, 1, 5, 10), "s3"),  # one event, not a view
            ("page_view", "a4", True, at(2025, 12, 31, 23, 50), "s4"),  # before the period
            ("product_view", "a4", True, at(2026, 1, 1, 0, 5), "s4"),  # bounce in the period
            ("page_view", "a5", True, at(2026, 1, 6, 9), "s5"),  # the same session as…
            ("checkout_start", "C-5", False, at(2026, 1, 6, 9, 3), "s5"),  # …another customer
            ("page_view", "a6", True, at(2026, 1, 7, 9), ""),  # no session: not counted
            ("page_view", "a7", True, at(2026, 2, 1, 0, 0), "s7"),  # after the period
        ],
    )
    body = metrics(api_as, utc_store, start="2026-01-01", end="2026-01-31")
    assert body["bounce_rate"]["successes"] == 2
    assert body["bounce_rate"]["total"] == 5
    assert body["bounce_rate"]["value"] == 0.4


def test_retention_counts_first_buyers_of_the_period_who_buy_again_within_n_days(
    utc_store: Any, api_as: Any, now: datetime
) -> None:
    ingest(
        utc_store,
        [
            ("purchase", "r1", False, at(2026, 1, 5), ""),
            ("purchase", "r1", False, at(2026, 2, 10), ""),  # 36 days later: retained
            ("purchase", "r2", False, at(2026, 1, 10), ""),
            ("purchase", "r2", False, at(2026, 6, 1), ""),  # after 90 days
            ("purchase", "r3", False, at(2025, 12, 20), ""),  # first ever before the period
            ("purchase", "r3", False, at(2026, 1, 15), ""),
            ("purchase", "r4", False, at(2026, 1, 20, 12), ""),
            ("add_to_cart", "r4", False, at(2026, 1, 25), ""),  # not a purchase
            ("purchase", "r5", False, at(2026, 1, 31, 23), ""),
            ("purchase", "r5", False, at(2026, 5, 1, 23), ""),  # exactly 90 days: retained
        ],
    )
    body = metrics(api_as, utc_store, start="2026-01-01", end="2026-01-31")
    retention = body["retention"]
    assert (retention["successes"], retention["total"]) == (2, 4)
    assert retention["days"] == 90
    assert retention["complete"] is False  # 2026-02-01 + 90 days is after the frozen now
    shorter = metrics(api_as, utc_store, start="2026-01-01", end="2026-01-31", retention_days=30)
    assert (shorter["retention"]["successes"], shorter["retention"]["total"]) == (0, 4)


def test_response_rate_is_answered_over_delivered_invitations(
    utc_store: Any, api_as: Any, now: datetime
) -> None:
    survey = SurveyFactory(store=utc_store)
    sent = [sent_invitation(survey, f"b{i}@example.com")[0] for i in range(4)]
    Invitation.objects.filter(pk__in=[sent[0].pk]).update(status=Invitation.Status.ANSWERED)
    Invitation.objects.filter(pk__in=[sent[1].pk]).update(status=Invitation.Status.OPENED)
    Invitation.objects.filter(pk__in=[sent[2].pk]).update(status=Invitation.Status.BOUNCED)
    Invitation.objects.update(sent_at=at(2026, 3, 10))
    body = metrics(api_as, utc_store, start="2026-03-01", end="2026-03-15")
    assert (body["response_rate"]["successes"], body["response_rate"]["total"]) == (1, 3)
    empty = metrics(api_as, utc_store, start="2026-01-01", end="2026-01-31")
    assert empty["response_rate"] == {
        "successes": 0,
        "total": 0,
        "value": None,
        "low": None,
        "high": None,
    }
    assert empty["bounce_rate"]["total"] == 0
