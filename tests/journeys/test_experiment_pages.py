"""The store's experiments page: the list with stored results, the form for editors, the
overlap warning, the help that says which test and what it cannot tell."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from accounts.models import Role
from accounts.services import Actor
from journeys import services
from journeys.models import Experiment, Journey, Touchpoint

pytestmark = pytest.mark.django_db


@pytest.fixture
def cart(template_journey: Journey, actor: Actor) -> Touchpoint:
    journey = services.journey_activate(
        journey=template_journey, actor=actor, version=template_journey.version
    )
    return Touchpoint.objects.get(stage__journey=journey, event_names=["add_to_cart"])


def _record(cart: Touchpoint, actor: Actor, title: str, started_on: date) -> Experiment:
    return services.experiment_create(
        touchpoint=cart,
        actor=actor,
        title=title,
        change="A change.",
        started_on=started_on,
        metric="conversion",
    )


def test_an_editor_records_an_experiment_on_the_page(
    client_as: Any, store: Any, cart: Touchpoint
) -> None:
    client = client_as(Role.EDITOR)
    url = f"/stores/{store.pk}/experiments/"
    page = client.get(url)
    assert page.status_code == 200
    assert "Record an experiment" in page.content.decode()
    response = client.post(
        url,
        {
            "touchpoint": cart.pk,
            "title": "Delivery date on the cart",
            "change": "Shown before checkout.",
            "started_on": "2026-02-01",
            "metric": "conversion",
            "window_days": "28",
        },
    )
    assert response.status_code == 302
    experiment = Experiment.objects.get()
    assert (experiment.store_id, experiment.touchpoint_id, experiment.window_days) == (
        store.pk,
        cart.pk,
        28,
    )
    page = client.get(url).content.decode()
    assert "Delivery date on the cart" in page
    # Not computed yet (its task runs after the commit): the section reloads itself until it is.
    assert experiment.result is None
    polling = (
        f'id="experiment-{experiment.pk}" hx-get="{url}" '
        f'hx-select="#experiment-{experiment.pk}" hx-target="this" hx-swap="outerHTML" '
        'hx-trigger="every 5s"'
    )
    assert polling in page
    Experiment.objects.filter(pk=experiment.pk).update(
        result={"metric": "conversion", "verdict": "waiting"}
    )
    page = client.get(url).content.decode()
    assert f'id="experiment-{experiment.pk}">' in page
    assert "hx-trigger" not in page


def test_a_viewer_sees_results_but_no_form(
    client_as: Any, store: Any, cart: Touchpoint, actor: Actor
) -> None:
    experiment = _record(cart, actor, "Delivery date", date(2026, 2, 1))
    Experiment.objects.filter(pk=experiment.pk).update(
        result={
            "metric": "conversion",
            "counted": "customers",
            "complete": False,
            "verdict": "no_change",
            "needed_per_window": 97,
            "more_per_window": 92,
            "before": {
                "start": "2026-01-04",
                "end": "2026-01-31",
                "n": 5,
                "value": 0.4,
                "low": 0.1176,
                "high": 0.7693,
            },
            "after": {
                "start": "2026-02-02",
                "end": "2026-02-10",
                "days": 9,
                "n": 5,
                "value": 0.6,
                "low": 0.2307,
                "high": 0.8824,
            },
            "difference": {
                "value": 0.2,
                "low": -0.3222,
                "high": 0.5993,
                "p_value": 0.5271,
                "significant": False,
            },
        }
    )
    client = client_as(Role.VIEWER)
    url = f"/stores/{store.pk}/experiments/"
    text = client.get(url).content.decode()
    assert "Record an experiment" not in text
    assert "about 92 more customers per window" in text
    assert "The after window is still running" in text
    assert "40.0 %" in text and "11.8 % – 76.9 %" in text
    assert "+20.0 pp" in text and "-32.2 pp – +59.9 pp" in text
    assert "p = 0.527" in text
    assert ">incomplete<" in text
    assert "pooled two-proportion z-test" in text and "Seasonality" in text
    assert client.post(url, {"title": "x"}).status_code == 403
    delete = client.post(f"/experiments/{experiment.pk}/delete/")
    assert delete.status_code == 403
    assert Experiment.objects.count() == 1


def test_overlapping_changes_on_the_stage_are_warned_about(
    client_as: Any, store: Any, cart: Touchpoint, actor: Actor
) -> None:
    _record(cart, actor, "Delivery date", date(2026, 2, 1))
    _record(cart, actor, "Free returns", date(2026, 2, 10))
    text = client_as(Role.VIEWER).get(f"/stores/{store.pk}/experiments/").content.decode()
    assert text.count("Other changes went live on this stage inside these windows") == 2


def test_the_page_reads_a_fixed_number_of_queries(
    client_as: Any,
    store: Any,
    cart: Touchpoint,
    actor: Actor,
    django_assert_max_num_queries: Any,
) -> None:
    for day in range(1, 11):
        _record(cart, actor, f"Change {day}", date(2026, 2, day))
    client = client_as(Role.VIEWER)
    with django_assert_max_num_queries(12):
        assert client.get(f"/stores/{store.pk}/experiments/").status_code == 200


def test_an_editor_corrects_an_experiment_on_its_page(
    client_as: Any, store: Any, cart: Touchpoint, actor: Actor
) -> None:
    from journeys.models import JourneyChange

    experiment = _record(cart, actor, "Delivery date", date(2026, 2, 1))
    version = cart.stage.journey.version
    url = f"/experiments/{experiment.pk}/edit/"
    assert client_as(Role.VIEWER).get(url).status_code == 403
    editor = client_as(Role.EDITOR)
    assert 'value="Delivery date"' in editor.get(url).content.decode()
    wrong = editor.post(
        url,
        {
            "title": "x",
            "change": "y",
            "started_on": "2026-02-10",
            "ended_on": "2026-02-01",
            "metric": "conversion",
            "window_days": "14",
        },
    )
    assert wrong.status_code == 200  # the end before the start is refused, nothing saved
    experiment.refresh_from_db()
    assert (experiment.title, experiment.window_days) == ("Delivery date", 28)
    answer = editor.post(
        url,
        {
            "title": "Delivery date on the cart",
            "change": "Shown before checkout.",
            "started_on": "2026-02-03",
            "ended_on": "",
            "metric": "csat",
            "window_days": "14",
        },
    )
    assert answer.status_code == 302
    assert answer.url == f"/stores/{store.pk}/experiments/#experiment-{experiment.pk}"
    experiment.refresh_from_db()
    assert (experiment.title, experiment.started_on, experiment.metric, experiment.window_days) == (
        "Delivery date on the cart",
        date(2026, 2, 3),
        "csat",
        14,
    )
    change = JourneyChange.objects.filter(action="experiment.updated").get()
    assert change.version == version  # the map's version is not bumped
    assert Journey.objects.get(pk=cart.stage.journey_id).version == version


def test_a_strong_result_reads_on_a_phone_in_store_time_and_deletes_after_a_question(
    client_as: Any, store: Any, cart: Touchpoint, actor: Actor
) -> None:
    """The demo's landing-page result: p far below 0.001 (not "p = 0.000"), computed at
    12:00 UTC, 14:00 in Vilnius (the dashboard's "store time"), each figure after its
    column's name when the table is stacked on a phone, and a question before deleting."""
    from datetime import UTC, datetime

    experiment = _record(cart, actor, "Lighter landing page", date(2026, 3, 5))
    Experiment.objects.filter(pk=experiment.pk).update(
        metric="bounce_rate",
        result_computed_at=datetime(2026, 3, 15, 12, 0, tzinfo=UTC),
        result={
            "metric": "bounce_rate",
            "counted": "sessions",
            "complete": False,
            "verdict": "improved",
            "higher_is_better": False,
            "before": {
                "start": "2026-02-05",
                "end": "2026-03-04",
                "n": 8006,
                "successes": 2702,
                "value": 0.3375,
                "low": 0.3272,
                "high": 0.3479,
            },
            "after": {
                "start": "2026-03-06",
                "end": "2026-03-15",
                "days": 10,
                "n": 2939,
                "successes": 815,
                "value": 0.2773,
                "low": 0.2614,
                "high": 0.2938,
            },
            "difference": {
                "value": -0.0602,
                "low": -0.0792,
                "high": -0.0408,
                "p_value": 2.283e-09,
                "significant": True,
            },
        },
    )
    text = client_as(Role.EDITOR).get(f"/stores/{store.pk}/experiments/").content.decode()
    assert "Improved. The after window is still running: this may change." in text
    assert "<td>p &lt; 0.001</td>" in text and "p = 0.000" not in text
    assert '<td data-label="Value">-6.0 pp</td>' in text
    assert '<td data-label="95 % interval">-7.9 pp – -4.1 pp</td>' in text
    assert '<td data-label="Days">2026-02-05 – 2026-03-04</td>' in text
    assert '<td data-label="Counted">8,006</td>' in text
    assert '<td data-label="Counted">2,939</td>' in text
    assert '<table class="stack-on-phone experiment-result">' in text
    assert "Computed 2026-03-15 14:00 (store time)." in text
    assert 'data-confirm="Delete the experiment “Lighter landing page” and its result?"' in text


def test_p_values_read_as_written_beside_a_difference() -> None:
    from journeys.verdicts import p_text

    assert [p_text(p) for p in (None, 2.283e-09, 0.000999, 0.001, 0.17512, 0.5271)] == [
        "—",
        "p < 0.001",
        "p < 0.001",
        "p = 0.001",
        "p = 0.175",
        "p = 0.527",
    ]
