"""A store's funnel results for whole families of periods at once, from the compact form of its
events (events/blocks.py), a customer bucket at a time: the standard periods that the recompute
tasks store (the last 7, 30 and 90 days and the same lengths before them, each ISO week and
each calendar month of the last 12 months) and any other range, computed on request.

Each family is a run of back-to-back periods (the weeks, the months, or one rolling period);
metrics/engine.py advances every entry once and counts it in the period it entered in.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from accounts.models import Store
from events import blocks
from metrics.engine import DayGrid, Events, FamilyFunnel, funnel_families, period_of
from metrics.mapping import Mapping
from metrics.models import FunnelResult

Ints = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]
DAY_S = 24 * 60 * 60
# The time-to-convert histogram's bins (seconds): from a minute to a year, cut at the window.
PAGE_VIEWS = ("page_view", "product_view")  # a session of one of these alone is a bounce
HISTOGRAM_EDGES = (
    0,
    60,
    5 * 60,
    15 * 60,
    30 * 60,
    60 * 60,
    3 * 60 * 60,
    6 * 60 * 60,
    12 * 60 * 60,
    DAY_S,
    2 * DAY_S,
    3 * DAY_S,
    7 * DAY_S,
    14 * DAY_S,
    30 * DAY_S,
    60 * DAY_S,
    90 * DAY_S,
    180 * DAY_S,
)


@dataclass(frozen=True)
class Period:
    kind: str
    start: date
    end: date  # included


def standard_families(today: date) -> list[list[Period]]:
    """The standard periods for a store whose today is `today`: each rolling period is a
    family of one; the 53 ISO weeks ending with this one; the 12 months ending with this one."""
    K = FunnelResult.Kind
    families: list[list[Period]] = []
    for days, last, previous in (
        (7, K.LAST_7, K.PREVIOUS_7),
        (30, K.LAST_30, K.PREVIOUS_30),
        (90, K.LAST_90, K.PREVIOUS_90),
    ):
        start = today - timedelta(days=days - 1)
        families.append([Period(last, start, today)])
        families.append([Period(previous, start - timedelta(days=days), start - timedelta(days=1))])
    monday = today - timedelta(days=today.weekday())
    families.append(
        [
            Period(K.WEEK, monday - timedelta(weeks=i), monday - timedelta(weeks=i, days=-6))
            for i in range(52, -1, -1)
        ]
    )
    months = []
    first = today.replace(day=1)
    for _ in range(12):
        following = (first + timedelta(days=32)).replace(day=1)
        months.append(Period(K.MONTH, first, following - timedelta(days=1)))
        first = (first - timedelta(days=1)).replace(day=1)
    families.append(months[::-1])
    return families


def _midnight_ms(day: date, zone: ZoneInfo) -> int:
    return int(datetime.combine(day, time.min, tzinfo=zone).timestamp() * 1000)


def boundaries(periods: Sequence[Period], zone: ZoneInfo) -> Ints:
    """Back-to-back periods as [first ms of each, first ms after the last]: days in the
    store's time zone (a DST day is 23 or 25 hours long)."""
    edges = [_midnight_ms(p.start, zone) for p in periods]
    edges.append(_midnight_ms(periods[-1].end + timedelta(days=1), zone))
    return np.array(edges, dtype=np.int64)


def histogram_edges(window_days: int) -> list[int]:
    window = window_days * DAY_S
    return [e for e in HISTOGRAM_EDGES if e < window] + [window + 1]


def pack_entered(
    customers: Ints, levels: Ints, entries: Ints, lasts: Ints, *, ordered: bool = False
) -> bytes:
    """The entered customers of one result, ordered by (entry, customer) (`ordered`: they
    are already): four little-endian columns one after another (customer int64, entry ms
    int64, last step ms int64, level int8)."""
    order = slice(None) if ordered else np.lexsort((customers, entries))
    return b"".join(
        (
            customers[order].astype("<i8").tobytes(),
            entries[order].astype("<i8").tobytes(),
            lasts[order].astype("<i8").tobytes(),
            levels[order].astype("<i1").tobytes(),
        )
    )


def pack_seconds(per_stage: Sequence[npt.NDArray[Any]]) -> bytes:
    """Converters' seconds to convert of one result, per tracked stage after the first, each
    ascending already: the counts (uint32 each), then each stage's seconds (uint32,
    little-endian)."""
    counts = np.array([values.size for values in per_stage], dtype="<u4")
    return counts.tobytes() + b"".join(values.astype("<u4").tobytes() for values in per_stage)


