"""GET /api/v1/stores/{id}/funnel/: the funnel computed from a store's stored events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from rest_framework.test import APIClient

from events import blocks
from events.ingest import EventIn
from events.models import EventSource
from events.services import events_ingest
from tests.factories import StoreFactory
from tests.metrics.conftest import funnel, journey_for
from tests.metrics.timelines import FIVE_STAGES, WORKED_EXAMPLE

pytestmark = pytest.mark.django_db
D0 = datetime(2026, 1, 1, tzinfo=UTC)
STAGES = list(zip(["ZMOT", "FMOT", "SMOT", "TMOT", "UMOT"], FIVE_STAGES, strict=True))
EXAMPLE = WORKED_EXAMPLE


def ingest(store: Any, timelines: dict[str, list[tuple[str, float]]]) -> None:
    items = [
        EventIn(i, f"{key}-{n}", name, key, False, D0 + timedelta(days=day))
        for i, (key, n, name, day) in enumerate(
            (key, n, name, day)
            for key, events in timelines.items()
            for n, (name, day) in enumerate(events)
        )
    ]
    events_ingest(store=store, items=items, source=EventSource.CSV)


def test_the_worked_example_through_the_api(utc_store: Any, api_as: Any, now: datetime) -> None:
    journey_for(utc_store, STAGES)
    ingest(utc_store, EXAMPLE)
    body = funnel(api_as("viewer"), utc_store, start="2026-01-01", end="2026-03-01")
    assert [s["funnel"] for s in body["stages"]] == [8, 5, 3, 1, 1]
    assert [s["reached"] for s in body["stages"]] == [8, 8, 5, 1, 1]
    assert body["stages"][0]["conversion"] is None
    assert body["stages"][1]["conversion"]["successes"] == 5
    assert body["stages"][1]["conversion"]["total"] == 8
    assert body["stages"][1]["conversion"]["value"] == 0.625
    # Time to FMOT over its 5 converters: 0, 3456, 86400, 172800, 172800 seconds.
    assert body["stages"][1]["median_seconds_to_convert"] == 86400
    assert body["stages"][1]["p90_seconds_to_convert"] == 172800
    assert body["window_days"] == 30
    assert body["complete"] is False  # 2026-03-02 + 30 days is after the frozen now
    january = funnel(api_as("viewer"), utc_store, start="2026-01-01", end="2026-01-31")
    assert january["complete"] is True  # 2026-02-01 + 30 days is before it
    assert body["events_counted"] == 24  # mapped events from day 0 to day 59
    # The same after compaction: the compact form, not its layout, decides.
    blocks.blocks_compact(store_id=utc_store.pk)
    again = funnel(api_as("viewer"), utc_store, start="2026-01-01", end="2026-03-01")
    assert [s["funnel"] for s in again["stages"]] == [8, 5, 3, 1, 1]


def test_untracked_stages_are_skipped_and_shown_without_figures(
    utc_store: Any, api_as: Any, now: datetime
) -> None:
    journey_for(utc_store, [("ZMOT", ["search"]), ("FMOT", ["never_sent"]), *STAGES[2:3]])
    ingest(utc_store, {"a": [("search", 0), ("purchase", 1)], "b": [("search", 0)]})
    body = funnel(api_as("viewer"), utc_store, start="2026-01-01", end="2026-01-31")
    fmot = body["stages"][1]
    assert (fmot["tracked"], fmot["funnel"], fmot["reached"]) == (False, None, None)
    smot = body["stages"][2]
    assert (smot["funnel"], smot["conversion"]["total"]) == (1, 2)


def test_a_recent_period_is_incomplete_and_the_default_is_the_last_30_days(
    utc_store: Any, api_as: Any, now: datetime
) -> None:
    journey_for(utc_store, STAGES)
    body = funnel(api_as("viewer"), utc_store)
    assert (body["start"], body["end"]) == ("2026-02-14", "2026-03-15")
    assert body["complete"] is False
    # No event ever received: no stage is tracked, so none has figures (never a zero).
    assert [(s["tracked"], s["funnel"], s["reached"]) for s in body["stages"]] == [
        (False, None, None)
    ] * 5
    assert body["events_counted"] == 0


def test_bad_periods_are_400_no_journey_is_409_and_other_stores_404(
    utc_store: Any, api_as: Any, other_organisation: Any, now: datetime
) -> None:
    client = api_as("viewer")
    url = f"/api/v1/stores/{utc_store.pk}/funnel/"
    assert client.get(url).status_code == 409
    assert client.get(url).json()["error"]["code"] == "no_active_journey"
    journey_for(utc_store, STAGES)
    assert client.get(url, {"start": "2026-03-02", "end": "2026-03-01"}).status_code == 400
    assert client.get(url, {"start": "2024-01-01", "end": "2026-03-01"}).status_code == 400
    assert client.get(url, {"window_days": "0"}).status_code == 400
    assert client.get(url, {"start": "yesterday"}).status_code == 400
    foreign = StoreFactory(organisation=other_organisation, name="Foreign")
    assert client.get(f"/api/v1/stores/{foreign.pk}/funnel/").status_code == 404
    assert APIClient().get(url).status_code == 401
