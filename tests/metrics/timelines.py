"""Funnel test cases as tables: customers and their events in, exact numbers out.

A timeline is `{"c1": [("search", 0), ("product_view", 0.04)], ...}` with times in days from
d0 00:00 UTC (fractions allowed); `run` turns it into the engine's arrays and runs both the
fast path and the plain definition, and checks they agree before returning the result.
"""

from __future__ import annotations

from collections.abc import Sequence

from metrics.engine import Events, Funnel, Repeat, funnel_fast, funnel_plain

DAY_MS = 24 * 60 * 60 * 1000
NAME_IDS = {
    name: i
    for i, name in enumerate(
        [
            "ad_click",
            "search",
            "review_read",
            "page_view",
            "product_view",
            "add_to_cart",
            "checkout_start",
            "purchase",
            "shipped",
            "delivered",
            "review_posted",
            "repeat_purchase",
        ],
        start=1,
    )
}


def ms(days: float) -> int:
    return round(days * DAY_MS)


def run(
    timelines: dict[str, list[tuple[str, float]]],
    stages: Sequence[Sequence[str]],
    *,
    start_day: float,
    end_day: float,
    window_days: float = 30,
) -> Funnel:
    """The period is days start_day to end_day, both included."""
    customer_ids = {key: i for i, key in enumerate(sorted(timelines), start=1)}
    by_id = {
        customer_ids[key]: [(ms(day), NAME_IDS[name]) for name, day in events]
        for key, events in timelines.items()
    }
    first_purchase = {
        customer: min(t for t, n in events if n == NAME_IDS["purchase"])
        for customer, events in by_id.items()
        if any(n == NAME_IDS["purchase"] for _t, n in events)
    }
    repeat = Repeat(NAME_IDS["purchase"], NAME_IDS["repeat_purchase"], first_purchase)
    stage_ids = [frozenset(NAME_IDS[n] for n in names) for names in stages]
    kwargs = {
        "start": ms(start_day),
        "end": ms(end_day + 1) - 1,
        "window": ms(window_days),
        "repeat": repeat,
    }
    rows = [(c, t, n) for c, events in by_id.items() for t, n in events]
    fast = funnel_fast(Events.from_rows(rows), stage_ids, **kwargs)
    plain = funnel_plain(by_id, stage_ids, **kwargs)
    assert fast.funnel == plain.funnel
    assert fast.reached == plain.reached
    assert fast.seconds_to_convert == plain.seconds_to_convert
    assert fast.customers == plain.customers
    names = {v: k for k, v in customer_ids.items()}
    fast.customers = {names[c]: value for c, value in fast.customers.items()}  # type: ignore[misc]
    return fast


# The metrics issue's worked example (a store in UTC, window 30 days, period days 0 to 59):
# funnel = 8, 5, 3, 1, 1 and reached = 8, 8, 5, 1, 1.
FIVE_STAGES = [
    ["search"],
    ["product_view"],
    ["add_to_cart", "purchase"],
    ["delivered"],
    ["review_posted"],
]
WORKED_EXAMPLE: dict[str, list[tuple[str, float]]] = {
    "c1": [
        ("search", 0),
        ("product_view", 0.04),
        ("purchase", 1),
        ("delivered", 9),
        ("review_posted", 15),
    ],
    "c2": [("search", 0), ("product_view", 2), ("add_to_cart", 2)],
    "c3": [("product_view", 0)],
    "c4": [("search", 0), ("purchase", 3)],
    "c5": [("search", 0), ("product_view", 31)],
    "c6": [("product_view", 0), ("search", 1), ("purchase", 2)],
    "c7": [("search", 0), ("product_view", 0)],
    "c8": [("search", 0), ("search", 40), ("product_view", 41), ("purchase", 42)],
    "c9": [("search", 59), ("product_view", 61)],
    "c10": [("search", -3), ("product_view", 1)],
}