def unpack_seconds(data: bytes, stages: int) -> list[Ints]:
    """pack_seconds' per-stage arrays (`stages`: the tracked stages after the first)."""
    if stages <= 0:
        return []
    if not data:
        return [np.zeros(0, dtype=np.int64) for _ in range(stages)]
    counts = np.frombuffer(data, dtype="<u4", count=stages)
    result = []
    offset = 4 * stages
    for count in counts.tolist():
        result.append(np.frombuffer(data, dtype="<u4", count=count, offset=offset).astype(np.int64))
        offset += 4 * count
    return result


def seconds_figures(seconds: Ints, bins: Ints) -> dict[str, Any]:
    """A stage's median and p90 seconds to convert and their histogram."""
    place = np.searchsorted(bins, seconds, side="right") - 1
    return {
        "median_seconds_to_convert": _percentile(seconds, 0.5),
        "p90_seconds_to_convert": _percentile(seconds, 0.9),
        "histogram": {
            "edges": bins.tolist(),
            "counts": np.bincount(place, minlength=bins.size - 1)[: bins.size - 1].tolist(),
        },
    }


@dataclass
class Entered:
    customers: Ints
    entries: Ints
    lasts: Ints
    levels: npt.NDArray[np.int8]

    @classmethod
    def unpack(cls, data: bytes) -> Entered:
        n = len(data) // 25
        return cls(
            np.frombuffer(data, dtype="<i8", count=n, offset=0).astype(np.int64),
            np.frombuffer(data, dtype="<i8", count=n, offset=8 * n).astype(np.int64),
            np.frombuffer(data, dtype="<i8", count=n, offset=16 * n).astype(np.int64),
            np.frombuffer(data, dtype="<i1", count=n, offset=24 * n),
        )


def _lookup(table: npt.NDArray[np.bool_], ids: npt.NDArray[np.int32]) -> npt.NDArray[np.bool_]:
    """table[ids], False for an id beyond the table (a name newer than the caller's list)."""
    inside = ids < table.size
    found = np.zeros(ids.size, dtype=bool)
    found[inside] = table[ids[inside]]
    return found


