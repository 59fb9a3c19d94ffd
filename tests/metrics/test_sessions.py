"""The bounce rate's sessions as the recompute counts them (metrics/rollups.py: a bucket's
sessions grouped once for every family, the buckets' parts summed at the end), against the
definition written plainly, period by period."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from events.blocks import Columns
from metrics.engine import DayGrid
from metrics.rollups import _Sessions

HOUR = 3_600_000
DAY = 24 * HOUR
PAGE, OTHER = 0, 1  # name ids: a page view, something else

event = st.tuples(
    st.integers(1, 12),  # customer
    st.integers(-30, 24 * 9),  # hour
    st.integers(0, 5),  # session (0: none)
    st.sampled_from([PAGE, OTHER]),
)


@settings(max_examples=200, deadline=None)
@given(
    events=st.lists(event, max_size=40),
    cuts=st.lists(st.integers(0, 8), min_size=2, max_size=5, unique=True),
    single=st.tuples(st.integers(0, 6), st.integers(1, 3)),
    buckets=st.integers(1, 4),
)
def test_sessions_per_period_equal_the_definition(
    events: list[tuple[int, int, int, int]],
    cuts: list[int],
    single: tuple[int, int],
    buckets: int,
) -> None:
    # Two families on a grid of nine days: back-to-back periods and one period alone. Events
    # fall before, inside and after the grid; a session may span days and customers, and
    # customers fall in different buckets (customer mod buckets), as in a store.
    families = [
        np.array(sorted(c * DAY for c in cuts), dtype=np.int64),
        np.array([single[0] * DAY, (single[0] + single[1]) * DAY], dtype=np.int64),
    ]
    grid = DayGrid.of(np.arange(10, dtype=np.int64) * DAY, families)
    pages = np.array([True, False])
    sessions = _Sessions()
    for bucket in range(buckets):
        rows = sorted((c, h * HOUR, s, n) for c, h, s, n in events if c % buckets == bucket)
        columns = Columns(
            np.array([r[0] for r in rows], dtype=np.int64),
            np.array([r[1] for r in rows], dtype=np.int64),
            np.array([r[3] for r in rows], dtype=np.int32),
            np.array([r[2] for r in rows], dtype=np.int64),
        )
        sessions.add(columns, grid.days(columns.times), grid.edges.size - 1, pages)
    figures = sessions.close(grid, [f.size - 1 for f in families])
    for edges, bounce in zip(families, figures, strict=True):
        for p in range(edges.size - 1):
            inside: dict[int, list[int]] = {}
            for _c, h, s, n in events:
                if s and edges[p] <= h * HOUR < edges[p + 1]:
                    inside.setdefault(s, []).append(n)
            bounced = sum(1 for names in inside.values() if names == [PAGE])
            assert bounce[p].tolist() == [len(inside), bounced], (p, edges)
