"""The compact form (events/blocks.py) always holds exactly what the raw rows hold."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest
from django.db import connection, transaction
from hypothesis import given, settings
from hypothesis import strategies as st

from events import blocks, partitions
from events.ingest import EventIn
from events.models import Customer, EventBlock, EventSource
from events.purges import customers_erase
from events.services import customer_identify, events_ingest

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 1, 10, 9, 0, tzinfo=UTC)


def raw(store: Any) -> list[tuple[int, int, int]]:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT customer_id, {blocks.EPOCH_MS_SQL}, event_name_id FROM events_event "
            "WHERE store_id = %s",
            [store.pk],
        )
        return sorted(cursor.fetchall())


def compact(store: Any) -> list[tuple[int, int, int]]:
    rows = []
    for columns in blocks.store_buckets(store_id=store.pk):
        order = np.lexsort((columns.times, columns.customers))
        assert (order == np.arange(len(columns))).all()  # each bucket comes sorted
        assert (
            (columns.customers % blocks.BUCKETS == columns.customers[0] % blocks.BUCKETS).all()
            if len(columns)
            else True
        )
        rows += zip(
            columns.customers.tolist(), columns.times.tolist(), columns.names.tolist(), strict=True
        )
    return sorted(rows)


def batch(start: int, count: int, *, anonymous: bool = False, prefix: str = "e") -> list[EventIn]:
    return [
        EventIn(
            i,
            f"{prefix}{start + i}",
            ["page_view", "purchase", "delivered"][(start + i) % 3],
            f"{'a' if anonymous else 'c'}{(start + i) % 37}",
            anonymous,
            T0 + timedelta(hours=start + i),
            f"s{(start + i) // 5}",
        )
        for i in range(count)
    ]


def test_deltas_and_compacted_buckets_hold_the_raw_events(store: Any, now: datetime) -> None:
    for start in range(0, 300, 60):
        events_ingest(store=store, items=batch(start, 60), source=EventSource.API)
    assert EventBlock.objects.filter(store=store, bucket=blocks.DELTA).count() == 5
    assert compact(store) == raw(store)
    assert len(raw(store)) == 300
    assert blocks.blocks_compact(store_id=store.pk) == 5
    assert not EventBlock.objects.filter(store=store, bucket=blocks.DELTA).exists()
    assert compact(store) == raw(store)
    # More batches and compactions: a bucket never keeps more than a few blocks.
    for round_ in range(12):
        events_ingest(store=store, items=batch(1000 + 10 * round_, 10), source=EventSource.API)
        blocks.blocks_compact(store_id=store.pk)
    assert compact(store) == raw(store)
    per_bucket = EventBlock.objects.filter(store=store).values_list("bucket", flat=True)
    assert max(list(per_bucket).count(b) for b in set(per_bucket)) <= blocks.MAX_BLOCKS_PER_BUCKET
    session = blocks.Columns.concat(list(blocks.store_buckets(store_id=store.pk))).sessions
    assert (session != 0).all()


def test_identify_moves_the_anonymous_ids_events_in_the_compact_form_too(
    store: Any, now: datetime
) -> None:
    events_ingest(store=store, items=batch(0, 20, anonymous=True), source=EventSource.API)
    blocks.blocks_compact(store_id=store.pk)
    customer = customer_identify(store=store, anonymous_id="a3", customer_key="C-3")
    assert compact(store) == raw(store)
    anonymous = Customer.objects.get(store=store, key="a3", is_anonymous=True)
    ids = {c for c, _t, _n in compact(store)}
    assert customer.pk in ids and anonymous.pk not in ids
    blocks.blocks_compact(store_id=store.pk)
    assert compact(store) == raw(store)


def test_erasure_and_retention_rewrite_the_compact_form(store: Any, now: datetime) -> None:
    events_ingest(store=store, items=batch(0, 74), source=EventSource.API)
    blocks.blocks_compact(store_id=store.pk)
    events_ingest(store=store, items=batch(100, 10), source=EventSource.API)
    erased = Customer.objects.get(store=store, key="c5")
    customers_erase(store_id=store.pk, customer_ids=[erased.pk])
    assert compact(store) == raw(store)
    assert erased.pk not in {c for c, _t, _n in compact(store)}
    with transaction.atomic():
        cut = int((T0 + timedelta(hours=50)).timestamp() * 1000)
        blocks.blocks_rewrite(store_id=store.pk, before_ms=cut)
    assert all(t >= cut for _c, t, _n in compact(store))


def test_retention_maintenance_keeps_the_compact_form_in_step(store: Any, now: datetime) -> None:
    store.event_retention_months = None
    store.save()
    old = [
        EventIn(i, f"old{i}", "page_view", "c1", False, datetime(2025, 6, 1 + i, tzinfo=UTC))
        for i in range(3)
    ]
    events_ingest(store=store, items=old + batch(0, 5), source=EventSource.CSV)
    store.event_retention_months = 2
    store.save()
    partitions.partitions_maintain()
    assert len(raw(store)) == 5
    assert compact(store) == raw(store)


def buckets(store: Any) -> list[tuple[list[int], ...]]:
    """What the engine reads, bucket by bucket: the four columns in their order."""
    return [
        (
            columns.customers.tolist(),
            columns.times.tolist(),
            columns.names.tolist(),
            columns.sessions.tolist(),
        )
        for columns in blocks.store_buckets(store_id=store.pk)
    ]


def test_rebuild_from_raw_events_gives_the_incrementally_built_blocks(
    store: Any, now: datetime
) -> None:
    for start in range(0, 200, 50):
        events_ingest(store=store, items=batch(start, 50), source=EventSource.API)
        blocks.blocks_compact(store_id=store.pk)
    events_ingest(
        store=store, items=batch(0, 30, anonymous=True, prefix="a"), source=EventSource.API
    )
    # Two events of one customer at the same instant: arrival order breaks the tie.
    tie = T0 + timedelta(days=30)
    events_ingest(
        store=store,
        items=[
            EventIn(0, "tie1", "purchase", "c7", False, tie, "s-tie"),
            EventIn(1, "tie2", "page_view", "c7", False, tie, "s-tie"),
        ],
        source=EventSource.API,
    )
    blocks.blocks_compact(store_id=store.pk)
    customer_identify(store=store, anonymous_id="a4", customer_key="c4")
    blocks.blocks_compact(store_id=store.pk)
    events_ingest(store=store, items=batch(500, 20), source=EventSource.API)  # a pending delta
    incremental = buckets(store)
    assert sum(len(customers) for customers, *_ in incremental) == len(raw(store)) == 252

    assert blocks.blocks_rebuild(store_id=store.pk) == 252

    assert buckets(store) == incremental
    rebuilt = EventBlock.objects.filter(store=store)
    assert sorted(rebuilt.values_list("bucket", flat=True)) == sorted(
        {customers[0] % blocks.BUCKETS for customers, *_ in incremental if customers}
    )  # one block per bucket, no delta
    # Batches and compaction carry on from the rebuilt blocks.
    events_ingest(store=store, items=batch(600, 10), source=EventSource.API)
    blocks.blocks_compact(store_id=store.pk)
    assert compact(store) == raw(store)


def test_rebuild_of_a_store_without_events_leaves_no_blocks(store: Any, now: datetime) -> None:
    assert blocks.blocks_rebuild(store_id=store.pk) == 0
    assert not EventBlock.objects.filter(store=store).exists()


row = st.tuples(st.integers(0, 12), st.integers(-5, 5), st.integers(0, 3))


@settings(max_examples=300, deadline=None)
@given(
    first=st.lists(row, min_size=40, max_size=150),
    later=st.lists(st.lists(row, max_size=8), max_size=4),
    far=st.booleans(),
)
def test_merging_sorted_blocks_gives_what_sorting_them_together_gives(
    first: list[tuple[int, int, int]], later: list[list[tuple[int, int, int]]], far: bool
) -> None:
    # Customers and times collide often, so that ties (kept in the parts' order) are common.
    # A first block 16 times the others' size takes the insertion path; `far` stretches the
    # times so that the merge's 64-bit keys do not fit and it sorts.
    parts = [first, *later]
    scale = 2**60 if far else 1
    columns = [
        blocks.Columns(
            np.array([c for c, _t, _n in rows], dtype=np.int64),
            np.array([t * scale for _c, t, _n in rows], dtype=np.int64),
            np.array([n for _c, _t, n in rows], dtype=np.int32),
            np.arange(len(rows), dtype=np.int64) + 1000 * p,  # which event: ties show
        ).sorted()
        for p, rows in enumerate(parts)
    ]
    merged = blocks.Columns.merge(columns)
    expected = blocks.Columns.concat(columns).sorted()
    for name in ("customers", "times", "names", "sessions"):
        assert getattr(merged, name).tolist() == getattr(expected, name).tolist()
