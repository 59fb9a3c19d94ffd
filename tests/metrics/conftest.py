"""What the metrics API tests share: stores, a journey from a table of stages, events from a
table of timelines, the clock, and the funnel's figures as a table to compare exactly.

The timeline tests make every write inside `on_commit(execute=True)`, so that what a commit
sets off (the recompute of stored figures, once there are any) runs before the next query."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection, Iterator
from datetime import datetime
from typing import Any

import pytest
from rest_framework.test import APIClient

from events import partitions
from events.ingest import EventIn
from events.models import EventSource
from events.services import events_ingest
from journeys.models import Journey
from tests.factories import StoreFactory
from tests.journeys.factories import JourneyFactory, StageFactory, TouchpointFactory

# A timeline table: customer key → [(event name, when)], in the order the events arrive.
Timelines = dict[str, list[tuple[str, datetime]]]


@pytest.fixture(autouse=True)
def _partitions_cache() -> Iterator[None]:
    # Each test's transaction is rolled back, the partitions it created with it: forget them.
    partitions.forget_known()
    yield
    partitions.forget_known()


@pytest.fixture
def utc_store(organisation: Any) -> Any:
    store = StoreFactory(organisation=organisation, name="UTC shop", time_zone="UTC")
    store.event_retention_months = None
    store.save()
    return store


@pytest.fixture
def vilnius_store(organisation: Any) -> Any:
    store = StoreFactory(organisation=organisation, name="Vilnius shop", time_zone="Europe/Vilnius")
    store.event_retention_months = None
    store.save()
    return store


@pytest.fixture
def clock_at(monkeypatch: Any) -> Callable[[datetime], None]:
    """clock_at(moment): core.clock.now() answers `moment` from then on (events may be dated
    at most a day after it)."""
    from core import clock

    def freeze(moment: datetime) -> None:
        monkeypatch.setattr(clock, "now", lambda: moment)

    return freeze


def journey_for(store: Any, stages: list[tuple[str, list[str]]]) -> Journey:
    """The store's active journey: one stage per (moment, event names), one touchpoint each."""
    journey = JourneyFactory(store=store, status=Journey.Status.ACTIVE)
    for position, (moment, names) in enumerate(stages):
        stage = StageFactory(journey=journey, moment=moment, name=moment, position=position)
        TouchpointFactory(stage=stage, event_names=names)
    return journey


def ingest_timelines(store: Any, timelines: Timelines, *, anonymous: Collection[str] = ()) -> None:
    """Store the events of a timeline table (keys in `anonymous` are anonymous ids). An
    event's id is its customer, name and time (a second one at the same instant gets #2), so
    that a later call with other events never collides with an earlier one."""
    seen: Counter[str] = Counter()
    items = []
    for key, events in timelines.items():
        for name, when in events:
            client_id = f"{key}:{name}:{when.isoformat()}"
            seen[client_id] += 1
            if seen[client_id] > 1:
                client_id += f"#{seen[client_id]}"
            items.append(EventIn(len(items), client_id, name, key, key in anonymous, when))
    result = events_ingest(store=store, items=items, source=EventSource.CSV)
    assert result.accepted == len(items), result.as_dict()


def funnel(client: APIClient, store: Any, **query: Any) -> Any:
    answer = client.get(f"/api/v1/stores/{store.pk}/funnel/", query)
    assert answer.status_code == 200, answer.content
    return answer.json()


def store_metrics(client: APIClient, store: Any, **query: Any) -> Any:
    answer = client.get(f"/api/v1/stores/{store.pk}/metrics/", query)
    assert answer.status_code == 200, answer.content
    return answer.json()


def figures(body: Any) -> list[tuple[Any, ...]]:
    """Per stage: (name, tracked, reached, funnel, conversion as (successes, total) or None,
    median and p90 seconds to convert)."""
    rows = []
    for stage in body["stages"]:
        conversion = stage["conversion"]
        rows.append(
            (
                stage["name"],
                stage["tracked"],
                stage["reached"],
                stage["funnel"],
                None if conversion is None else (conversion["successes"], conversion["total"]),
                stage["median_seconds_to_convert"],
                stage["p90_seconds_to_convert"],
            )
        )
    return rows


def retention(body: Any) -> tuple[int, int]:
    return body["retention"]["successes"], body["retention"]["total"]
