"""The funnel and retention through the API, on tables of timelines: days in the store's time
zone across daylight-saving changes, the conversion window at its edge, ties, repeated
attempts, one event serving two stages, skipped and untracked stages. Exact numbers, read
from GET /funnel/ and /metrics/ only, so that they hold however the figures are computed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.metrics.conftest import (
    Timelines,
    figures,
    funnel,
    ingest_timelines,
    journey_for,
    retention,
    store_metrics,
)

pytestmark = pytest.mark.django_db

D0 = datetime(2026, 1, 1, tzinfo=UTC)
DAY = 24 * 60 * 60
THIRTY_DAYS = 30 * DAY


def at(text: str) -> datetime:
    """An instant written with its UTC offset, e.g. 2026-03-29T00:30+02:00."""
    moment = datetime.fromisoformat(text)
    assert moment.utcoffset() is not None
    return moment


def day(days: float, **later: float) -> datetime:
    """Days (and hours, minutes, seconds…) after 2026-01-01 00:00 UTC."""
    return D0 + timedelta(days=days, **later)


# --- Days in Europe/Vilnius across the changes of 2026 (UTC+2 in winter, UTC+3 in summer)

# 2026-03-29 has 23 hours: 03:00 local becomes 04:00 (01:00 UTC). Local midnights: 03-28
# 22:00 UTC (+02:00), 03-29 22:00 UTC the day before… so 2026-03-29 runs from 03-28 22:00 UTC
# to 03-29 21:00 UTC.
SPRING: Timelines = {
    "sat-2330": [
        ("search", at("2026-03-28T23:30+02:00")),
        ("product_view", at("2026-03-29T01:30+02:00")),  # 2 h later, on the 29th
    ],
    "sun-0030": [
        ("search", at("2026-03-29T00:30+02:00")),  # 03-28 22:30 UTC
        ("product_view", at("2026-03-29T04:30+03:00")),  # 4 h on the clock, 3 h in fact
    ],
    "sun-2330": [
        ("search", at("2026-03-29T23:30+03:00")),  # 03-29 20:30 UTC
        ("product_view", at("2026-03-30T00:15+03:00")),  # 45 min later, on the 30th
    ],
    "mon-0030": [("search", at("2026-03-30T00:30+03:00"))],  # 03-29 21:30 UTC
}

# 2026-10-25 has 25 hours: 04:00 local becomes 03:00 again (01:00 UTC); it runs from 10-24
# 21:00 UTC to 10-25 22:00 UTC, and 03:30 happens twice.
AUTUMN: Timelines = {
    "sat-2330": [
        ("search", at("2026-10-24T23:30+03:00")),  # 10-24 20:30 UTC
        ("product_view", at("2026-10-26T00:10+02:00")),  # 25 h 40 min later, on the 26th
    ],
    "sun-0030": [
        ("search", at("2026-10-25T00:30+03:00")),  # 10-24 21:30 UTC
        ("product_view", at("2026-10-25T03:30+02:00")),  # 3 h on the clock, 4 h in fact
    ],
    "sun-0330-first": [("search", at("2026-10-25T03:30+03:00"))],  # 10-25 00:30 UTC
    "sun-0330-again": [("search", at("2026-10-25T03:30+02:00"))],  # 10-25 01:30 UTC
    "sun-2330": [("search", at("2026-10-25T23:30+02:00"))],  # 10-25 21:30 UTC
    "mon-0030": [("search", at("2026-10-26T00:30+02:00"))],  # 10-25 22:30 UTC
}
TWO_STAGES = [("ZMOT", ["search"]), ("FMOT", ["product_view"])]


def test_days_around_the_spring_change_are_local_days_of_23_hours_and_24(
    vilnius_store: Any, api_as: Any, clock_at: Callable[[datetime], None], on_commit: Any
) -> None:
    clock_at(datetime(2026, 12, 1, 12, tzinfo=UTC))
    journey_for(vilnius_store, TWO_STAGES)
    with on_commit(execute=True):
        ingest_timelines(vilnius_store, SPRING)
    viewer = api_as("viewer")

    def period(start: str, end: str) -> Any:
        return funnel(viewer, vilnius_store, start=start, end=end)

    saturday = period("2026-03-28", "2026-03-28")
    assert figures(saturday) == [
        ("ZMOT", True, 1, 1, None, None, None),
        # Its product view is on the 29th: not reached in the period, but a step of its entry.
        ("FMOT", True, 0, 1, (1, 1), 7200, 7200),
    ]
    assert saturday["events_counted"] == 1
    sunday = period("2026-03-29", "2026-03-29")
    assert figures(sunday) == [
        ("ZMOT", True, 2, 2, None, None, None),  # 00:30 and 23:30
        # sat-2330's product view at 01:30 and sun-0030's; sun-0030 converts in 3 h (10800 s)
        # across the jump, sun-2330 in 45 min after midnight.
        ("FMOT", True, 2, 2, (2, 2), 6750, 9990),
    ]
    assert sunday["events_counted"] == 4
    monday = period("2026-03-30", "2026-03-30")
    assert figures(monday) == [
        ("ZMOT", True, 1, 1, None, None, None),
        ("FMOT", True, 1, 0, (0, 1), None, None),
    ]
    # A period that ends on the short day, and one that starts on it.
    ending = period("2026-03-22", "2026-03-29")
    assert figures(ending) == [
        ("ZMOT", True, 3, 3, None, None, None),
        ("FMOT", True, 2, 3, (3, 3), 7200, 10080),
    ]
    starting = period("2026-03-29", "2026-04-04")
    assert figures(starting) == [
        ("ZMOT", True, 3, 3, None, None, None),
        ("FMOT", True, 3, 2, (2, 3), 6750, 9990),
    ]


def test_days_around_the_autumn_change_are_local_days_of_25_hours_and_24(
    vilnius_store: Any, api_as: Any, clock_at: Callable[[datetime], None], on_commit: Any
) -> None:
    clock_at(datetime(2026, 12, 1, 12, tzinfo=UTC))
    journey_for(vilnius_store, TWO_STAGES)
    with on_commit(execute=True):
        ingest_timelines(vilnius_store, AUTUMN)
    viewer = api_as("viewer")

    def period(start: str, end: str) -> Any:
        return funnel(viewer, vilnius_store, start=start, end=end)

    assert figures(period("2026-10-24", "2026-10-24")) == [
        ("ZMOT", True, 1, 1, None, None, None),
        ("FMOT", True, 0, 1, (1, 1), 92400, 92400),
    ]
    sunday = period("2026-10-25", "2026-10-25")
    assert figures(sunday) == [
        # 00:30, both 03:30s and 23:30: the 25 hours are one day.
        ("ZMOT", True, 4, 4, None, None, None),
        ("FMOT", True, 1, 1, (1, 4), 14400, 14400),
    ]
    assert sunday["events_counted"] == 5
    assert figures(period("2026-10-26", "2026-10-26")) == [
        ("ZMOT", True, 1, 1, None, None, None),
        ("FMOT", True, 1, 0, (0, 1), None, None),
    ]
    assert figures(period("2026-10-19", "2026-10-25")) == [
        ("ZMOT", True, 5, 5, None, None, None),
        ("FMOT", True, 1, 2, (2, 5), 53400, 84600),
    ]
    assert figures(period("2026-10-25", "2026-10-31")) == [
        ("ZMOT", True, 5, 5, None, None, None),
        ("FMOT", True, 2, 1, (1, 5), 14400, 14400),
    ]


def test_the_window_is_30_days_of_24_hours_in_real_time_across_a_change(
    vilnius_store: Any, api_as: Any, clock_at: Callable[[datetime], None], on_commit: Any
) -> None:
    clock_at(datetime(2026, 12, 1, 12, tzinfo=UTC))
    journey_for(vilnius_store, TWO_STAGES)
    spring_entry = at("2026-03-20T12:00+02:00")  # + 720 h = 2026-04-19 13:00+03:00
    autumn_entry = at("2026-10-10T12:00+03:00")  # + 720 h = 2026-11-09 11:00+02:00
    with on_commit(execute=True):
        ingest_timelines(
            vilnius_store,
            {
                "spring-edge": [
                    ("search", spring_entry),
                    ("product_view", at("2026-04-19T13:00:00.000+03:00")),
                ],
                "spring-ms-late": [
                    ("search", spring_entry),
                    ("product_view", at("2026-04-19T13:00:00.001+03:00")),
                ],
                # After 12:00 on the clock 30 days on, but 30 min inside 720 real hours.
                "spring-wall-clock": [
                    ("search", spring_entry),
                    ("product_view", at("2026-04-19T12:30+03:00")),
                ],
                "autumn-edge": [
                    ("search", autumn_entry),
                    ("product_view", at("2026-11-09T11:00:00.000+02:00")),
                ],
                # Before 12:00 on the clock 30 days on, but 1 ms past 720 real hours.
                "autumn-ms-late": [
                    ("search", autumn_entry),
                    ("product_view", at("2026-11-09T11:00:00.001+02:00")),
                ],
            },
        )
    viewer = api_as("viewer")
    spring = funnel(viewer, vilnius_store, start="2026-03-20", end="2026-03-20")
    assert figures(spring) == [
        ("ZMOT", True, 3, 3, None, None, None),
        ("FMOT", True, 0, 2, (2, 3), THIRTY_DAYS - 900, THIRTY_DAYS - 180),
    ]
    autumn = funnel(viewer, vilnius_store, start="2026-10-10", end="2026-10-10")
    assert figures(autumn) == [
        ("ZMOT", True, 2, 2, None, None, None),
        ("FMOT", True, 0, 1, (1, 2), THIRTY_DAYS, THIRTY_DAYS),
    ]
    # A window of 31 days takes the late ones too.
    assert figures(
        funnel(viewer, vilnius_store, start="2026-10-10", end="2026-10-10", window_days=31)
    )[1] == ("FMOT", True, 0, 2, (2, 2), THIRTY_DAYS, THIRTY_DAYS)


def test_a_period_ending_on_a_change_day_is_complete_720_real_hours_after_its_end(
    vilnius_store: Any, api_as: Any, clock_at: Callable[[datetime], None]
) -> None:
    journey_for(vilnius_store, TWO_STAGES)
    viewer = api_as("viewer")
    # 2026-10-25 ends at 10-25 22:00 UTC (midnight at +02:00); 720 h later is 11-24 22:00 UTC.
    clock_at(datetime(2026, 11, 24, 21, 59, 59, 999000, tzinfo=UTC))
    assert funnel(viewer, vilnius_store, start="2026-10-25", end="2026-10-25")["complete"] is False
    clock_at(datetime(2026, 11, 24, 22, tzinfo=UTC))
    assert funnel(viewer, vilnius_store, start="2026-10-25", end="2026-10-25")["complete"] is True
    # 2026-03-29 ends at 03-29 21:00 UTC (midnight at +03:00); 720 h later is 04-28 21:00 UTC.
    clock_at(datetime(2026, 4, 28, 20, 59, 59, 999000, tzinfo=UTC))
    assert funnel(viewer, vilnius_store, start="2026-03-29", end="2026-03-29")["complete"] is False
    clock_at(datetime(2026, 4, 28, 21, tzinfo=UTC))
    assert funnel(viewer, vilnius_store, start="2026-03-29", end="2026-03-29")["complete"] is True


def test_retention_days_are_local_and_its_90_days_are_real_hours_across_a_change(
    vilnius_store: Any, api_as: Any, clock_at: Callable[[datetime], None], on_commit: Any
) -> None:
    clock_at(datetime(2026, 12, 1, 12, tzinfo=UTC))
    first = at("2026-03-29T00:30+02:00")  # the short day's first hour; + 2160 h is below
    with on_commit(execute=True):
        ingest_timelines(
            vilnius_store,
            {
                "edge": [("purchase", first), ("purchase", at("2026-06-27T01:30+03:00"))],
                "ms-late": [("purchase", first), ("purchase", at("2026-06-27T01:30:00.001+03:00"))],
                "saturday": [  # 03-28 21:59:59.999 UTC: the last instant of the 28th
                    ("purchase", at("2026-03-28T23:59:59.999+02:00")),
                    ("purchase", at("2026-04-01T10:00+03:00")),
                ],
                "sunday-last": [  # 03-29 20:59:59.999 UTC: the last instant of the 29th
                    ("purchase", at("2026-03-29T23:59:59.999+03:00")),
                    ("purchase", at("2026-03-29T23:59:59.999+03:00")),  # not strictly later
                ],
                "monday": [("purchase", at("2026-03-30T00:00+03:00"))],
            },
        )
    viewer = api_as("viewer")

    def period(start: str, end: str) -> Any:
        return store_metrics(viewer, vilnius_store, start=start, end=end)

    sunday = period("2026-03-29", "2026-03-29")
    assert retention(sunday) == (1, 3)  # edge, ms-late and sunday-last; edge came back
    assert (sunday["retention"]["days"], sunday["retention"]["complete"]) == (90, True)
    assert retention(period("2026-03-28", "2026-03-28")) == (1, 1)  # saturday
    assert retention(period("2026-03-30", "2026-03-30")) == (0, 1)  # monday
    assert retention(period("2026-03-28", "2026-03-30")) == (2, 5)


# --- Edges, ties, attempts, one event for two steps, skipped stages (a store in UTC)

THREE_STAGES = [("ZMOT", ["search"]), ("FMOT", ["product_view"]), ("SMOT", ["purchase"])]


def test_a_step_exactly_at_the_windows_end_counts_and_one_second_later_does_not(
    utc_store: Any, api_as: Any, now: datetime, on_commit: Any
) -> None:
    journey_for(utc_store, TWO_STAGES)
    with on_commit(execute=True):
        ingest_timelines(
            utc_store,
            {
                "edge": [("search", day(0, hours=10)), ("product_view", day(7, hours=10))],
                "second-late": [
                    ("search", day(0, hours=10)),
                    ("product_view", day(7, hours=10, seconds=1)),
                ],
                # The period's last millisecond is in it; its first millisecond too.
                "last-ms": [
                    ("search", day(1, milliseconds=-1)),
                    ("product_view", day(8, milliseconds=-1)),
                ],
                "first-ms": [("search", day(0))],
                "after-end": [("search", day(1))],
                "before-start": [
                    ("search", day(0, milliseconds=-1)),
                    ("product_view", day(0)),
                ],
            },
        )
    body = funnel(api_as("viewer"), utc_store, start="2026-01-01", end="2026-01-01", window_days=7)
    assert figures(body) == [
        ("ZMOT", True, 4, 4, None, None, None),
        # before-start's product view is in the period, its search is not: reached, no entry.
        ("FMOT", True, 1, 2, (2, 4), 7 * DAY, 7 * DAY),
    ]
    assert body["events_counted"] == 5
    assert body["window_days"] == 7


def test_events_at_the_same_instant_serve_consecutive_steps_in_any_arrival_order(
    utc_store: Any, api_as: Any, now: datetime, on_commit: Any
) -> None:
    journey_for(
        utc_store, [("ZMOT", ["search"]), ("FMOT", ["product_view"]), ("SMOT", ["add_to_cart"])]
    )
    with on_commit(execute=True):
        ingest_timelines(
            utc_store,
            {
                "in-order": [
                    ("search", day(1, hours=10)),
                    ("product_view", day(1, hours=10)),
                    ("add_to_cart", day(1, hours=10)),
                ],
                "reversed": [
                    ("add_to_cart", day(1, hours=11)),
                    ("product_view", day(1, hours=11)),
                    ("search", day(1, hours=11)),
                ],
                "view-a-second-before": [
                    ("product_view", day(1, hours=9, minutes=59, seconds=59)),
                    ("search", day(1, hours=10)),
                ],
            },
        )
    body = funnel(api_as("viewer"), utc_store, start="2026-01-01", end="2026-01-31")
    assert figures(body) == [
        ("ZMOT", True, 3, 3, None, None, None),
        ("FMOT", True, 3, 2, (2, 3), 0, 0),
        ("SMOT", True, 2, 2, (2, 2), 0, 0),
    ]


def test_a_customers_level_is_their_furthest_attempt_timed_from_its_earliest_entry(
    utc_store: Any, api_as: Any, now: datetime, on_commit: Any
) -> None:
    journey_for(utc_store, THREE_STAGES)
    with on_commit(execute=True):
        ingest_timelines(
            utc_store,
            {
                # Its first attempt stops at FMOT (in 1 h); the second reaches SMOT, in 12 h
                # to FMOT and 12 h more to SMOT: the figures are the second's.
                "furthest-later": [
                    ("search", day(0)),
                    ("product_view", day(0, hours=1)),
                    ("search", day(10)),
                    ("product_view", day(10, hours=12)),
                    ("purchase", day(11)),
                ],
                # Both entries reach FMOT; the earlier one counts: 2 days, not 1.
                "earliest-of-equals": [
                    ("search", day(0)),
                    ("search", day(1)),
                    ("product_view", day(2)),
                ],
                # Only the later entry's window holds the product view.
                "own-window": [("search", day(0)), ("search", day(19)), ("product_view", day(20))],
            },
        )
    body = funnel(api_as("viewer"), utc_store, start="2026-01-01", end="2026-01-31", window_days=3)
    assert figures(body) == [
        ("ZMOT", True, 3, 3, None, None, None),
        ("FMOT", True, 3, 3, (3, 3), DAY, 155520),  # 12 h, 1 d, 2 d
        ("SMOT", True, 1, 1, (1, 3), DAY // 2, DAY // 2),
    ]


def test_a_second_purchase_is_a_repeat_purchase_but_moves_one_step(
    utc_store: Any, api_as: Any, now: datetime, on_commit: Any
) -> None:
    journey_for(
        utc_store,
        [("ZMOT", ["search"]), ("SMOT", ["purchase"]), ("UMOT", ["repeat_purchase"])],
    )
    with on_commit(execute=True):
        ingest_timelines(
            utc_store,
            {
                "first-buy": [("search", day(0)), ("purchase", day(1))],
                # Bought before the period: its purchase on day 1 is a repeat purchase, and
                # the SMOT step; it cannot be the UMOT step too.
                "second-buy": [("purchase", day(-12)), ("search", day(0)), ("purchase", day(1))],
                "buys-twice": [("search", day(0)), ("purchase", day(1)), ("purchase", day(2))],
                # Two orders at the same instant: the second is not strictly later.
                "two-at-once": [
                    ("search", day(0)),
                    ("purchase", day(1, hours=10)),
                    ("purchase", day(1, hours=10)),
                ],
            },
        )
    viewer = api_as("viewer")
    body = funnel(viewer, utc_store, start="2026-01-01", end="2026-01-31")
    assert figures(body) == [
        ("ZMOT", True, 4, 4, None, None, None),
        ("SMOT", True, 4, 4, (4, 4), DAY, 111600),  # 1 d three times, and 34 h
        ("UMOT", True, 2, 1, (1, 4), DAY, DAY),  # repeat purchases: second-buy, buys-twice
    ]
    # Events counted are the events received: the derived repeat purchases add none.
    assert body["events_counted"] == 10
    # Retention of January's first buyers (second-buy's first purchase is in December).
    january = store_metrics(viewer, utc_store, start="2026-01-01", end="2026-01-31")
    assert retention(january) == (1, 3)
    assert retention(store_metrics(viewer, utc_store, start="2025-12-01", end="2025-12-31")) == (
        1,
        1,
    )


def test_untracked_stages_are_skipped_and_a_tracked_stage_without_events_is_a_real_zero(
    utc_store: Any, api_as: Any, now: datetime, on_commit: Any
) -> None:
    journey_for(
        utc_store,
        [
            ("LZMOT", ["ad_click"]),  # never received: customers enter at ZMOT
            ("ZMOT", ["search"]),
            ("FMOT", ["never_sent"]),
            ("SMOT", ["purchase"]),
            ("TMOT", ["delivered"]),  # received, but not in the period
            ("UMOT", ["review_posted"]),  # in the period, but no one gets there
        ],
    )
    with on_commit(execute=True):
        ingest_timelines(
            utc_store,
            {
                "a": [("search", day(0)), ("purchase", day(1)), ("review_posted", day(2))],
                "b": [("search", day(0))],
                "old": [("delivered", day(-20))],
            },
        )
    body = funnel(api_as("viewer"), utc_store, start="2026-01-01", end="2026-01-31")
    assert figures(body) == [
        ("LZMOT", False, None, None, None, None, None),
        ("ZMOT", True, 2, 2, None, None, None),
        ("FMOT", False, None, None, None, None, None),
        ("SMOT", True, 1, 1, (1, 2), DAY, DAY),
        ("TMOT", True, 0, 0, (0, 1), None, None),
        # After a stage of 0 there is nothing to convert from: no conversion at all.
        ("UMOT", True, 1, 0, None, None, None),
    ]
    assert body["events_counted"] == 4
