"""The funnel engine: the fast path against the plain definition, on tables of timelines."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from metrics.engine import (
    DayGrid,
    Events,
    Repeat,
    funnel_families,
    funnel_fast,
    funnel_plain,
)
from tests.metrics.timelines import DAY_MS, FIVE_STAGES, WORKED_EXAMPLE, ms, run

FIVE = FIVE_STAGES


def test_the_issues_worked_example() -> None:
    result = run(
        WORKED_EXAMPLE,
        FIVE,
        start_day=0,
        end_day=59,
    )
    assert result.funnel == [8, 5, 3, 1, 1]
    assert result.reached == [8, 8, 5, 1, 1]
    levels = {c: level for c, (level, _entry, _last) in result.customers.items()}
    assert levels == {"c1": 5, "c2": 3, "c4": 1, "c5": 1, "c6": 1, "c7": 2, "c8": 3, "c9": 2}
    # c8's furthest attempt is its second entry (day 40); time to FMOT: c1 0.04 d, c2 2 d,
    # c7 0 s, c8 1 d, c9 2 d.
    assert result.seconds_to_convert[1] == [0, 3456, 86400, 172800, 172800]
    assert result.customers["c8"] == (3, ms(40), ms(42))


def test_a_step_at_the_windows_edge_counts_and_one_past_it_does_not() -> None:
    result = run(
        {
            "edge": [("search", 0), ("product_view", 30)],
            "late": [("search", 0), ("product_view", 30.0000001)],
        },
        FIVE[:2],
        start_day=0,
        end_day=0,
    )
    assert result.funnel == [2, 1]


def test_a_repeat_purchase_is_one_step_not_two() -> None:
    stages = [["search"], ["purchase"], ["repeat_purchase"]]
    result = run(
        {
            "once": [("search", 0), ("purchase", 1)],
            "second_buy": [("purchase", -10), ("search", 0), ("purchase", 1)],
            "twice": [("search", 0), ("purchase", 1), ("purchase", 2)],
        },
        stages,
        start_day=0,
        end_day=5,
    )
    # second_buy's purchase on day 1 is its repeat purchase, and the SMOT step: it cannot
    # serve UMOT too. twice buys again on day 2.
    assert result.funnel == [3, 3, 1]
    assert result.reached == [3, 3, 2]


def test_events_at_the_same_instant_serve_consecutive_steps() -> None:
    result = run(
        {"c": [("search", 1), ("product_view", 1), ("add_to_cart", 1)]},
        FIVE[:3],
        start_day=0,
        end_day=2,
    )
    assert result.funnel == [1, 1, 1]
    assert result.seconds_to_convert[1:] == [[0], [0]]


def test_no_events_and_no_entries() -> None:
    assert run({}, FIVE, start_day=0, end_day=1).funnel == [0, 0, 0, 0, 0]
    result = run({"c": [("product_view", 0)]}, FIVE, start_day=0, end_day=1)
    assert result.funnel == [0, 0, 0, 0, 0]
    assert result.reached == [0, 1, 0, 0, 0]


names = st.sampled_from([1, 2, 3, 4, 5])
timeline = st.lists(st.tuples(st.integers(-5, 70), names), max_size=12)


@settings(max_examples=300, deadline=None)
@given(
    timelines=st.dictionaries(st.integers(1, 40), timeline, max_size=15),
    window=st.integers(0, 40),
    start=st.integers(-3, 30),
    length=st.integers(0, 40),
    stage_count=st.integers(1, 5),
)
def test_the_fast_path_equals_the_definition(
    timelines: dict[int, list[tuple[int, int]]],
    window: int,
    start: int,
    length: int,
    stage_count: int,
) -> None:
    # Times in hours, so that ties are frequent; name 5 stands for purchase, 6 for
    # repeat_purchase (derived), which the last stage maps.
    hour = DAY_MS // 24
    by_customer = {c: [(t * hour, n) for t, n in events] for c, events in timelines.items()}
    first = {
        c: min(t for t, n in events if n == 5)
        for c, events in by_customer.items()
        if any(n == 5 for _t, n in events)
    }
    repeat = Repeat(purchase=5, repeat=6, first_purchase=first)
    stages = [frozenset({k + 1}) for k in range(stage_count - 1)] + [frozenset({5, 6})]
    kwargs = {
        "start": start * hour,
        "end": (start + length) * hour,
        "window": window * hour,
        "repeat": repeat,
    }
    rows = [(c, t, n) for c, events in by_customer.items() for t, n in events]
    fast = funnel_fast(Events.from_rows(rows), stages, **kwargs)
    plain = funnel_plain(by_customer, stages, **kwargs)
    assert fast.funnel == plain.funnel
    assert fast.reached == plain.reached
    assert fast.seconds_to_convert == plain.seconds_to_convert
    assert fast.customers == plain.customers


def test_a_step_after_the_periods_end_within_the_window_counts() -> None:
    result = run(
        {f"c{i}": [("search", 0), ("product_view", i % 2)] for i in range(3)},
        FIVE[:2],
        start_day=0,
        end_day=0,
    )
    assert result.funnel == [3, 3]
    assert result.reached == [3, 2]  # c1's product view on day 1 is after the period


@settings(max_examples=200, deadline=None)
@given(
    timelines=st.dictionaries(st.integers(1, 40), timeline, max_size=15),
    window=st.integers(0, 40),
    cuts=st.lists(st.integers(-6, 75), min_size=2, max_size=6, unique=True),
    single=st.tuples(st.integers(-3, 30), st.integers(1, 40)),
    stage_count=st.integers(1, 5),
)
def test_families_of_periods_equal_the_definition_period_by_period(
    timelines: dict[int, list[tuple[int, int]]],
    window: int,
    cuts: list[int],
    single: tuple[int, int],
    stage_count: int,
) -> None:
    # Two families in one pass: back-to-back periods (like weeks) and one period on its own
    # (like the last 30 days); each period must equal the plain definition run on it alone.
    hour = DAY_MS // 24
    by_customer = {c: [(t * hour, n) for t, n in events] for c, events in timelines.items()}
    first = {
        c: min(t for t, n in events if n == 5)
        for c, events in by_customer.items()
        if any(n == 5 for _t, n in events)
    }
    repeat = Repeat(purchase=5, repeat=6, first_purchase=first)
    stages = [frozenset({k + 1}) for k in range(stage_count - 1)] + [frozenset({5, 6})]
    families = [
        np.array(sorted(c * hour for c in cuts), dtype=np.int64),
        np.array([single[0] * hour, (single[0] + single[1]) * hour], dtype=np.int64),
    ]
    rows = [(c, t, n) for c, events in by_customer.items() for t, n in events]
    parts = funnel_families(
        Events.from_rows(rows),
        stages,
        families=families,
        window=window * hour,
        name_count=7,
        repeat=repeat,
    )
    # The same on a grid of hours (as the recompute's grid of days): the periods looked up.
    low = min(-6, single[0]) * hour
    high = max(75, single[0] + single[1]) * hour
    grid = DayGrid.of(np.arange(low, high + hour, hour, dtype=np.int64), families)
    events = Events.from_rows(rows)
    by_grid = funnel_families(
        events,
        stages,
        families=families,
        window=window * hour,
        name_count=7,
        repeat=repeat,
        grid=grid,
        days=grid.days(events.times),
    )
    for part, looked_up in zip(parts, by_grid, strict=True):
        for name in ("funnel", "reached", "names", "seconds_period", "seconds_stage", "seconds"):
            assert getattr(part, name).tolist() == getattr(looked_up, name).tolist()
        assert [a.tolist() for a in part.entered] == [a.tolist() for a in looked_up.entered]
    for edges, part in zip(families, parts, strict=True):
        for p in range(edges.size - 1):
            plain = funnel_plain(
                by_customer,
                stages,
                start=int(edges[p]),
                end=int(edges[p + 1]) - 1,
                window=window * hour,
                repeat=repeat,
            )
            assert part.funnel[p].tolist() == plain.funnel
            assert part.reached[p].tolist() == plain.reached
            for k in range(1, stage_count):
                mine = (part.seconds_period == p) & (part.seconds_stage == k)
                assert sorted(part.seconds[mine].tolist()) == plain.seconds_to_convert[k]
            entered = part.entered[0] == p
            assert {
                int(c): (int(level), int(t), int(last))
                for c, level, t, last in zip(
                    part.entered[1][entered],
                    part.entered[2][entered],
                    part.entered[3][entered],
                    part.entered[4][entered],
                    strict=True,
                )
            } == plain.customers
            inside = [
                (t, n)
                for events in by_customer.values()
                for t, n in events
                if edges[p] <= t < edges[p + 1]
            ]
            expected = [sum(1 for _t, n in inside if n == name) for name in range(6)]
            expected.append(
                sum(
                    1
                    for c, events in by_customer.items()
                    for t, n in events
                    if n == 5 and edges[p] <= t < edges[p + 1] and t > first[c]
                )
            )
            assert part.names[p].tolist() == expected