class _Sessions:
    """The sessions of every bucket, for the bounce rate of every family: per bucket, one row
    per run of a customer's session on one day, with its events and whether its first event is
    a page view (what matters only for a single event). A row is the same for every family (a
    period is whole days), so the bucket's events are grouped once, not once per family, and
    what is kept until the last bucket is 15 bytes a row, not a row per family. Nearly every
    session is one row; close() sums the rows of the others."""

    def __init__(self) -> None:
        self.parts: list[tuple[Ints, npt.NDArray[np.int32], npt.NDArray[np.int32], Bools]] = []

    def add(self, columns: blocks.Columns, days: Ints, day_count: int, pages: Bools) -> None:
        keep = (columns.sessions != 0) & (days >= 0) & (days < day_count)
        customers, sessions, day = columns.customers[keep], columns.sessions[keep], days[keep]
        if not sessions.size:
            return
        # Runs of one customer's session on one day: the events are in (customer, time) order.
        run = np.ones(sessions.size, dtype=bool)
        run[1:] = (
            (customers[1:] != customers[:-1])
            | (sessions[1:] != sessions[:-1])
            | (day[1:] != day[:-1])
        )
        at = np.flatnonzero(run)
        # A session's runs (two customers, two days, interleaved) are summed at the end, with
        # those of other buckets: each run is kept as it is.
        self.parts.append(
            (
                sessions[at],
                day[at].astype(np.int16 if day_count < 2**15 else np.int32),
                np.diff(np.append(at, sessions.size)).astype(np.int32),
                _lookup(pages, columns.names[keep][at]),
            )
        )

    def close(self, grid: DayGrid, sizes: list[int]) -> list[Ints]:
        """Per family, (sessions, bounced) per period. A session with several rows (two days,
        two customers of a bucket or of two buckets, never linked) has them summed first."""
        figures = [np.zeros((size, 2), dtype=np.int64) for size in sizes]
        if not self.parts:
            return figures
        # The sessions with more than one row: found with one sorted copy of the session ids,
        # the other columns never gathered.
        every = np.concatenate([part[0] for part in self.parts])
        every.sort()
        repeated = np.unique(every[1:][every[1:] == every[:-1]])
        del every
        parts, self.parts = self.parts, []
        several: list[tuple[Ints, npt.NDArray[np.int32], npt.NDArray[np.int32], Bools]] = []
        while parts:  # each bucket's rows freed once counted
            sessions, day, counts, page = parts.pop()
            shared = np.zeros(sessions.size, dtype=bool)
            if repeated.size:
                at = np.minimum(np.searchsorted(repeated, sessions), repeated.size - 1)
                shared = repeated[at] == sessions
                several.append((sessions[shared], day[shared], counts[shared], page[shared]))
            # Alone: a session with one row is one session of its day's period in every family.
            alone = ~shared
            a_day, a_bounce = day[alone], (counts[alone] == 1) & page[alone]
            for table, bounce, size in zip(grid.tables, figures, sizes, strict=True):
                period = table[a_day]
                inside = period >= 0
                bounce[:, 0] += np.bincount(period[inside], minlength=size)
                bounce[:, 1] += np.bincount(period[inside & a_bounce], minlength=size)
        if not several:
            return figures
        # The others: by (session, day), each family's (session, period) groups are runs.
        m_sessions, m_day, m_counts, m_page = (
            np.concatenate([part[i] for part in several]) for i in range(4)
        )
        order = np.lexsort((m_day, m_sessions))
        m_sessions, m_day, m_counts, m_page = (
            m_sessions[order],
            m_day[order],
            m_counts[order],
            m_page[order],
        )
        for table, bounce, size in zip(grid.tables, figures, sizes, strict=True):
            period = table[m_day]
            inside = period >= 0
            if inside.any():
                p, s, c, pg = period[inside], m_sessions[inside], m_counts[inside], m_page[inside]
                first = np.ones(p.size, dtype=bool)
                first[1:] = (p[1:] != p[:-1]) | (s[1:] != s[:-1])
                at = np.flatnonzero(first)
                single_page = (np.add.reduceat(c, at) == 1) & pg[at]
                bounce[:, 0] += np.bincount(p[at], minlength=size)
                bounce[:, 1] += np.bincount(p[at][single_page], minlength=size)
        return figures


class _Family:
    """One family's figures, summed over the store's buckets. What must wait for the last
    bucket (the converters' seconds and the entered customers, which the results list) is
    kept in narrower types: 7 and 19 bytes a row instead of 24 and 40."""

    def __init__(self, periods: list[Period], stages: int, name_count: int) -> None:
        self.periods = periods
        size = len(periods)
        self.funnel = np.zeros((size, stages), dtype=np.int64)
        self.reached = np.zeros((size, stages), dtype=np.int64)
        self.names = np.zeros((size, name_count), dtype=np.int64)
        self.seconds: list[tuple[Ints, Ints, Ints]] = []
        self.entered: list[tuple[Ints, Ints, Ints, Ints, Ints]] = []
        self.bounce = np.zeros((size, 2), dtype=np.int64)  # sessions, bounced
        self.retention = np.zeros((size, 2), dtype=np.int64)  # first buyers, returned
        self.period_type = np.int16 if size < 2**15 else np.int32

    def add(self, part: FamilyFunnel) -> None:
        self.funnel += part.funnel
        self.reached += part.reached
        self.names += part.names
        if part.seconds.size:
            self.seconds.append(
                (
                    part.seconds_period.astype(self.period_type),
                    part.seconds_stage.astype(np.int8),
                    # At most the window: 32,767 days (the setting's limit) fit in 32 bits.
                    part.seconds.astype(np.uint32),
                )
            )
        if part.entered[0].size:
            period, customer, level, entry, last = part.entered
            # Customer ids and the last step's time after the entry (at most the window) in
            # 32 bits when they fit, as they do but in a store of 2 billion customers or a
            # window of over 49 days.
            after = last - entry
            self.entered.append(
                (
                    period.astype(self.period_type),
                    customer.astype(np.int32) if customer.max() < 2**31 else customer,
                    level.astype(np.int8),
                    entry,
                    after.astype(np.uint32) if after.max() < 2**32 else after,
                )
            )


def _join(parts: list[tuple[Ints, ...]], width: int) -> list[Ints]:
    if not parts:
        return [np.zeros(0, dtype=np.int64) for _ in range(width)]
    return [np.concatenate([p[i] for p in parts]) for i in range(width)]


