"""The demo organisation's figures: computed by the metrics loader after its events."""

from __future__ import annotations

from itertools import pairwise
from typing import Any

import pytest

from events import demo as events_demo
from metrics import demo
from metrics.models import FunnelResult
from metrics.store_metrics import store_metrics
from tests.events.test_demo import demo_organisation  # noqa: F401 - a fixture

pytestmark = pytest.mark.django_db


def test_the_demo_stores_have_every_standard_period(demo_organisation: Any) -> None:  # noqa: F811
    events_demo.load(organisation=demo_organisation)
    loaded = demo.load(organisation=demo_organisation)
    assert set(loaded) == {"Baltic Goods LT", "Baltic Goods RO"}
    for name, report in loaded.items():
        assert report["results"] == 71, name
        last_30 = FunnelResult.objects.get(store__name=name, kind=FunnelResult.Kind.LAST_30)
        funnel = [s["funnel"] for s in last_30.stages if s["tracked"]]
        # A realistic funnel: everyone enters at the first stage, fewer reach each next one.
        assert funnel[0] > 100
        assert all(a >= b for a, b in pairwise(funnel))
        assert funnel[-1] > 0
        assert last_30.events_counted > 1000


def test_stored_bounce_and_retention_equal_the_same_period_computed_alone(
    demo_organisation: Any,  # noqa: F811
) -> None:
    # The demo has sessions that bounce, buyers identified at their purchase and repeat
    # buyers: each stored period's figures equal metrics/store_metrics.py's on that period.
    events_demo.load(organisation=demo_organisation)
    demo.load(organisation=demo_organisation)
    checked = 0
    for result in FunnelResult.objects.exclude(kind=FunnelResult.Kind.CUSTOM).select_related(
        "store"
    ):
        alone = store_metrics(
            store=result.store,
            start=result.start,
            end=result.end,
            retention_days=result.retention_days,
            stored=False,
        )
        assert (result.bounced, result.sessions) == (
            alone.bounce_rate.successes,
            alone.bounce_rate.total,
        ), result
        assert (result.returned, result.first_buyers) == (
            alone.retention.successes,
            alone.retention.total,
        ), result
        checked += result.sessions > 0 and result.first_buyers > 0
    assert checked > 20
