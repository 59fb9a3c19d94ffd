"""The moment-of-truth funnel, computed from a store's events as arrays (numpy), and the plain
implementation of the same definition that the fast one is checked against.

Definitions (../shared/docs/domain.md, pinned down by the metrics issue):
- The tracked stages, in journey order, each a set of event-name ids; `repeat_purchase` is
  derived: a `purchase` strictly after the customer's first purchase ever also counts as one.
- A customer's entries are their events of the first tracked stage inside the period
  [start, end] (instants, both included: the caller turns days into instants). From an entry
  the customer advances to the next stage on the earliest event of that stage at or after the
  previous step's time and no later than entry + window. One event serves at most one step (a
  repeat purchase is the same event as its purchase); two events at the same instant may
  serve consecutive steps; steps may fall after the period's end.
- A customer's level is the furthest any entry reaches; funnel[k] counts customers whose level
  reaches stage k. reached[k] counts customers with any stage-k event inside the period.
- Time to convert at stage k (k > 0), over converters, on each one's furthest attempt (the
  earliest such entry on ties), in whole seconds.

Times are integers in milliseconds (an instant's microseconds are dropped: two events in the
same millisecond are at the same instant).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import numpy.typing as npt

Ints = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Events:
    """A store's events sorted by (customer, time): customer ids, times (ms) and name ids."""

    customers: Ints
    times: Ints
    names: npt.NDArray[np.int32]

    @classmethod
    def from_rows(cls, rows: Sequence[tuple[int, int, int]]) -> Events:
        """(customer, time ms, name id) rows in any order."""
        if not rows:
            empty = np.zeros(0, dtype=np.int64)
            return cls(empty, empty.copy(), np.zeros(0, dtype=np.int32))
        data = np.array(rows, dtype=np.int64)
        order = np.lexsort((data[:, 1], data[:, 0]))
        data = data[order]
        return cls(data[:, 0].copy(), data[:, 1].copy(), data[:, 2].astype(np.int32))


@dataclass(frozen=True)
class Repeat:
    """How `repeat_purchase` is derived: the purchase name's id, the id standing for
    repeat_purchase in the stages' name sets, and each customer's first purchase ever (ms)."""

    purchase: int
    repeat: int
    first_purchase: dict[int, int]

    @cached_property
    def buyers(self) -> tuple[Ints, Ints]:
        """The customers with a first purchase, ascending, and its time: made once, not once
        per bucket (a store has as many as it has buyers)."""
        ids = np.fromiter(self.first_purchase, dtype=np.int64, count=len(self.first_purchase))
        values = np.fromiter(
            self.first_purchase.values(), dtype=np.int64, count=len(self.first_purchase)
        )
        order = np.argsort(ids)
        return ids[order], values[order]


@dataclass
class Funnel:
    funnel: list[int]
    reached: list[int]
    # Per stage (index 0 empty): converters' seconds from the previous stage, ascending.
    seconds_to_convert: list[list[int]]
    # Per entered customer: (level, entry time ms, last step time ms) of the furthest attempt.
    customers: dict[int, tuple[int, int, int]] = field(default_factory=dict)


def repeat_mask(events: Events, repeat: Repeat | None) -> npt.NDArray[np.bool_] | None:
    """The events that are repeat purchases: purchases strictly after the customer's first."""
    if repeat is None:
        return None
    ids, values = repeat.buyers
    mask = np.zeros(events.customers.size, dtype=bool)
    purchases = np.flatnonzero(events.names == repeat.purchase)
    if ids.size and purchases.size:
        customers = events.customers[purchases]
        position = np.minimum(np.searchsorted(ids, customers), ids.size - 1)
        known = ids[position] == customers
        mask[purchases] = known & (events.times[purchases] > values[position])
    return mask


def stage_masks(
    events: Events,
    stages: Sequence[frozenset[int]],
    repeat: Repeat | None,
    repeats: npt.NDArray[np.bool_] | None = None,
) -> list:
    """Per stage, which events belong to it (`repeats`: repeat_mask's, when made already)."""
    if repeat is not None and any(repeat.repeat in s for s in stages):
        if repeats is None:
            repeats = repeat_mask(events, repeat)
    else:
        repeats = None
    masks = []
    size = (
        max(
            int(events.names.max()) if events.names.size else 0,
            *(max(s, default=0) for s in stages),
        )
        + 1
    )
    for names in stages:
        table = np.zeros(size, dtype=bool)  # name id → in this stage: one lookup per event
        table[list(names)] = True
        mask = table[events.names]
        if repeats is not None and repeat is not None and repeat.repeat in names:
            mask |= repeats
        masks.append(mask)
    return masks