def _percentile(values: Ints, share: float) -> float | None:
    """percentile_cont of ascending values: linear interpolation between the closest ranks,
    written as numpy's percentile (method "linear") computes it, to the last bit (a test holds
    them equal), without its cost per call (results have hundreds of small arrays)."""
    if not values.size:
        return None
    size = values.size
    q = share * 100 / 100  # numpy takes percents and divides them
    position = (size - 1) * q  # its virtual index
    if position >= size - 1:
        return float(values[-1])
    if position < 0:
        return float(values[0])
    below = int(np.floor(position))
    a, b = float(values[below]), float(values[below + 1])
    t = position - below
    difference = b - a
    return b - difference * (1 - t) if t >= 0.5 else a + difference * t


def day_grid(families: list[list[Period]], edges: list[Ints], zone: ZoneInfo) -> DayGrid:
    """Every day from the first family's first day to the last one's last, in the store's time
    zone: the periods are whole days."""
    first = min(f[0].start for f in families)
    last = max(f[-1].end for f in families)
    days = [first + timedelta(days=i) for i in range((last - first).days + 2)]
    return DayGrid.of(np.array([_midnight_ms(d, zone) for d in days], dtype=np.int64), edges)


def families_compute(
    *,
    store: Store,
    mapping: Mapping,
    families: list[list[Period]],
    window_days: int,
    retention_days: int,
    now: datetime,
    progress: Any = None,
    buckets: Iterable[blocks.Columns] | None = None,
) -> list[FunnelResult]:
    """Unsaved results, one per period of each family: the funnel, and the period's bounce
    rate and repeat-purchase retention (definitions: metrics/store_metrics.py, which computes
    them for one period and which a test holds these to). `progress(done, total)` after
    each bucket. `buckets`: events to read instead of the store's compact form, each sorted
    by (customer, time) and holding all of its customers' events (the incremental
    recompute's few customers)."""
    zone = ZoneInfo(store.time_zone or "UTC")
    edges = [boundaries(f, zone) for f in families]
    grid = day_grid(families, edges, zone)
    day_count = grid.edges.size - 1
    count = len(mapping.tracked)
    totals = [_Family(f, count, mapping.name_count) for f in families]
    sessions = _Sessions()
    window = window_days * DAY_S * 1000
    events_read = 0
    pages = np.zeros(mapping.name_count, dtype=bool)
    pages[[mapping.name_ids[n] for n in PAGE_VIEWS if n in mapping.name_ids]] = True
    buyers, first_bought = _first_buyers(mapping)
    returned: list[Ints] = []
    if buckets is None:
        buckets = blocks.store_buckets(store_id=store.pk)
    for done, columns in enumerate(buckets, start=1):
        events_read += len(columns)
        if len(columns):
            days = grid.days(columns.times)
            sessions.add(columns, days, day_count, pages)
            returned.append(_returned(columns, mapping, buyers, first_bought, retention_days))
            parts = funnel_families(
                Events(columns.customers, columns.times, columns.names),
                mapping.tracked,
                families=edges,
                window=window,
                name_count=mapping.name_count,
                repeat=mapping.repeat,
                grid=grid,
                days=days,
            )
            for family, part in zip(totals, parts, strict=True):
                family.add(part)
            del columns, days, parts  # before the next bucket is read
        if progress is not None:
            progress(done, blocks.BUCKETS)
    bounce = sessions.close(grid, [len(f) for f in families])
    came_back = np.isin(buyers, np.concatenate(returned)) if returned else buyers < 0
    for family, family_edges, family_bounce in zip(totals, edges, bounce, strict=True):
        family.bounce = family_bounce
        period = period_of(first_bought, family_edges)
        size = len(family.periods)
        inside = period >= 0
        family.retention[:, 0] = np.bincount(period[inside], minlength=size)
        family.retention[:, 1] = np.bincount(period[inside & came_back], minlength=size)
    results = []
    for family, family_edges in zip(totals, edges, strict=True):
        results += _family_results(
            store, mapping, family, family_edges, window_days, retention_days, now, events_read
        )
        family.seconds, family.entered = [], []  # packed into the results now
    return results


