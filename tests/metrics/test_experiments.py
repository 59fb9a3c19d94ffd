"""Experiments' results on declared timelines, with the clock frozen: the metric in the two
windows around the go-live day, the difference with its interval, the verdict by the one
significance rule, and the customers each window needs when nothing is detected yet.

Expected figures by hand: Wilson intervals of each share, Newcombe's hybrid score interval of
the difference (after − before), the pooled z-test's p-value, and Fleiss's sample size at 80 %
power and 5 % two-sided (core/stats.py's own tests hold these formulas to published values).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from accounts.models import Role
from accounts.services import Actor
from events.ingest import EventIn
from events.models import EventSource
from events.services import events_ingest
from journeys import selectors as journey_selectors
from journeys import services as journey_services
from journeys.models import Experiment, Journey, Touchpoint
from journeys.verdicts import verdict_text
from metrics import experiments
from metrics.experiments import experiment_windows
from tests.metrics.conftest import Timelines, ingest_timelines, journey_for

pytestmark = pytest.mark.django_db

GO_LIVE = date(2026, 2, 1)
BEFORE_DAY = datetime(2026, 1, 28, 10, 0, tzinfo=UTC)  # inside the before window
LIVE_DAY = datetime(2026, 2, 1, 10, 0, tzinfo=UTC)  # the go-live day: in neither window
AFTER_DAY = datetime(2026, 2, 3, 10, 0, tzinfo=UTC)  # inside the after window
LATER = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)  # both windows over and settled
STAGES = [("ZMOT", ["search"]), ("FMOT", ["product_view"]), ("SMOT", ["add_to_cart"])]


def visitors(prefix: str, when: datetime, *, total: int, to_cart: int) -> Timelines:
    """`total` customers who search and view a product; `to_cart` of them add to the cart."""
    timelines: Timelines = {}
    for i in range(total):
        events = [("search", when), ("product_view", when + timedelta(minutes=5))]
        if i < to_cart:
            events.append(("add_to_cart", when + timedelta(minutes=10)))
        timelines[f"{prefix}{i}"] = events
    return timelines


@pytest.fixture
def shop(utc_store: Any) -> Any:
    # A one-day conversion window: an after window's conversions settle a day after it ends.
    utc_store.funnel_window_days = 1
    utc_store.save()
    return utc_store


@pytest.fixture
def journey(shop: Any) -> Journey:
    return journey_for(shop, STAGES)


def _record(journey: Journey, actor: Actor, moment: str = "SMOT", **fields: Any) -> Experiment:
    touchpoint = Touchpoint.objects.get(stage__journey=journey, stage__moment=moment)
    return journey_services.experiment_create(
        touchpoint=touchpoint,
        actor=actor,
        **{
            "title": "Delivery date on the cart",
            "change": "The cart shows the delivery date.",
            "started_on": GO_LIVE,
            "metric": "conversion",
            "window_days": 7,
            **fields,
        },
    )


def _rounded(part: dict[str, Any] | None, *keys: str) -> tuple[Any, ...]:
    assert part is not None
    return tuple(round(part[k], 4) if isinstance(part[k], float) else part[k] for k in keys)


def _computed(experiment: Experiment) -> dict[str, Any]:
    result = experiments.experiment_compute(experiment_id=experiment.pk)
    experiment.refresh_from_db()
    assert experiment.result == result
    assert result is not None
    return result


def test_the_windows_are_equal_and_skip_the_go_live_day() -> None:
    windows = experiment_windows(started_on=GO_LIVE, window_days=28, today=date(2026, 6, 1))
    assert windows.before == (date(2026, 1, 4), date(2026, 1, 31))
    assert windows.after == (date(2026, 2, 2), date(2026, 3, 1))
    assert (windows.after_days, windows.complete) == (28, True)
    # Never into the future; incomplete until the window's last day (plus settling) is over.
    running = experiment_windows(started_on=GO_LIVE, window_days=28, today=date(2026, 2, 10))
    assert (running.after, running.after_days, running.complete) == (
        (date(2026, 2, 2), date(2026, 2, 10)),
        9,
        False,
    )
    last_day = experiment_windows(started_on=GO_LIVE, window_days=28, today=date(2026, 3, 1))
    assert last_day.complete is False
    settling = experiment_windows(
        started_on=GO_LIVE, window_days=28, today=date(2026, 3, 2), settle_days=30
    )
    assert settling.complete is False


def test_an_improved_conversion(
    shop: Any, journey: Journey, actor: Actor, clock_at: Callable[[datetime], None]
) -> None:
    clock_at(LATER)
    ingest_timelines(
        shop,
        {
            **visitors("b", BEFORE_DAY, total=20, to_cart=4),
            # The go-live day counts in neither window (it would pull the after share down).
            **visitors("l", LIVE_DAY, total=10, to_cart=0),
            **visitors("a", AFTER_DAY, total=20, to_cart=14),
        },
    )
    result = _computed(_record(journey, actor))
    assert _rounded(result["before"], "start", "end", "successes", "n", "value", "low", "high") == (
        "2026-01-25",
        "2026-01-31",
        4,
        20,
        0.2,
        0.0807,
        0.416,
    )
    assert _rounded(result["after"], "start", "end", "successes", "n", "value", "low", "high") == (
        "2026-02-02",
        "2026-02-08",
        14,
        20,
        0.7,
        0.481,
        0.8545,
    )
    assert _rounded(result["difference"], "value", "low", "high", "p_value", "significant") == (
        0.5,
        0.1924,
        0.6952,
        0.0015,
        True,
    )
    assert (result["verdict"], result["complete"], result["needed_per_window"]) == (
        "improved",
        True,
        None,
    )
    experiment = Experiment.objects.get()
    assert verdict_text(experiment) == "Improved."


def test_a_worse_bounce_rate(
    shop: Any, journey: Journey, actor: Actor, clock_at: Callable[[datetime], None]
) -> None:
    """Lower is better for the bounce rate: a rise is "worse"."""
    clock_at(LATER)
    items = []
    for day, bounced in ((BEFORE_DAY, 2), (AFTER_DAY, 8)):
        for i in range(10):
            key = f"{day:%d}-{i}"
            names = ["product_view"] if i < bounced else ["product_view", "add_to_cart"]
            for j, name in enumerate(names):
                when = day + timedelta(minutes=j)
                items.append(
                    EventIn(len(items), f"{key}:{name}", name, key, False, when, f"s-{key}")
                )
    assert events_ingest(store=shop, items=items, source=EventSource.CSV).accepted == len(items)
    result = _computed(_record(journey, actor, moment="FMOT", metric="bounce_rate"))
    assert _rounded(result["before"], "successes", "n", "low", "high") == (2, 10, 0.0567, 0.5098)
    assert _rounded(result["after"], "successes", "n", "low", "high") == (8, 10, 0.4902, 0.9433)
    assert _rounded(result["difference"], "value", "low", "high", "p_value") == (
        0.6,
        0.1618,
        0.8027,
        0.0073,
    )
    assert (result["verdict"], result["higher_is_better"]) == ("worse", False)


def test_not_enough_data_says_how_many_more_customers_each_window_needs(
    shop: Any, journey: Journey, actor: Actor, clock_at: Callable[[datetime], None]
) -> None:
    clock_at(LATER)
    ingest_timelines(
        shop,
        {
            **visitors("b", BEFORE_DAY, total=5, to_cart=2),
            **visitors("a", AFTER_DAY, total=5, to_cart=3),
        },
    )
    experiment = _record(journey, actor)
    result = _computed(experiment)
    assert _rounded(result["difference"], "value", "low", "high", "p_value", "significant") == (
        0.2,
        -0.3222,
        0.5993,
        0.5271,
        False,
    )
    # Fleiss at 0.4 against 0.6: (1.95996 √0.5 + 0.84162 √0.48)² / 0.2² = 96.92, so 97 a
    # window, 92 more than the 5 each window has.
    assert (result["verdict"], result["needed_per_window"], result["more_per_window"]) == (
        "no_change",
        97,
        92,
    )
    # Both windows have passed: nothing more will come, so no "yet".
    assert result["complete"] is True
    assert verdict_text(experiment) == (
        "No detectable change — about 92 more customers per window would have been needed to "
        "see a change of this size."
    )


def test_an_after_window_still_running_is_incomplete(
    shop: Any, journey: Journey, actor: Actor, clock_at: Callable[[datetime], None]
) -> None:
    clock_at(datetime(2026, 2, 5, 12, 0, tzinfo=UTC))
    ingest_timelines(
        shop,
        {
            **visitors("b", BEFORE_DAY, total=20, to_cart=4),
            **visitors("a", AFTER_DAY, total=5, to_cart=2),
        },
    )
    experiment = _record(journey, actor)
    result = _computed(experiment)
    assert _rounded(result["after"], "start", "end", "days", "successes", "n") == (
        "2026-02-02",
        "2026-02-05",
        4,
        2,
        5,
    )
    assert (result["complete"], result["verdict"]) == (False, "no_change")
    assert verdict_text(experiment).startswith("No detectable change yet — about ")
    assert verdict_text(experiment).endswith("The after window is still running: this may change.")
    assert experiments.experiments_open(store_id=shop.pk) == [experiment.pk]


def test_before_the_after_window_starts_the_result_waits(
    shop: Any, journey: Journey, actor: Actor, clock_at: Callable[[datetime], None]
) -> None:
    clock_at(datetime(2026, 2, 1, 18, 0, tzinfo=UTC))
    ingest_timelines(shop, visitors("b", BEFORE_DAY, total=3, to_cart=1))
    result = _computed(_record(journey, actor))
    assert (result["verdict"], result["after"], result["before"]["n"]) == ("waiting", None, 3)


def test_a_first_stage_has_no_conversion_to_measure(
    shop: Any, journey: Journey, actor: Actor, clock_at: Callable[[datetime], None]
) -> None:
    clock_at(LATER)
    # No search ever: ZMOT is not tracked, so FMOT is the funnel's first stage.
    ingest_timelines(
        shop,
        {
            f"b{i}": [
                ("product_view", BEFORE_DAY),
                ("add_to_cart", BEFORE_DAY + timedelta(hours=1)),
            ]
            for i in range(3)
        },
    )
    experiment = _record(journey, actor, moment="FMOT")
    assert _computed(experiment) == {
        "metric": "conversion",
        "verdict": "unmeasurable",
        "reason": "stage_without_conversion",
    }


def test_conversion_on_the_journeys_first_stage_is_refused_when_recorded(
    journey: Journey, actor: Actor
) -> None:
    with pytest.raises(ValidationError) as refused:
        _record(journey, actor, moment="ZMOT")
    assert refused.value.message_dict == {
        "metric": [
            "The journey's first stage has no stage before it to convert from: choose another "
            "metric, or a touchpoint of a later stage."
        ]
    }
    assert _record(journey, actor, moment="ZMOT", metric="csat").metric == "csat"


def test_recording_over_the_api_computes_the_result_once_committed(
    shop: Any,
    journey: Journey,
    api_as: Any,
    organisation: Any,
    clock_at: Callable[[datetime], None],
    on_commit: Any,
) -> None:
    clock_at(LATER)
    ingest_timelines(
        shop,
        {
            **visitors("b", BEFORE_DAY, total=20, to_cart=4),
            **visitors("a", AFTER_DAY, total=20, to_cart=14),
        },
    )
    touchpoint = Touchpoint.objects.get(stage__journey=journey, stage__moment="SMOT")
    api = api_as(Role.EDITOR)
    with on_commit(execute=True):
        created = api.post(
            "/api/v1/experiments/",
            {
                "touchpoint": touchpoint.pk,
                "title": "Delivery date",
                "change": "Shown on the cart.",
                "started_on": "2026-02-01",
                "metric": "conversion",
                "window_days": 7,
            },
            format="json",
        )
    assert created.status_code == 201
    body = api.get(f"/api/v1/experiments/{created.json()['id']}/").json()
    assert (body["result"]["verdict"], body["verdict_text"]) == ("improved", "Improved.")
    assert body["result_computed_at"] == "2026-03-01T12:00:00Z"


def test_overlapping_experiments_on_the_same_stage_are_found(
    journey: Journey, actor: Actor
) -> None:
    first = _record(journey, actor)
    inside = _record(journey, actor, title="Free returns", started_on=date(2026, 2, 5))
    outside = _record(journey, actor, title="Later", started_on=date(2026, 2, 20))
    elsewhere = _record(journey, actor, moment="FMOT", started_on=date(2026, 2, 3))
    others = [first, inside, outside, elsewhere]
    assert journey_selectors.experiments_overlapping(first, others) == [inside]
    assert journey_selectors.experiments_overlapping(elsewhere, others) == []


def test_an_easier_checkout_by_ces_and_a_csat_change_too_small_to_tell(
    shop: Any, journey: Journey, actor: Actor, clock_at: Callable[[datetime], None]
) -> None:
    """Survey metrics come from the stage's answers in each window (by their day in the store's
    time zone): the mean's Welch test for CES, the pooled z-test for the CSAT share."""
    from tests.surveys.test_results import Customer, given, make_survey

    clock_at(LATER)
    ease = make_survey(shop, questions=["ces"], moment="SMOT", name="Checkout ease")
    given(
        ease,
        [
            Customer(f"b{i}@example.com", answers={"ces": score}, answered_at=BEFORE_DAY)
            for i, score in enumerate([2, 3, 3, 4])
        ]
        + [Customer("l@example.com", answers={"ces": 1}, answered_at=LIVE_DAY)]
        + [
            Customer(f"a{i}@example.com", answers={"ces": score}, answered_at=AFTER_DAY)
            for i, score in enumerate([5, 6, 6, 7])
        ],
    )
    result = _computed(_record(journey, actor, metric="ces"))
    # Before: mean 3, sd √(2/3) = 0.8165, t(3) = 3.1824: 3 ± 1.2992. After: 6, the same sd.
    assert _rounded(result["before"], "n", "value", "sd", "low", "high") == (
        4,
        3.0,
        0.8165,
        1.7008,
        4.2992,
    )
    assert _rounded(result["after"], "n", "value", "low", "high") == (4, 6.0, 4.7008, 7.2992)
    # Welch: se = √(2 · (2/3) / 4) = 0.5774, t = 5.196 on 6 degrees of freedom, p = 0.0020;
    # the difference 3 ± t(6) 2.4469 · 0.5774 = 3 ± 1.4127.
    assert _rounded(result["difference"], "value", "low", "high", "p_value", "significant") == (
        3.0,
        1.5873,
        4.4127,
        0.002,
        True,
    )
    assert result["verdict"] == "improved"

    satisfaction = make_survey(shop, questions=["rating"], moment="FMOT", name="Pages")
    given(
        satisfaction,
        [
            Customer(f"sb{i}@example.com", answers={"rating": score}, answered_at=BEFORE_DAY)
            for i, score in enumerate([5, 4, 2, 1])
        ]
        + [
            Customer(f"sa{i}@example.com", answers={"rating": score}, answered_at=AFTER_DAY)
            for i, score in enumerate([5, 4, 4, 2])
        ],
    )
    csat = _computed(_record(journey, actor, moment="FMOT", metric="csat", title="Photos"))
    # 2 of 4 satisfied before, 3 of 4 after: pooled 5/8, z = 0.25 / √(0.2344 · 0.5) = 0.7303,
    # p = 0.4652: no detectable change.
    assert _rounded(csat["before"], "successes", "n") == (2, 4)
    assert _rounded(csat["after"], "successes", "n") == (3, 4)
    assert _rounded(csat["difference"], "value", "p_value", "significant") == (0.25, 0.4652, False)
    # For 80 % power at the 5 % level to see 0.5 → 0.75: (1.96 · √(2 · 0.625 · 0.375) + 0.8416 ·
    # √(0.25 + 0.1875))² / 0.25² = 57.7, so 58 answers a window.
    assert (csat["verdict"], csat["needed_per_window"]) == ("no_change", 58)


def test_a_store_recompute_refreshes_an_open_experiment_at_most_hourly(
    shop: Any, journey: Journey, actor: Actor, clock_at: Callable[[datetime], None]
) -> None:
    """Every batch of events triggers a recompute; an open experiment's two windows are a read
    of the whole compact form: they follow at most once an hour (and when edited)."""
    clock_at(datetime(2026, 2, 5, 12, 0, tzinfo=UTC))
    experiment = _record(journey, actor)
    _computed(experiment)
    from metrics.tasks import EXPERIMENT_REFRESH

    # A store recompute at 12:30 asks for those not computed since 11:30; at 13:01, since 12:01.
    half_hour = datetime(2026, 2, 5, 12, 30, tzinfo=UTC) - EXPERIMENT_REFRESH
    assert experiments.experiments_open(store_id=shop.pk, computed_before=half_hour) == []
    later = datetime(2026, 2, 5, 13, 1, tzinfo=UTC) - EXPERIMENT_REFRESH
    assert experiments.experiments_open(store_id=shop.pk, computed_before=later) == [experiment.pk]