def _distinct_sorted(values: Ints) -> int:
    """Distinct values of a sorted array."""
    if values.size == 0:
        return 0
    return int(np.count_nonzero(values[1:] != values[:-1])) + 1


@dataclass
class Progress:
    """Every entry's way through the stages: the entry's customer and time, how many stages it
    reached (1 = the entry's own) and the time of each step (-1 where not reached; one row per
    stage). Entries are in (customer, time) order."""

    customers: Ints
    times: Ints
    steps: Ints
    step_times: Ints


def _ranked_keys(events: Events) -> Ints:
    """One sortable key per event: the customer's rank (events are sorted by customer), then
    the time."""
    n = len(events.customers)
    ranks = np.zeros(n, dtype=np.int64)
    np.cumsum(events.customers[1:] != events.customers[:-1], out=ranks[1:])
    t0 = int(events.times.min())
    span_bits = max(int(events.times.max()) - t0, 1).bit_length() + 1
    if span_bits + int(ranks.max()).bit_length() > 62:
        raise OverflowError("too many customers over too long a time for 64-bit keys")
    keys: Ints = (ranks << span_bits) | (events.times - t0)
    return keys


def _advance(events: Events, masks: list, entry: Ints, window: int) -> Progress:
    """From each entry (rows of the first stage's events), the earliest event of each next
    stage at or after the previous step and no later than entry + window: per stage one binary
    search for every live entry at once."""
    count = len(masks)
    keys = _ranked_keys(events)
    rows = np.arange(len(events.customers), dtype=np.int64)
    stage_rows = [rows[mask] for mask in masks]  # still sorted by key
    deadline = events.times[entry] + window
    used = [entry]  # per step, the event each entry used
    current = entry
    alive = np.ones(entry.size, dtype=bool)
    steps = np.ones(entry.size, dtype=np.int64)
    step_times = np.full((count, entry.size), -1, dtype=np.int64)
    step_times[0] = events.times[entry]
    for k in range(1, count):
        candidates = stage_rows[k]
        if candidates.size == 0:
            break
        stage_keys = keys[candidates]
        position = np.searchsorted(stage_keys, keys[current], side="left")
        # Skip an event this entry has used already (the same instant: a repeat purchase
        # that is also the previous step's purchase); at most one per earlier step.
        for _ in range(k):
            inside = position < candidates.size
            row = np.where(inside, candidates[np.minimum(position, candidates.size - 1)], -1)
            taken = np.zeros(entry.size, dtype=bool)
            for earlier in used:
                taken |= inside & (row == earlier)
            if not taken.any():
                break
            position = position + taken
        inside = position < candidates.size
        row = np.where(inside, candidates[np.minimum(position, candidates.size - 1)], 0)
        ok = (
            alive
            & inside
            & (events.customers[row] == events.customers[entry])
            & (events.times[row] <= deadline)
        )
        alive = ok
        steps += ok
        current = np.where(ok, row, current)
        used.append(np.where(ok, row, -1))
        step_times[k] = np.where(ok, events.times[row], -1)
        if not alive.any():
            break
    return Progress(events.customers[entry], events.times[entry], steps, step_times)


def best_attempts(progress: Progress, group: Ints | None = None) -> Ints:
    """The index of each group's furthest attempt (most steps, then the earliest entry). The
    groups are the customers, or (customer, period) when `group` numbers the entries' periods;
    entries are in (customer, time) order, so each group is one run."""
    size = progress.customers.size
    starts = np.ones(size, dtype=bool)
    starts[1:] = progress.customers[1:] != progress.customers[:-1]
    if group is not None:
        starts[1:] |= group[1:] != group[:-1]
    segment = np.cumsum(starts) - 1
    most = np.maximum.reduceat(progress.steps, np.flatnonzero(starts))
    candidates = np.flatnonzero(progress.steps == most[segment])
    first_of_segment = np.ones(candidates.size, dtype=bool)
    first_of_segment[1:] = segment[candidates][1:] != segment[candidates][:-1]
    best: Ints = candidates[first_of_segment]
    return best


