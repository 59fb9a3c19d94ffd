"""Stored results: the standard periods a recompute writes, what the funnel API serves from
them, the customers behind each figure, and what queues a recompute."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from typing import Any

import pytest
from django.db import connection
from rest_framework.test import APIClient

from core.models import Task
from events.models import RecomputeMark
from journeys import services as journey_services
from metrics import recompute, rollups, tasks
from metrics.models import FunnelResult
from tests.factories import StoreFactory
from tests.metrics.test_funnel_api import EXAMPLE, STAGES, funnel, ingest, journey_for

pytestmark = pytest.mark.django_db
K = FunnelResult.Kind


@pytest.fixture
def example_store(organisation: Any, now: datetime) -> Any:
    store = StoreFactory(organisation=organisation, name="UTC shop", time_zone="UTC")
    store.event_retention_months = None
    store.save()
    journey_for(store, STAGES)
    ingest(store, EXAMPLE)  # from 2026-01-01 (day 0); the frozen today is 2026-03-15
    return store


def test_the_standard_periods_of_a_day() -> None:
    families = rollups.standard_families(date(2026, 3, 15))  # a Sunday
    rolling = [(f[0].kind, f[0].start, f[0].end) for f in families[:6]]
    assert rolling == [
        (K.LAST_7, date(2026, 3, 9), date(2026, 3, 15)),
        (K.PREVIOUS_7, date(2026, 3, 2), date(2026, 3, 8)),
        (K.LAST_30, date(2026, 2, 14), date(2026, 3, 15)),
        (K.PREVIOUS_30, date(2026, 1, 15), date(2026, 2, 13)),
        (K.LAST_90, date(2025, 12, 16), date(2026, 3, 15)),
        (K.PREVIOUS_90, date(2025, 9, 17), date(2025, 12, 15)),
    ]
    weeks, months = families[6], families[7]
    assert len(weeks) == 53
    assert (weeks[0].start, weeks[0].end) == (date(2025, 3, 10), date(2025, 3, 16))
    assert (weeks[-1].start, weeks[-1].end) == (date(2026, 3, 9), date(2026, 3, 15))
    assert all(w.start.isoweekday() == 1 for w in weeks)
    assert [(m.start, m.end) for m in (months[0], months[1], months[-1])] == [
        (date(2025, 4, 1), date(2025, 4, 30)),
        (date(2025, 5, 1), date(2025, 5, 31)),
        (date(2026, 3, 1), date(2026, 3, 31)),
    ]
    assert len(months) == 12


def test_a_recompute_stores_every_standard_period_and_the_api_serves_them(
    example_store: Any, api_as: Any, django_assert_max_num_queries: Any
) -> None:
    report = recompute.results_recompute(store_id=example_store.pk)
    assert report["results"] == 6 + 53 + 12
    # The batch marked its 13 days (-3, 0, 1, 2, 3, 9, 15, 31, 40, 41, 42, 59, 61): consumed.
    assert report["marks"] == 13
    assert not RecomputeMark.objects.filter(store=example_store).exists()
    january = FunnelResult.objects.get(store=example_store, kind=K.MONTH, start=date(2026, 1, 1))
    # January (days 0 to 30): c1 → 5, c2 → 3, c7 → 2, c4, c5, c6, c8 → 1; c9 and c10 enter
    # outside it. Reached: FMOT by c1, c2, c3, c6, c7, c10; SMOT by c1, c2, c4, c6.
    assert [s["funnel"] for s in january.stages] == [7, 3, 2, 1, 1]
    assert [s["reached"] for s in january.stages] == [7, 6, 4, 1, 1]
    assert january.names == {
        "search": 7,
        "product_view": 6,
        "add_to_cart": 1,
        "purchase": 3,
        "delivered": 1,
        "review_posted": 1,
    }
    assert january.events_counted == 19
    assert january.complete is True
    february = FunnelResult.objects.get(store=example_store, kind=K.MONTH, start=date(2026, 2, 1))
    assert [s["funnel"] for s in february.stages] == [1, 1, 1, 0, 0]  # c8 from day 40
    assert [s["reached"] for s in february.stages] == [1, 2, 1, 0, 0]
    # The API reads it: the same computed_at, no computation in the request.
    client = api_as("viewer")
    with django_assert_max_num_queries(25):
        body = funnel(client, example_store, start="2026-01-01", end="2026-01-31")
    assert body["computed_at"] == january.computed_at.isoformat()
    assert [s["funnel"] for s in body["stages"]] == [7, 3, 2, 1, 1]
    assert FunnelResult.objects.filter(kind=K.CUSTOM).count() == 0
    # A histogram per converting stage: FMOT's 3 converters took 0, 3456 and 172800 s.
    fmot = january.stages[1]
    assert fmot["histogram"]["edges"][:3] == [0, 60, 300]
    assert fmot["histogram"]["edges"][-1] == 30 * 86400 + 1
    counts = dict(zip(fmot["histogram"]["edges"], fmot["histogram"]["counts"], strict=False))
    assert (counts[0], counts[1800], counts[2 * 86400], sum(counts.values())) == (1, 1, 1, 3)
    assert fmot["median_seconds_to_convert"] == 3456


NOW_ = datetime.fromisoformat("2026-03-15T12:00:00+00:00")


def test_every_stored_period_equals_the_same_range_computed_alone(
    example_store: Any, api_as: Any
) -> None:
    recompute.results_recompute(store_id=example_store.pk)
    stored = {
        (r.start, r.end): (r.stages, r.names, r.events_counted, r.complete, bytes(r.entered))
        for r in FunnelResult.objects.filter(store=example_store)
    }
    for (start, end), figures in stored.items():
        FunnelResult.objects.filter(store=example_store, start=start, end=end).delete()
        alone = recompute.custom_compute(store=example_store, start=start, end=end, window_days=30)
        assert (
            alone.stages,
            alone.names,
            alone.events_counted,
            alone.complete,
            bytes(alone.entered),
        ) == figures, (start, end)


def test_a_recompute_twice_gives_the_same_rows_and_swaps_them_whole(example_store: Any) -> None:
    recompute.results_recompute(store_id=example_store.pk)
    first = list(
        FunnelResult.objects.filter(store=example_store)
        .order_by("start", "end", "kind")  # a range may be two kinds
        .values_list("kind", "start", "end", "stages", "names", "events_counted")
    )
    recompute.results_recompute(store_id=example_store.pk)
    again = FunnelResult.objects.filter(store=example_store).order_by("start", "end", "kind")
    assert (
        list(again.values_list("kind", "start", "end", "stages", "names", "events_counted"))
        == first
    )
    assert len({r.computed_at for r in again}) == 1  # one recompute's rows, never a mix


def test_a_failing_recompute_leaves_the_previous_results(
    example_store: Any, monkeypatch: Any
) -> None:
    recompute.results_recompute(store_id=example_store.pk)
    before = set(FunnelResult.objects.values_list("id", flat=True))

    def broken(**kwargs: Any) -> Any:
        raise RuntimeError("the worker died")

    monkeypatch.setattr(recompute, "families_compute", broken)
    with pytest.raises(RuntimeError):
        recompute.results_recompute(store_id=example_store.pk, full=True)
    assert set(FunnelResult.objects.values_list("id", flat=True)) == before


def test_another_range_is_computed_on_request_and_kept(example_store: Any, api_as: Any) -> None:
    client = api_as("viewer")
    body = funnel(client, example_store, start="2026-01-01", end="2026-03-01")
    assert [s["funnel"] for s in body["stages"]] == [8, 5, 3, 1, 1]
    kept = FunnelResult.objects.get(store=example_store, kind=K.CUSTOM)
    again = funnel(client, example_store, start="2026-01-01", end="2026-03-01")
    assert again["computed_at"] == body["computed_at"] == kept.computed_at.isoformat()
    # Another window is another result.
    week = funnel(client, example_store, start="2026-01-01", end="2026-03-01", window_days=7)
    assert week["window_days"] == 7
    assert [s["funnel"] for s in week["stages"]] == [8, 5, 3, 0, 0]  # delivered on day 9
    assert FunnelResult.objects.filter(store=example_store, kind=K.CUSTOM).count() == 2


def test_a_large_store_gets_a_task_for_another_range(
    example_store: Any, api_as: Any, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.METRICS_SYNC_EVENTS = 10  # the example has 25 events
    client = api_as("editor")
    url = f"/api/v1/stores/{example_store.pk}/funnel/"
    query = {"start": "2026-01-01", "end": "2026-03-01"}
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.get(url, query)
    assert answer.status_code == 202
    task_url = answer.json()["task_url"]
    assert answer["Location"] == task_url
    task = client.get(task_url).json()
    assert task["state"] == "done"  # eager in tests: the task ran on commit
    assert task["result"]["start"] == "2026-01-01"
    body = funnel(client, example_store, **query)
    assert [s["funnel"] for s in body["stages"]] == [8, 5, 3, 1, 1]


def _customers(client: APIClient, store: Any, **query: Any) -> list[dict[str, Any]]:
    url = f"/api/v1/stores/{store.pk}/funnel/customers/"
    rows: list[dict[str, Any]] = []
    answer = client.get(url, {**query, "page_size": 2})
    assert answer.status_code == 200, answer.content
    page = answer.json()
    count = page["count"]
    rows += page["results"]
    pages = [page]
    while page["next"]:
        page = client.get(page["next"]).json()
        pages.append(page)
        rows += page["results"]
    assert len(rows) == count
    # Back again with `previous`, page by page, to the first page.
    back = pages[-1]
    for expected in reversed(pages[:-1]):
        back = client.get(back["previous"]).json()
        assert back["results"] == expected["results"]
    assert back["previous"] is None
    return rows


def test_the_customers_behind_each_figure_count_as_the_figure(
    example_store: Any, api_as: Any
) -> None:
    client = api_as("editor")
    period = {"start": "2026-01-01", "end": "2026-03-01"}
    body = funnel(client, example_store, **period)
    stages = body["stages"]
    for k, stage in enumerate(stages):
        converted = _customers(
            client, example_store, **period, stage=stage["id"], outcome="converted"
        )
        assert len(converted) == stage["funnel"]
        if k:
            dropped = _customers(
                client, example_store, **period, stage=stage["id"], outcome="dropped"
            )
            assert len(dropped) == stages[k - 1]["funnel"] - stage["funnel"]
    smot = _customers(client, example_store, **period, stage=stages[2]["id"], outcome="converted")
    assert [(r["customer"], r["level"]) for r in smot] == [("c1", 5), ("c2", 3), ("c8", 3)]
    assert smot[0]["entered_at"] == "2026-01-01T00:00:00+00:00"
    assert smot[0]["last_step_at"] == "2026-01-16T00:00:00+00:00"  # review_posted, day 15
    dropped_fmot = _customers(
        client, example_store, **period, stage=stages[1]["id"], outcome="dropped"
    )
    assert sorted(r["customer"] for r in dropped_fmot) == ["c4", "c5", "c6"]


def test_the_customers_list_refuses_what_it_cannot_answer(
    example_store: Any, api_as: Any, other_organisation: Any
) -> None:
    client = api_as("editor")
    url = f"/api/v1/stores/{example_store.pk}/funnel/customers/"
    body = funnel(client, example_store)
    first = body["stages"][0]["id"]
    answer = client.get(url, {"stage": first, "outcome": "dropped"})
    assert answer.status_code == 400
    assert "first stage" in answer.json()["error"]["message"]
    assert client.get(url, {"stage": 999999, "outcome": "converted"}).status_code == 400
    assert client.get(url, {"stage": first, "outcome": "left"}).status_code == 400
    assert (
        client.get(url, {"stage": first, "outcome": "converted", "cursor": "x!"}).status_code == 400
    )
    # Customer keys are personal data: viewers see counts only.
    assert api_as("viewer").get(url, {"stage": first, "outcome": "converted"}).status_code == 403
    export = f"/api/v1/stores/{example_store.pk}/funnel/customers/export/"
    assert api_as("viewer").get(export, {"stage": first, "outcome": "converted"}).status_code == 403
    foreign = StoreFactory(organisation=other_organisation, name="Foreign")
    foreign_url = f"/api/v1/stores/{foreign.pk}/funnel/customers/"
    assert client.get(foreign_url, {"stage": first, "outcome": "converted"}).status_code == 404


def test_the_customers_export_is_the_list_as_csv_with_safe_cells(
    example_store: Any, api_as: Any
) -> None:
    ingest(example_store, {"=HYPERLINK(1)": [("search", 2), ("product_view", 3)]})
    client = api_as("editor")
    period = {"start": "2026-01-01", "end": "2026-03-01"}
    fmot = funnel(client, example_store, **period)["stages"][1]
    answer = client.get(
        f"/api/v1/stores/{example_store.pk}/funnel/customers/export/",
        {**period, "stage": fmot["id"], "outcome": "converted"},
    )
    assert answer.status_code == 200
    assert "attachment" in answer["Content-Disposition"]
    assert "2026-01-01-2026-03-01" in answer["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(b"".join(answer.streaming_content).decode())))
    assert rows[0] == ["customer", "entered_at", "level", "last_step_at"]
    assert len(rows) - 1 == fmot["funnel"] == 6
    assert ["'=HYPERLINK(1)", "2026-01-03T00:00:00+00:00", "2", "2026-01-04T00:00:00+00:00"] in rows


def test_recompute_now_is_for_editors_and_reports_its_task(
    example_store: Any,
    api_as: Any,
    other_organisation: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    url = f"/api/v1/stores/{example_store.pk}/recompute/"
    assert api_as("viewer").post(url).status_code == 403
    client = api_as("editor")
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(url)
    assert answer.status_code == 202
    assert answer["Location"] == answer.json()["task_url"]
    task = Task.objects.get(pk=answer.json()["task"])
    assert (task.state, task.kind, task.store_id) == ("done", "metrics.recompute", example_store.pk)
    assert (task.done, task.total) == (16, 16)
    assert task.result["results"] == 71
    assert FunnelResult.objects.filter(store=example_store).count() == 71
    foreign = StoreFactory(organisation=other_organisation, name="Foreign")
    assert client.post(f"/api/v1/stores/{foreign.pk}/recompute/").status_code == 404


def test_new_events_queue_one_debounced_recompute(
    example_store: Any, django_capture_on_commit_callbacks: Any, monkeypatch: Any
) -> None:
    queued: list[dict[str, Any]] = []
    monkeypatch.setattr(
        tasks.store_recompute, "apply_async", lambda **kwargs: queued.append(kwargs)
    )
    for day in (70, 71):
        with django_capture_on_commit_callbacks(execute=True):
            ingest(example_store, {"late": [("search", day)]})
    # Two batches of a burst: one recompute, after the debounce.
    assert queued == [{"kwargs": {"store_id": example_store.pk}, "countdown": 2.0}]


def test_the_recompute_follows_the_events_in_eager_mode(
    example_store: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        ingest(example_store, {"fresh": [("search", 70), ("product_view", 70.5)]})  # 2026-03-12
    last_7 = FunnelResult.objects.get(store=example_store, kind=K.LAST_7)
    assert [s["funnel"] for s in last_7.stages] == [1, 1, 0, 0, 0]
    assert not RecomputeMark.objects.filter(store=example_store).exists()


def test_a_mapping_edit_queues_a_recompute_and_the_api_never_serves_the_old_mapping(
    example_store: Any, api_as: Any, django_capture_on_commit_callbacks: Any, monkeypatch: Any
) -> None:
    recompute.results_recompute(store_id=example_store.pk)
    queued: list[int] = []
    monkeypatch.setattr("metrics.tasks.recompute_soon", queued.append)
    journey = example_store.journeys.get()
    smot = journey.stages.get(moment="SMOT")
    touchpoint = smot.touchpoints.get()
    with django_capture_on_commit_callbacks(execute=True):
        journey_services.touchpoint_update(
            touchpoint=touchpoint,
            actor=_actor(journey),
            version=journey.version,
            event_names=["purchase"],  # add_to_cart no longer counts
        )
    assert queued == [example_store.pk]
    body = funnel(api_as("viewer"), example_store, start="2026-01-01", end="2026-01-31")
    # c2 reached SMOT by add_to_cart only: now it stops at FMOT.
    assert [s["funnel"] for s in body["stages"]] == [7, 3, 1, 1, 1]


def _actor(journey: Any) -> Any:
    from accounts.services import Actor

    return Actor(user=None, api_key=None, ip_address=None)


def test_the_sweep_queues_stores_whose_marks_waited(example_store: Any, monkeypatch: Any) -> None:
    queued: list[int] = []
    monkeypatch.setattr("metrics.tasks.recompute_soon", queued.append)
    RecomputeMark.objects.create(
        store=example_store,
        day=date(2026, 3, 15),
        marked_at=datetime.fromisoformat("2026-03-15T11:59:00+00:00"),
    )
    other = StoreFactory(organisation=example_store.organisation, name="Fresh marks")
    RecomputeMark.objects.create(store=other, day=date(2026, 3, 15), marked_at=NOW_)
    assert tasks.marked_stores_recompute() == [example_store.pk]
    assert queued == [example_store.pk]


def test_a_store_without_an_active_journey_keeps_no_results(example_store: Any) -> None:
    recompute.results_recompute(store_id=example_store.pk)
    example_store.journeys.update(status="draft")
    assert recompute.results_recompute(store_id=example_store.pk)["journey"] is None
    assert not FunnelResult.objects.filter(store=example_store).exists()
    with connection.cursor() as cursor:  # the metrics lock was let go
        cursor.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = %s"
            # This database's: another on the same server may be recomputing a store of its own.
            " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
            [recompute._LOCK_NAMESPACE],
        )
        assert cursor.fetchone()[0] == 0


def test_a_new_window_setting_queues_a_recompute_that_uses_it(
    example_store: Any, django_capture_on_commit_callbacks: Any, api_as: Any
) -> None:
    from accounts.services import store_update

    recompute.results_recompute(store_id=example_store.pk)
    with django_capture_on_commit_callbacks(execute=True):  # eager: the recompute runs
        store_update(store=example_store, actor=_actor(None), funnel_window_days=7)
    windows = set(
        FunnelResult.objects.filter(store=example_store).values_list("window_days", flat=True)
    )
    assert windows == {7}
    january = FunnelResult.objects.get(store=example_store, kind=K.MONTH, start=date(2026, 1, 1))
    # Within 7 days of entry: c1 reaches SMOT on day 1 and delivered on day 9 is too late.
    assert [s["funnel"] for s in january.stages] == [7, 3, 2, 0, 0]
    body = funnel(api_as("viewer"), example_store, start="2026-01-01", end="2026-01-31")
    assert (body["window_days"], body["computed_at"]) == (7, january.computed_at.isoformat())


def test_compare_previous_adds_the_period_before_and_tests_each_change(
    example_store: Any, api_as: Any
) -> None:
    from tests.surveys.test_results import Customer, given, make_survey

    survey = make_survey(example_store, questions=["rating"], moment="SMOT", name="Checkout")
    january, december = datetime(2026, 1, 10, tzinfo=UTC), datetime(2025, 12, 10, tzinfo=UTC)
    given(
        survey,
        [
            Customer(f"j{i}@example.com", answers={"rating": score}, answered_at=january)
            for i, score in enumerate([5, 5, 4, 4, 5, 4])
        ]
        + [
            Customer(f"d{i}@example.com", answers={"rating": score}, answered_at=december)
            for i, score in enumerate([1, 2, 2, 1, 2, 1])
        ],
    )
    body = funnel(
        api_as("viewer"), example_store, start="2026-01-01", end="2026-01-31", compare="previous"
    )
    assert (body["previous"]["start"], body["previous"]["end"]) == ("2025-12-01", "2025-12-31")
    zmot, fmot, smot, tmot, _umot = body["stages"]
    # December: only c10 enters (search on day -3) and reaches FMOT on day 1, inside its window.
    assert [s["previous"]["funnel"] for s in body["stages"]] == [1, 1, 0, 0, 0]
    assert [s["previous"]["reached"] for s in body["stages"]] == [1, 0, 0, 0, 0]
    # Counts and times: their difference, no test.
    assert zmot["changes"]["funnel"] == {"change": 6, "p_value": None, "significant": False}
    assert zmot["changes"]["conversion"] is None  # the first stage has no conversion
    # FMOT 3/7 against 1/1: pooled 4/8, z = (3/7 − 1) / √(0.25 · (1/7 + 1)) = −1.0690,
    # p = erfc(1.0690 / √2) = 0.28505.
    assert fmot["changes"]["conversion"] == {
        "change": -0.5714,
        "p_value": 0.285,
        "significant": False,
    }
    # SMOT 2/3 against 0/1: pooled 2/4, z = (2/3) / √(0.25 · (1/3 + 1)) = 1.1547, p = 0.24821.
    assert smot["changes"]["conversion"] == {
        "change": 0.6667,
        "p_value": 0.2482,
        "significant": False,
    }
    assert tmot["changes"]["conversion"] is None  # December has no SMOT to convert from
    # CSAT at SMOT: 6 of 6 satisfied against 0 of 6: pooled 1/2, z = 1 / √(0.25 · (1/6 + 1/6))
    # = 3.4641, p = 0.000532; means 4.5 and 1.5, each sd 0.5477 (n 6): Welch's t = 3 / √0.1 =
    # 9.487 on 10 degrees of freedom, p < 0.0001.
    assert smot["csat"]["share"]["successes"] == 6
    assert smot["previous"]["csat"]["share"]["successes"] == 0
    assert smot["changes"]["csat"]["share"] == {
        "change": 1.0,
        "p_value": 0.0005,
        "significant": True,
    }
    assert smot["changes"]["csat"]["mean"]["change"] == 3.0
    assert smot["changes"]["csat"]["mean"]["significant"] is True
    # No NPS question: nothing to compare, and nothing called significant.
    assert smot["changes"]["nps"] == {
        "score": {"change": None, "p_value": None, "significant": False}
    }
    assert fmot["changes"]["csat"] is None  # no survey at FMOT
    client = api_as("viewer")
    url = f"/api/v1/stores/{example_store.pk}/funnel/"
    assert client.get(url, {"compare": "next"}).status_code == 400


def test_an_erased_customer_leaves_the_stored_figures_at_the_recompute_it_queues(
    example_store: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from events.models import Customer
    from events.purges import customers_erase

    recompute.results_recompute(store_id=example_store.pk)
    c1 = Customer.objects.get(store=example_store, key="c1")
    with django_capture_on_commit_callbacks(execute=True):  # eager: the recompute runs
        customers_erase(store_id=example_store.pk, customer_ids=[c1.pk])
    january = FunnelResult.objects.get(store=example_store, kind=K.MONTH, start=date(2026, 1, 1))
    assert [s["funnel"] for s in january.stages] == [6, 2, 1, 0, 0]
    assert c1.pk not in rollups.Entered.unpack(bytes(january.entered)).customers
