"""What ingested events set off: surveys for recent live events only, recompute marks that
survive Redis being down, and the privacy rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.core.cache import caches
from rest_framework.test import APIClient

from accounts import purges
from events.ingest import EventIn
from events.models import Customer, Event, EventKey, EventName, EventSource, RecomputeMark
from events.services import events_ingest
from surveys import selectors as survey_selectors
from surveys.models import Invitation, Survey
from surveys.services import contact_erase
from tests.events.conftest import item
from tests.surveys.factories import ContactFactory, SurveyFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def delivery_survey(store: Any) -> Survey:
    return SurveyFactory(
        store=store,
        status=Survey.Status.ACTIVE,
        trigger_event="delivered",
        delay=timedelta(days=1),
    )


@pytest.fixture
def buyer(store: Any) -> Any:
    return ContactFactory(store=store, email="ona@example.lt", customer_key="C-1")


def delivered(index: int, at: datetime) -> EventIn:
    return EventIn(
        index=index,
        client_id=f"d{index}",
        name="delivered",
        customer_key="C-1",
        is_anonymous=False,
        occurred_at=at,
    )


def test_a_recent_live_event_queues_the_survey_and_history_never_does(
    store: Any, now: datetime, delivery_survey: Survey, buyer: Any, on_commit: Any
) -> None:
    with on_commit(execute=True):
        events_ingest(
            store=store, items=[delivered(0, now - timedelta(hours=5))], source=EventSource.API
        )
    (invitation,) = Invitation.objects.filter(contact=buyer)
    assert invitation.due_at == now - timedelta(hours=5) + timedelta(days=1)
    with on_commit(execute=True):
        # Older than the delay (1 day) plus 2 days: a late event, no email.
        events_ingest(
            store=store,
            items=[delivered(1, now - timedelta(days=3, seconds=1))],
            source=EventSource.API,
        )
        # A CSV of recent deliveries is still history.
        events_ingest(
            store=store, items=[delivered(2, now - timedelta(hours=1))], source=EventSource.CSV
        )
        events_ingest(
            store=store, items=[delivered(3, now - timedelta(hours=1))], source=EventSource.DEMO
        )
    assert Invitation.objects.filter(contact=buyer).count() == 1
    assert Event.objects.filter(store=store).count() == 4


def test_ingestion_works_and_marks_days_while_redis_is_down(
    key_client: APIClient, store: Any, now: datetime, settings: Any, on_commit: Any
) -> None:
    settings.CACHES = {
        "default": {
            "BACKEND": "core.cache.FailSoftRedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens on port 1
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    settings.CELERY_TASK_ALWAYS_EAGER = False
    try:
        with on_commit(execute=True):
            answer = key_client.post(
                "/api/v1/events/batch/",
                {"events": [item("r1", at="2026-03-14T10:00:00Z"), item("r2")]},
                format="json",
            )
        assert answer.status_code == 200
        assert answer.json()["accepted"] == 2
        assert sorted(str(d) for d in RecomputeMark.objects.values_list("day", flat=True)) == [
            "2026-03-14",
            "2026-03-15",
        ]
    finally:
        settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
        caches["default"].clear()


def test_a_contacts_export_lists_their_events_and_erasure_removes_them(
    store: Any, now: datetime, buyer: Any, actor: Any
) -> None:
    events_ingest(
        store=store,
        items=[
            delivered(0, datetime(2026, 3, 1, tzinfo=UTC)),
            EventIn(1, "v1", "page_view", "someone-else", False, datetime(2026, 3, 1, tzinfo=UTC)),
        ],
        source=EventSource.CSV,
    )
    exported = survey_selectors.contact_export(contact=buyer)
    assert exported["events_total"] == 1
    assert exported["events"][0]["name"] == "delivered"
    assert exported["events"][0]["id"] == "d0"
    contact_erase(contact=buyer, actor=actor)
    assert list(Event.objects.values_list("client_id", flat=True)) == ["v1"]
    assert list(Customer.objects.values_list("key", flat=True)) == ["someone-else"]


def test_a_deleted_stores_events_go_in_batches_with_the_store(store: Any, now: datetime) -> None:
    events_ingest(
        store=store,
        items=[
            EventIn(i, f"e{i}", "page_view", f"c{i % 7}", False, datetime(2026, 3, 1, tzinfo=UTC))
            for i in range(50)
        ],
        source=EventSource.CSV,
    )
    store.deletion_requested_at = now
    store.save()
    purges.store_purge(store_id=store.pk, batch_size=40)
    assert Event.objects.count() == 0
    assert Customer.objects.count() == 0
    assert EventKey.objects.count() == 0
    assert EventName.objects.count() == 0
    assert RecomputeMark.objects.count() == 0
