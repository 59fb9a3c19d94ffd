"""What the dashboard tests share."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest

from events import partitions
from metrics import recompute
from tests.factories import StoreFactory
from tests.metrics.test_funnel_api import EXAMPLE, STAGES, ingest, journey_for


@pytest.fixture(autouse=True)
def _partitions_cache() -> Iterator[None]:
    # Each test's transaction is rolled back, the partitions it created with it: forget them.
    partitions.forget_known()
    yield
    partitions.forget_known()


@pytest.fixture
def example_store(organisation: Any, now: datetime) -> Any:
    """The worked example (tests/metrics/timelines.py) in a UTC store, its standard periods
    recomputed; the frozen today is 2026-03-15."""
    store = StoreFactory(organisation=organisation, name="UTC shop", time_zone="UTC")
    store.event_retention_months = None
    store.save()
    journey_for(store, STAGES)
    ingest(store, EXAMPLE)  # from 2026-01-01 (day 0)
    recompute.results_recompute(store_id=store.pk)
    return store
