"""Monthly partitions: on demand for history, ahead of time by beat, dropped by retention."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from django.db import connection

from events import partitions
from events.ingest import EventIn
from events.models import Event, EventSource
from events.services import events_ingest
from tests.factories import StoreFactory

pytestmark = pytest.mark.django_db


def event(index: int, at: datetime, key: str = "c1") -> EventIn:
    return EventIn(
        index=index,
        client_id=f"e{index}-{at:%Y%m%d}",
        name="page_view",
        customer_key=key,
        is_anonymous=False,
        occurred_at=at,
    )


def rows_in(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {table}")
        return cursor.fetchone()[0]


def test_history_gets_its_months_partitions(store: Any, now: datetime) -> None:
    store.event_retention_months = None
    store.save()
    events_ingest(
        store=store,
        items=[
            event(0, datetime(2010, 12, 1, 8, tzinfo=UTC)),
            event(1, datetime(2011, 12, 9, 12, tzinfo=UTC)),
            event(2, datetime(2010, 12, 31, 23, 59, tzinfo=UTC)),
        ],
        source=EventSource.CSV,
    )
    assert {date(2010, 12, 1), date(2011, 12, 1)} <= partitions.partitions_existing()
    assert rows_in("events_event_p201012") == 2
    assert rows_in("events_event_p201112") == 1
    assert rows_in("events_event_default") == 0


def test_maintenance_creates_months_ahead_and_drops_what_every_store_has_expired(
    store: Any, now: datetime
) -> None:
    keeper = StoreFactory(organisation=store.organisation, name="Keeps all")
    keeper.event_retention_months = None
    keeper.save()
    store.event_retention_months = 2  # horizon: 2026-01-01
    store.save()
    old = datetime(2025, 11, 10, tzinfo=UTC)
    older = datetime(2025, 10, 10, tzinfo=UTC)
    # Written as history first (retention is checked at the door; here the rows exist).
    events_ingest(store=store, items=[event(0, old), event(1, older)], source=EventSource.CSV)
    events_ingest(store=keeper, items=[event(2, older)], source=EventSource.CSV)
    report = partitions.partitions_maintain()
    existing = partitions.partitions_existing()
    assert {date(2026, m, 1) for m in (1, 2, 3, 4, 5, 6)} <= existing
    assert "events_event_p202606" in report.created
    assert report.dropped == ["events_event_p202511"]  # only the expiring store had rows there
    assert date(2025, 11, 1) not in existing
    assert date(2025, 10, 1) in existing  # the keeper's row keeps October
    assert report.expired_events_deleted == 1  # the expiring store's October row
    assert list(Event.objects.values_list("store_id", flat=True)) == [keeper.pk]


def test_rows_in_the_default_partition_are_moved_to_their_month_and_reported(
    store: Any, now: datetime
) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO events_event (store_id, occurred_at, customer_id, event_name_id, "
            "received_at, client_id, source) VALUES (%s, '2031-05-05T00:00:00Z', 1, 1, now(), "
            "'x', 1)",
            [store.pk],
        )
    assert rows_in("events_event_default") == 1
    report = partitions.partitions_maintain()
    assert report.default_partition_rows == 1
    assert rows_in("events_event_default") == 0
    assert rows_in("events_event_p203105") == 1


def test_retention_refuses_older_events_at_the_door(store: Any, now: datetime) -> None:
    from events.services import events_batch_ingest

    store.event_retention_months = 3  # horizon 2025-12-01
    store.save()
    result = events_batch_ingest(
        store=store,
        raw_items=[
            {"id": "a", "name": "x", "customer_key": "c", "occurred_at": "2025-11-30T23:59:59Z"},
            {"id": "b", "name": "x", "customer_key": "c", "occurred_at": "2025-12-01T00:00:00Z"},
        ],
    )
    assert result.accepted == 1
    assert result.errors == [
        {
            "index": 0,
            "message": "occurred_at is before 2025-12-01, older than the store keeps events "
            "(its retention setting).",
        }
    ]


def test_an_admin_sets_the_stores_retention_or_turns_it_off(
    store: Any, api_as: Any, client_as: Any
) -> None:
    api = api_as("admin")
    answer = api.patch(f"/api/v1/stores/{store.pk}/", {"event_retention_months": 13}, format="json")
    assert answer.status_code == 200
    assert answer.json()["event_retention_months"] == 13
    answer = api.patch(f"/api/v1/stores/{store.pk}/", {"event_retention_months": 0}, format="json")
    assert answer.status_code == 400
    answer = api.patch(
        f"/api/v1/stores/{store.pk}/", {"event_retention_months": None}, format="json"
    )
    assert answer.status_code == 200
    store.refresh_from_db()
    assert store.event_retention_months is None
