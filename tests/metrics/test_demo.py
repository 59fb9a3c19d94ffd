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


def test_the_demo_has_a_finished_experiment_with_an_effect_and_one_running(
    demo_organisation: Any,  # noqa: F811
) -> None:
    from journeys.models import Experiment

    events_demo.load(organisation=demo_organisation)
    loaded = demo.load(organisation=demo_organisation)
    finished_report, running_report = loaded["Baltic Goods LT"]["experiments"]
    assert finished_report == {"title": "Delivery date on product pages", "verdict": "improved"}
    # Ten days in, at the tests' small demo traffic: the drop may not be detectable yet.
    assert running_report["title"] == "Lighter landing page"
    assert running_report["verdict"] in {"improved", "no_change"}
    finished = Experiment.objects.get(title="Delivery date on product pages")
    running = Experiment.objects.get(title="Lighter landing page")
    assert finished.result is not None and running.result is not None
    assert finished.result["complete"] is True
    assert finished.result["after"]["value"] > finished.result["before"]["value"]
    assert running.result["complete"] is False
    assert running.result["after"]["days"] == 10
    assert running.result["after"]["value"] < running.result["before"]["value"]