def distinct_runs(customers: Ints, group: Ints | None = None) -> npt.NDArray[np.bool_]:
    """Marks the first row of each run of equal customer (and group): on rows sorted by
    (customer, time) with a group that never decreases within a customer, one mark per
    distinct (customer, group)."""
    first = np.ones(customers.size, dtype=bool)
    first[1:] = customers[1:] != customers[:-1]
    if group is not None:
        first[1:] |= group[1:] != group[:-1]
    return first


def funnel_fast(
    events: Events,
    stages: Sequence[frozenset[int]],
    *,
    start: int,
    end: int,
    window: int,
    repeat: Repeat | None = None,
    details: bool = True,
) -> Funnel:
    """The funnel over arrays. `details`: also each entered customer's level, entry and last
    step (the customers list)."""
    count = len(stages)
    result = Funnel([0] * count, [0] * count, [[] for _ in range(count)])
    n = len(events.customers)
    if n == 0 or count == 0:
        return result
    masks = stage_masks(events, stages, repeat)
    in_period = (events.times >= start) & (events.times <= end)
    for k, mask in enumerate(masks):
        result.reached[k] = _distinct_sorted(events.customers[mask & in_period])
    entry = np.flatnonzero(masks[0] & in_period)
    if entry.size == 0:
        return result
    progress = _advance(events, masks, entry, window)
    best = best_attempts(progress)
    levels = progress.steps[best]
    for k in range(count):
        result.funnel[k] = int((levels >= k + 1).sum())
    for k in range(1, count):
        converted = best[levels >= k + 1]
        seconds = (
            progress.step_times[k][converted] - progress.step_times[k - 1][converted]
        ) // 1000
        result.seconds_to_convert[k] = sorted(int(s) for s in seconds)
    if details:
        last = progress.step_times[levels - 1, best]
        result.customers = {
            int(c): (int(level), int(t), int(lt))
            for c, level, t, lt in zip(
                progress.customers[best], levels, progress.times[best], last, strict=True
            )
        }
    return result


@dataclass
class FamilyFunnel:
    """The funnel of a family of disjoint periods (the ISO weeks of a year, its months, or one
    rolling period), for one customer bucket: per period, per stage."""

    funnel: Ints  # (periods, stages)
    reached: Ints  # (periods, stages)
    names: Ints  # (periods, name ids): events per name inside the period
    # Converters' seconds from the previous stage: one row per (period, stage, customer).
    seconds_period: Ints
    seconds_stage: Ints
    seconds: Ints
    # Each entered customer's furthest attempt: period, customer, level, entry ms, last ms.
    entered: tuple[Ints, Ints, Ints, Ints, Ints]


def period_of(times: Ints, boundaries: Ints) -> Ints:
    """The period each time falls in (boundaries[p] <= t < boundaries[p + 1]), -1 outside."""
    index = np.searchsorted(boundaries, times, side="right") - 1
    index[(index < 0) | (index >= boundaries.size - 1)] = -1
    result: Ints = index.astype(np.int64)
    return result


@dataclass(frozen=True)
class DayGrid:
    """Families whose boundaries all fall on one grid of days (midnights): an event's day is
    found once, by one binary search over the grid, and each family's period from it by a
    lookup, instead of a binary search over every family's boundaries."""

    edges: Ints  # the first ms of each day, then the first ms after the last day
    tables: list[Ints]  # per family: each day's period (-1 outside), then -1

    @classmethod
    def of(cls, edges: Ints, families: Sequence[Ints]) -> DayGrid:
        tables = []
        for boundaries in families:
            if not np.isin(boundaries, edges).all():
                raise ValueError("a family's boundary is not on the grid")
            table = np.full(edges.size, -1, dtype=np.int64)
            table[:-1] = period_of(edges[:-1], boundaries)
            tables.append(table)
        return cls(edges, tables)

    def days(self, times: Ints) -> Ints:
        """Each time's day: -1 before the grid, edges.size - 1 after it (both look up -1)."""
        day: Ints = np.searchsorted(self.edges, times, side="right") - 1
        return day