def _first_buyers(mapping: Mapping) -> tuple[Ints, Ints]:
    """Customers with a first purchase ever, ascending, and its time (ms)."""
    first = mapping.repeat.first_purchase if mapping.repeat is not None else {}
    buyers = np.fromiter(sorted(first), dtype=np.int64, count=len(first))
    return buyers, np.array([first[int(c)] for c in buyers], dtype=np.int64)


def _returned(
    columns: blocks.Columns, mapping: Mapping, buyers: Ints, first: Ints, days: int
) -> Ints:
    """Buyers of the bucket who purchase again, strictly after their first purchase ever and
    within `days` of it (wherever the later purchase falls)."""
    if mapping.repeat is None or not buyers.size:
        return np.zeros(0, dtype=np.int64)
    bought = columns.names == mapping.repeat.purchase
    customers, times = columns.customers[bought], columns.times[bought]
    where = np.minimum(np.searchsorted(buyers, customers), buyers.size - 1)
    again = (
        (buyers[where] == customers)
        & (times > first[where])
        & (times <= first[where] + days * DAY_S * 1000)
    )
    result: Ints = np.unique(customers[again])
    return result


def _family_results(
    store: Store,
    mapping: Mapping,
    family: _Family,
    edges: Ints,
    window_days: int,
    retention_days: int,
    now: datetime,
    events_read: int,
) -> list[FunnelResult]:
    names_of = mapping.names_by_id()
    bins = np.array(histogram_edges(window_days), dtype=np.int64)
    s_period, s_stage, seconds = _join(family.seconds, 3)  # type: ignore[arg-type]
    order = np.lexsort((seconds, s_stage, s_period))
    s_period, s_stage, seconds = s_period[order], s_stage[order], seconds[order]
    e_period, e_customer, e_level, e_entry, e_after = _join(family.entered, 5)  # type: ignore[arg-type]
    counted_ids = [
        i
        for i in mapping.mapped_ids
        # A repeat purchase is a purchase: count it once, under purchase when that is mapped.
        if not (
            mapping.repeat is not None
            and i == mapping.repeat.repeat
            and mapping.repeat.purchase in mapping.mapped_ids
        )
    ]
    results = []
    for p, period in enumerate(family.periods):
        in_p = slice(*np.searchsorted(s_period, [p, p + 1]))
        p_stage, p_seconds = s_stage[in_p], seconds[in_p]
        stages: list[dict[str, Any]] = []
        per_stage: list[Ints] = []
        k = 0
        for stage in mapping.stages:
            figures: dict[str, Any] = {
                "id": stage.id,
                "moment": stage.moment,
                "name": stage.name,
                "event_names": stage.event_names,
                "tracked": stage.tracked,
                "reached": None,
                "funnel": None,
                "median_seconds_to_convert": None,
                "p90_seconds_to_convert": None,
                "histogram": None,
            }
            if stage.tracked:
                figures["reached"] = int(family.reached[p, k])
                figures["funnel"] = int(family.funnel[p, k])
                if k > 0:
                    stage_seconds = p_seconds[slice(*np.searchsorted(p_stage, [k, k + 1]))]
                    figures.update(seconds_figures(stage_seconds, bins))
                    per_stage.append(stage_seconds)
                k += 1
            stages.append(figures)
        mine = e_period == p
        end_ms = int(edges[p + 1])
        results.append(
            FunnelResult(
                store=store,
                journey_id=mapping.journey_id,
                kind=period.kind,
                start=period.start,
                end=period.end,
                window_days=window_days,
                complete=datetime.fromtimestamp(end_ms / 1000, tz=UTC) + timedelta(days=window_days)
                <= now,
                computed_at=now,
                events_counted=int(family.names[p, counted_ids].sum()) if counted_ids else 0,
                events_read=events_read,
                stages=stages,
                names={
                    names_of[int(i)]: int(family.names[p, i])
                    for i in np.flatnonzero(family.names[p])
                    if int(i) in names_of
                },
                entered=pack_entered(
                    e_customer[mine],
                    e_level[mine],
                    e_entry[mine],
                    e_entry[mine] + e_after[mine].astype(np.int64),
                ),
                seconds=pack_seconds(per_stage),
                sessions=int(family.bounce[p, 0]),
                bounced=int(family.bounce[p, 1]),
                first_buyers=int(family.retention[p, 0]),
                returned=int(family.retention[p, 1]),
                retention_days=retention_days,
            )
        )
    return results
