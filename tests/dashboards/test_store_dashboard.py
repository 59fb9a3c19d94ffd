"""The store dashboard: exact figures from declared timelines, empty states, roles, queries."""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

import pytest
from django.test import Client

from core.models import Task
from metrics import recompute
from tests.factories import StoreFactory
from tests.metrics.test_funnel_api import STAGES, ingest, journey_for

pytestmark = pytest.mark.django_db


def _page(client: Client, store: Any, **query: Any) -> str:
    answer = client.get(f"/stores/{store.pk}/dashboard/", query)
    assert answer.status_code == 200
    return answer.content.decode()


def _funnel_figure(html: str) -> dict[str, Any]:
    found = re.search(
        r'<script id="funnel-figure" type="application/json">(.*?)</script>', html, re.S
    )
    assert found, "the funnel's figure is embedded as JSON"
    return json.loads(found.group(1))


def test_a_viewer_sees_the_months_funnel_against_the_month_before(
    example_store: Any, client_as: Any
) -> None:
    html = _page(client_as("viewer"), example_store, period="month:2026-01")
    figure = _funnel_figure(html)
    (trace,) = figure["data"]
    assert trace["type"] == "funnel"
    assert trace["x"] == [7, 3, 2, 1, 1]  # January (see tests/metrics/test_rollups.py)
    assert trace["y"] == ["ZMOT · ZMOT", "FMOT · FMOT", "SMOT · SMOT", "TMOT · TMOT", "UMOT · UMOT"]
    # Each bar: its customers and the share of the bar before, as the page writes figures.
    assert trace["texttemplate"] == "%{text}"
    assert trace["text"] == ["7<br>100 %", "3<br>43 %", "2<br>67 %", "1<br>50 %", "1<br>100 %"]
    assert "2026-01-01 to 2026-01-31" in html
    assert "compared with 2025-12-01 to 2025-12-31" in html
    # FMOT: 3 of 7 (42.9 %), against 1 of 1 in December: down 57.1 points, not significant.
    assert "42.9 %" in html
    assert "▼ -57.1 pp" in html
    # No inline script: the figure is data, the drawing is the page's module.
    assert not re.search(r"<script(?![^>]*(src=|application/json))[^>]*>", html)


def test_the_default_is_the_last_30_days_and_a_custom_range_is_computed(
    example_store: Any, client_as: Any
) -> None:
    client = client_as("viewer")
    html = _page(client, example_store)
    assert "2026-02-14 to 2026-03-15" in html
    assert "Period still open" in html
    custom = _page(client, example_store, period="custom", start="2026-01-01", end="2026-03-01")
    assert _funnel_figure(custom)["data"][0]["x"] == [8, 5, 3, 1, 1]  # the worked example
    bad = _page(client, example_store, period="custom", start="2026-03-01", end="2026-01-01")
    assert "The last day is before the first." in bad


def test_the_period_select_shows_the_default_period(example_store: Any, client_as: Any) -> None:
    # Not its first option (the last 7 days), also when the address has other parameters.
    client = client_as("viewer")
    for query in ({}, {"trend": "month"}):
        html = _page(client, example_store, **query)
        select = re.search(r'<select name="period".*?</select>', html, re.S)
        assert select, "the period's select"
        assert re.findall(r'<option value="([^"]*)" selected>', select.group(0)) == ["last_30"]
        assert "2026-02-14 to 2026-03-15" in html


def test_untracked_stages_are_greyed_with_a_link_to_map_them(
    organisation: Any, client_as: Any, now: datetime
) -> None:
    store = StoreFactory(organisation=organisation, time_zone="UTC")
    journey = journey_for(store, [("ZMOT", ["search"]), ("FMOT", ["never_sent"])])
    ingest(store, {"a": [("search", 70)]})
    html = _page(client_as("viewer"), store)
    fmot = journey.stages.get(moment="FMOT")
    assert "Not tracked — map events to it." in html
    assert f"/journeys/{journey.pk}/?stage={fmot.pk}" in html
    assert _funnel_figure(html)["data"][0]["x"] == [1]