def _period_counts(
    events: Events,
    masks: list,
    repeats: npt.NDArray[np.bool_] | None,
    name_count: int,
    period: Ints,
    periods: int,
    count: int,
) -> tuple[Ints, Ints]:
    """Per period: events per name, and customers with an event of each of `count` stages
    (none without events: `masks` is empty)."""
    inside = period >= 0
    known = inside & (events.names < name_count - 1)  # a name newer than the caller's list
    names: Ints = np.bincount(
        period[known] * name_count + events.names[known], minlength=periods * name_count
    ).reshape(periods, name_count)
    if repeats is not None:
        names[:, name_count - 1] += np.bincount(period[repeats & inside], minlength=periods)
    reached = np.zeros((periods, count), dtype=np.int64)
    for k, mask in enumerate(masks):
        rows = np.flatnonzero(mask & inside)
        first = distinct_runs(events.customers[rows], period[rows])
        reached[:, k] = np.bincount(period[rows][first], minlength=periods)
    return names, reached


@dataclass
class _DayCounts:
    """What _period_counts needs, per day instead of per period, made once for every family:
    events per (day, name), and each stage's distinct (customer, day). A family's periods
    are whole days, so its counts come from these without reading the events again."""

    names: Ints  # (days, name ids)
    stage_days: list[tuple[Ints, Ints]]  # per stage: customers, days (sorted by customer)

    @classmethod
    def of(
        cls,
        events: Events,
        masks: list,
        repeats: npt.NDArray[np.bool_] | None,
        name_count: int,
        grid: DayGrid,
        days: Ints,
    ) -> _DayCounts:
        day_count = grid.edges.size - 1
        on_grid = (days >= 0) & (days < day_count)
        known = on_grid & (events.names < name_count - 1)
        names: Ints = np.bincount(
            days[known] * name_count + events.names[known], minlength=day_count * name_count
        ).reshape(day_count, name_count)
        if repeats is not None:
            names[:, name_count - 1] += np.bincount(days[repeats & on_grid], minlength=day_count)
        stage_days = []
        for mask in masks:
            rows = np.flatnonzero(mask & on_grid)
            customers, day = events.customers[rows], days[rows]
            first = distinct_runs(customers, day)
            stage_days.append((customers[first], day[first]))
        return cls(names, stage_days)

    def family(self, table: Ints, periods: int, count: int) -> tuple[Ints, Ints]:
        """The family's (names, reached) per period, as _period_counts gives them; `table`:
        each day's period (DayGrid.tables)."""
        day_period = table[: self.names.shape[0]]
        on = np.flatnonzero(day_period >= 0)
        names = np.zeros((periods, self.names.shape[1]), dtype=np.int64)
        np.add.at(names, day_period[on], self.names[on])
        reached = np.zeros((periods, count), dtype=np.int64)
        for k, (customers, day) in enumerate(self.stage_days):
            period = table[day]
            inside = period >= 0
            customers, period = customers[inside], period[inside]
            first = distinct_runs(customers, period)
            reached[:, k] = np.bincount(period[first], minlength=periods)
        return names, reached


