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


@dataclass
class Funnel:
    funnel: list[int]
    reached: list[int]
    # Per stage (index 0 empty): converters' seconds from the previous stage, ascending.
    seconds_to_convert: list[list[int]]
    # Per entered customer: (level, entry time ms, last step time ms) of the furthest attempt.
    customers: dict[int, tuple[int, int, int]] = field(default_factory=dict)


def _stage_masks(events: Events, stages: Sequence[frozenset[int]], repeat: Repeat | None) -> list:
    repeat_mask = None
    if repeat is not None and any(repeat.repeat in s for s in stages):
        ids = np.fromiter(repeat.first_purchase, dtype=np.int64, count=len(repeat.first_purchase))
        values = np.fromiter(
            repeat.first_purchase.values(), dtype=np.int64, count=len(repeat.first_purchase)
        )
        order = np.argsort(ids)
        ids, values = ids[order], values[order]
        position = np.minimum(np.searchsorted(ids, events.customers), max(ids.size - 1, 0))
        known = (ids.size > 0) & (ids[position] == events.customers) if ids.size else None
        first = (
            np.where(known, values[position], np.iinfo(np.int64).max)
            if known is not None
            else np.full(events.customers.size, np.iinfo(np.int64).max, dtype=np.int64)
        )
        repeat_mask = (events.names == repeat.purchase) & (events.times > first)
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
        if repeat_mask is not None and repeat is not None and repeat.repeat in names:
            mask |= repeat_mask
        masks.append(mask)
    return masks


def _distinct_sorted(values: Ints) -> int:
    """Distinct values of a sorted array."""
    if values.size == 0:
        return 0
    return int(np.count_nonzero(values[1:] != values[:-1])) + 1


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
    """The funnel over arrays: per stage one binary search for every live entry at once.
    `details`: also each entered customer's level, entry and last step (the customers list)."""
    count = len(stages)
    result = Funnel([0] * count, [0] * count, [[] for _ in range(count)])
    n = len(events.customers)
    if n == 0 or count == 0:
        return result
    masks = _stage_masks(events, stages, repeat)
    in_period = (events.times >= start) & (events.times <= end)
    for k, mask in enumerate(masks):
        result.reached[k] = _distinct_sorted(events.customers[mask & in_period])
    # One sortable key per event: the customer's rank (events are sorted by customer), then
    # the time.
    ranks = np.zeros(n, dtype=np.int64)
    np.cumsum(events.customers[1:] != events.customers[:-1], out=ranks[1:])
    t0 = int(events.times.min())
    span_bits = max(int(events.times.max()) - t0, 1).bit_length() + 1
    if span_bits + int(ranks.max()).bit_length() > 62:
        raise OverflowError("too many customers over too long a time for 64-bit keys")
    keys = (ranks << span_bits) | (events.times - t0)
    rows = np.arange(n, dtype=np.int64)
    stage_rows = [rows[mask] for mask in masks]  # still sorted by key
    entry = stage_rows[0][in_period[stage_rows[0]]]
    if entry.size == 0:
        return result
    deadline = events.times[entry] + window
    used = [entry]  # per step, the event each entry used
    current = entry
    alive = np.ones(entry.size, dtype=bool)
    steps = np.ones(entry.size, dtype=np.int64)
    step_times = [events.times[entry]]
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
        step_times.append(np.where(ok, events.times[row], -1))
        if not alive.any():
            break
    while len(step_times) < count:
        step_times.append(np.full(entry.size, -1, dtype=np.int64))
    # Each customer's furthest attempt: most steps, then the earliest entry. Entries are in
    # (customer, time) order, so each customer's are one segment.
    entry_customers = events.customers[entry]
    entry_times = events.times[entry]
    starts = np.ones(entry.size, dtype=bool)
    starts[1:] = entry_customers[1:] != entry_customers[:-1]
    segment = np.cumsum(starts) - 1
    most = np.maximum.reduceat(steps, np.flatnonzero(starts))
    candidates = np.flatnonzero(steps == most[segment])
    first_of_segment = np.ones(candidates.size, dtype=bool)
    first_of_segment[1:] = segment[candidates][1:] != segment[candidates][:-1]
    best = candidates[first_of_segment]
    levels = steps[best]
    for k in range(count):
        result.funnel[k] = int((levels >= k + 1).sum())
    for k in range(1, count):
        converted = best[levels >= k + 1]
        seconds = (step_times[k][converted] - step_times[k - 1][converted]) // 1000
        result.seconds_to_convert[k] = sorted(int(s) for s in seconds)
    if details:
        last = np.stack(step_times)[levels - 1, best]
        result.customers = {
            int(c): (int(level), int(t), int(lt))
            for c, level, t, lt in zip(
                entry_customers[best], levels, entry_times[best], last, strict=True
            )
        }
    return result


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