def test_empty_states_say_what_to_do_next(organisation: Any, client_as: Any, now: datetime) -> None:
    client = client_as("viewer")
    store = StoreFactory(organisation=organisation, time_zone="UTC")
    assert "This store has no active journey." in _page(client, store)
    journey_for(store, [("ZMOT", [])])
    assert "No stage of the journey lists an event yet." in _page(client, store)
    other = StoreFactory(organisation=organisation, time_zone="UTC")
    journey_for(other, [("ZMOT", ["search"])])
    html = _page(client, other)
    assert "No events yet." in html
    assert f"/stores/{other.pk}/events/" in html
    assert "No survey asks this store" not in html  # shown with figures only


def test_roles_and_other_organisations(
    example_store: Any, client_as: Any, other_organisation: Any
) -> None:
    viewer = client_as("viewer")
    html = _page(viewer, example_store)
    assert "Recompute now" not in html
    recompute_url = f"/stores/{example_store.pk}/dashboard/recompute/"
    assert viewer.post(recompute_url).status_code == 403
    foreign = StoreFactory(organisation=other_organisation)
    assert viewer.get(f"/stores/{foreign.pk}/dashboard/").status_code == 404
    assert viewer.get("/").url == "/dashboard/"  # a viewer's home is the dashboard


def test_recompute_now_queues_a_task_and_the_page_follows_it(
    example_store: Any, client_as: Any, django_capture_on_commit_callbacks: Any
) -> None:
    editor = client_as("editor")
    assert "Recompute now" in _page(editor, example_store)
    with django_capture_on_commit_callbacks(execute=True):
        answer = editor.post(
            f"/stores/{example_store.pk}/dashboard/recompute/",
            {"period": "month:2026-01", "next": "https://evil.example/"},
        )
    task = Task.objects.get(kind="metrics.recompute")
    assert answer.status_code == 302
    assert (
        answer.url == f"/stores/{example_store.pk}/dashboard/?period=month%3A2026-01&task={task.pk}"
    )
    html = _page(editor, example_store, period="month:2026-01", task=task.pk)
    assert f'data-task-url="/api/v1/tasks/{task.pk}/"' in html


def test_the_page_takes_the_same_queries_whatever_the_size(
    example_store: Any,
    client_as: Any,
    organisation: Any,
    django_assert_num_queries: Any,
    django_assert_max_num_queries: Any,
) -> None:
    client = client_as("viewer")
    _page(client, example_store, period="month:2026-01")  # warm the session
    with django_assert_max_num_queries(40) as small:
        _page(client, example_store, period="month:2026-01")
    queries = len(small)
    big = StoreFactory(organisation=organisation, time_zone="UTC")
    journey_for(big, [*STAGES, ("", ["review_read"]), ("", ["comparison_view"])])
    ingest(
        big, {f"c{i}": [("search", 40 + i % 10), ("product_view", 41 + i % 10)] for i in range(60)}
    )
    recompute.results_recompute(store_id=big.pk)
    # February's previous period (the 28 days before it) is no standard period: the first view
    # computes and keeps it; from then on, the same queries as a small store's month.
    _page(client, big, period="month:2026-02")
    with django_assert_num_queries(queries):
        _page(client, big, period="month:2026-02")


def test_the_page_says_when_the_figures_are_being_recomputed(
    example_store: Any, client_as: Any
) -> None:
    from django.core.cache import cache

    from metrics.tasks import soon_key

    client = client_as("viewer")
    assert "Being recomputed" not in _page(client, example_store)
    cache.set(soon_key(example_store.pk), 1)  # a change of the map queued a recompute
    try:
        assert "Being recomputed" in _page(client, example_store)
    finally:
        cache.delete(soon_key(example_store.pk))


def test_each_chart_offers_its_png_download_and_nothing_else(
    example_store: Any, client_as: Any
) -> None:
    config = _funnel_figure(_page(client_as("viewer"), example_store))["config"]
    assert config["modeBarButtons"] == [["toImage"]]  # no "Share chart" to Plotly's cloud
    assert config["toImageButtonOptions"]["filename"] == "funnel"