def funnel_families(
    events: Events,
    stages: Sequence[frozenset[int]],
    *,
    families: Sequence[Ints],
    window: int,
    name_count: int,
    repeat: Repeat | None = None,
    grid: DayGrid | None = None,
    days: Ints | None = None,
) -> list[FamilyFunnel]:
    """The funnels of several families of periods in one pass over a bucket's events: each
    family is an ascending array of boundaries (ms; period p is [b[p], b[p + 1])). An entry's
    way through the stages does not depend on the period, so every entry inside any period is
    advanced once; each family then keeps, per (customer, period), the furthest attempt.
    With `grid` (built for these families) and `days` (grid.days of the events' times), the
    periods are looked up by day. Equal, period by period, to funnel_fast (a test holds
    them to it)."""
    count = len(stages)
    results = []
    # Repeat purchases are counted under the last name id (the caller's repeat id).
    repeats = repeat_mask(events, repeat) if repeat and repeat.repeat == name_count - 1 else None
    masks = stage_masks(events, stages, repeat, repeats) if len(events.customers) and count else []
    entry = np.zeros(0, dtype=np.int64)
    progress = None
    if masks:
        lowest = min(int(b[0]) for b in families)
        highest = max(int(b[-1]) for b in families)
        entry = np.flatnonzero(masks[0] & (events.times >= lowest) & (events.times < highest))
        if entry.size:
            progress = _advance(events, masks, entry, window)
    empty = np.zeros(0, dtype=np.int64)
    by_day = None
    entry_days = empty
    if grid is not None and days is not None:
        by_day = _DayCounts.of(events, masks, repeats, name_count, grid, days)
        entry_days = days[entry]
    for f, boundaries in enumerate(families):
        periods = boundaries.size - 1
        funnel = np.zeros((periods, count), dtype=np.int64)
        if by_day is not None and grid is not None:
            names, reached = by_day.family(grid.tables[f], periods, count)
            entry_period = grid.tables[f][entry_days]
        else:
            period = period_of(events.times, boundaries)
            names, reached = _period_counts(
                events, masks, repeats, name_count, period, periods, count
            )
            entry_period = period[entry]
        parts: dict[str, list[Ints]] = {"p": [], "k": [], "s": []}
        entered = (empty, empty, empty, empty, empty)
        if progress is not None:
            keep = np.flatnonzero(entry_period >= 0)
            sub = Progress(
                progress.customers[keep],
                progress.times[keep],
                progress.steps[keep],
                progress.step_times[:, keep],
            )
            if keep.size:
                sub_period = entry_period[keep]
                best = best_attempts(sub, sub_period)
                levels = sub.steps[best]
                best_period = sub_period[best]
                for k in range(count):
                    funnel[:, k] = np.bincount(best_period[levels >= k + 1], minlength=periods)
                for k in range(1, count):
                    converted = best[levels >= k + 1]
                    parts["p"].append(sub_period[converted])
                    parts["k"].append(np.full(converted.size, k, dtype=np.int64))
                    parts["s"].append(
                        (sub.step_times[k][converted] - sub.step_times[k - 1][converted]) // 1000
                    )
                last = sub.step_times[levels - 1, best]
                entered = (best_period, sub.customers[best], levels, sub.times[best], last)
        results.append(
            FamilyFunnel(
                funnel,
                reached,
                names,
                np.concatenate(parts["p"]) if parts["p"] else empty,
                np.concatenate(parts["k"]) if parts["k"] else empty,
                np.concatenate(parts["s"]) if parts["s"] else empty,
                entered,
            )
        )
    return results


def funnel_plain(
    timelines: dict[int, list[tuple[int, int]]],
    stages: Sequence[frozenset[int]],
    *,
    start: int,
    end: int,
    window: int,
    repeat: Repeat | None = None,
) -> Funnel:
    """The definition, written plainly: customer by customer, entry by entry, step by step.
    `timelines`: customer → [(time ms, name id)]."""
    count = len(stages)
    result = Funnel([0] * count, [0] * count, [[] for _ in range(count)])
    for customer, raw in timelines.items():
        events = sorted(raw)
        first_purchase = repeat.first_purchase.get(customer) if repeat else None

        def in_stage(
            k: int, time: int, name: int, first_purchase: int | None = first_purchase
        ) -> bool:
            if name in stages[k]:
                return True
            return (
                repeat is not None
                and repeat.repeat in stages[k]
                and name == repeat.purchase
                and first_purchase is not None
                and time > first_purchase
            )

        for k in range(count):
            if any(start <= t <= end and in_stage(k, t, n) for t, n in events):
                result.reached[k] += 1
        best: tuple[int, int, list[int]] | None = None  # (steps, entry time, step times)
        for i, (entry_time, name) in enumerate(events):
            if not (start <= entry_time <= end and in_stage(0, entry_time, name)):
                continue
            used = {i}
            times = [entry_time]
            for k in range(1, count):
                step = next(
                    (
                        j
                        for j, (t, n) in enumerate(events)
                        if j not in used
                        and t >= times[-1]
                        and t <= entry_time + window
                        and in_stage(k, t, n)
                    ),
                    None,
                )
                if step is None:
                    break
                used.add(step)
                times.append(events[step][0])
            if (
                best is None
                or len(times) > best[0]
                or (len(times) == best[0] and entry_time < best[1])
            ):
                best = (len(times), entry_time, times)
        if best is None:
            continue
        level, entry_time, times = best
        result.customers[customer] = (level, entry_time, times[-1])
        for k in range(level):
            result.funnel[k] += 1
        for k in range(1, level):
            result.seconds_to_convert[k].append((times[k] - times[k - 1]) // 1000)
    for seconds in result.seconds_to_convert:
        seconds.sort()
    return result
