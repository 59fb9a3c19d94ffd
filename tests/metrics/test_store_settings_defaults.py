"""The funnel's window and the retention's days default to the store's settings; a query's
parameter still overrides them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from tests.factories import StoreFactory
from tests.metrics import test_funnel_api as funnel_api
from tests.metrics import test_store_metrics as store_metrics
from tests.metrics.timelines import WORKED_EXAMPLE

pytestmark = pytest.mark.django_db


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


@pytest.fixture
def utc_store(organisation: Any) -> Any:
    return StoreFactory(
        organisation=organisation, name="UTC shop", time_zone="UTC", event_retention_months=None
    )


def test_the_funnel_window_is_the_stores_unless_the_query_gives_one(
    utc_store: Any, api_as: Any, now: datetime
) -> None:
    utc_store.funnel_window_days = 7
    utc_store.save()
    funnel_api.journey_for(utc_store, funnel_api.STAGES)
    funnel_api.ingest(utc_store, WORKED_EXAMPLE)
    client, period = api_as("viewer"), {"start": "2026-01-01", "end": "2026-03-01"}

    body = funnel_api.funnel(client, utc_store, **period)
    assert body["window_days"] == 7
    # c1 is delivered on day 9, after its 7 days: no one reaches TMOT or UMOT.
    assert [s["funnel"] for s in body["stages"]] == [8, 5, 3, 0, 0]
    assert body["complete"] is True  # 2026-03-02 + 7 days is before the frozen now

    asked = funnel_api.funnel(client, utc_store, **period, window_days=30)
    assert asked["window_days"] == 30
    assert [s["funnel"] for s in asked["stages"]] == [8, 5, 3, 1, 1]
    assert asked["complete"] is False


def test_the_retention_days_are_the_stores_unless_the_query_gives_them(
    utc_store: Any, api_as: Any, now: datetime
) -> None:
    utc_store.retention_days = 40
    utc_store.save()
    store_metrics.ingest(
        utc_store,
        [
            ("purchase", "r1", False, at(2026, 1, 5), ""),
            ("purchase", "r1", False, at(2026, 2, 10), ""),  # 36 days later
            ("purchase", "r2", False, at(2026, 1, 10), ""),
            ("purchase", "r2", False, at(2026, 3, 1), ""),  # 50 days later
            ("purchase", "r3", False, at(2026, 1, 20), ""),  # never again
        ],
    )
    period = {"start": "2026-01-01", "end": "2026-01-31"}

    body = store_metrics.metrics(api_as, utc_store, **period)
    retention = body["retention"]
    assert (retention["successes"], retention["total"], retention["days"]) == (1, 3, 40)
    assert retention["complete"] is True  # 2026-02-01 + 40 days is before the frozen now

    asked = store_metrics.metrics(api_as, utc_store, **period, retention_days=90)
    retention = asked["retention"]
    assert (retention["successes"], retention["total"], retention["days"]) == (2, 3, 90)
    assert retention["complete"] is False


def test_a_store_with_the_default_settings_keeps_30_and_90(
    utc_store: Any, api_as: Any, now: datetime
) -> None:
    funnel_api.journey_for(utc_store, funnel_api.STAGES)
    assert funnel_api.funnel(api_as("viewer"), utc_store)["window_days"] == 30
    assert store_metrics.metrics(api_as, utc_store)["retention"]["days"] == 90
