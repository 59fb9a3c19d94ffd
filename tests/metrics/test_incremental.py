"""The incremental recompute (metrics/incremental.py) against the full one: after a batch, the
stored results updated from the touched customers alone must be, field for field, what a
recompute of everything stores. Random timelines (hypothesis) with shared sessions, late
events, repeat purchases and first purchases that arrive late; then the cases where it must
give way to a full recompute."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from events import purges
from events.ingest import EventIn
from events.models import EventSource
from events.services import customer_identify, events_ingest
from metrics import incremental, recompute
from metrics.models import FunnelResult
from tests.factories import StoreFactory
from tests.metrics.conftest import journey_for

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
STAGES = [
    ("zmot", ["search"]),
    ("fmot", ["product_view", "page_view"]),
    ("smot", ["add_to_cart", "purchase"]),
    ("tmot", ["delivered"]),
    ("umot", ["review_posted", "repeat_purchase"]),
]
NAMES = ["search", "product_view", "page_view", "add_to_cart", "purchase", "delivered",
         "review_posted"]  # fmt: skip
# One customer with every name, a repeat purchase among them: the batches never make a
# stage tracked that was not (that is a full recompute, tested on its own below).
EVERY_NAME = [(name, -100 * 24 + 5 * i) for i, name in enumerate(NAMES)] + [("purchase", -2000)]

event = st.tuples(
    st.sampled_from([f"c{i}" for i in range(1, 9)]),
    st.sampled_from(NAMES),
    st.integers(-130 * 24, 20),  # hours from NOW: across weeks, months and the rolling periods
    st.sampled_from(["", "", "s1", "s2", "s3"]),  # sessions, some shared between customers
)


class Feed:
    """Events into one store through the ingest path, each with an id of its own."""

    def __init__(self, store: Any) -> None:
        self.store = store
        self.sent = 0

    def send(self, events: list[tuple[str, str, int, str]]) -> None:
        items = []
        for customer, name, hours, session in events:
            self.sent += 1
            items.append(
                EventIn(
                    len(items),
                    f"e{self.sent}",
                    name,
                    customer,
                    False,
                    NOW + timedelta(hours=hours),
                    session,
                )
            )
        result = events_ingest(store=self.store, items=items, source=EventSource.CSV)
        assert result.accepted == len(items), result.as_dict()


def stored(store: Any) -> dict[tuple[str, Any, Any], tuple[Any, ...]]:
    return {
        (r.kind, r.start, r.end): (
            r.complete,
            r.events_counted,
            r.events_read,
            r.stages,
            r.names,
            bytes(r.entered),
            bytes(r.seconds),
            r.sessions,
            r.bounced,
            r.first_buyers,
            r.returned,
            r.basis,
        )
        for r in FunnelResult.objects.filter(store=store).exclude(kind=FunnelResult.Kind.CUSTOM)
    }


def assert_as_full(store: Any) -> None:
    """The stored results are what a full recompute stores."""
    incremental = stored(store)
    recompute.results_recompute(store_id=store.pk, full=True)
    full = stored(store)
    assert incremental.keys() == full.keys()
    for key, figures in full.items():
        assert incremental[key] == figures, key


@pytest.fixture
def store(organisation: Any, clock_at: Any) -> Any:
    clock_at(NOW)
    store = StoreFactory(organisation=organisation, time_zone="Europe/Vilnius")
    store.event_retention_months = None
    store.save()
    journey_for(store, STAGES)
    return store


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    first=st.lists(event, max_size=30),
    batches=st.lists(st.lists(event, min_size=1, max_size=12), min_size=1, max_size=3),
)
def test_incremental_results_equal_a_full_recompute(
    organisation: Any, clock_at: Any, first: list[Any], batches: list[list[Any]]
) -> None:
    clock_at(NOW)
    store = StoreFactory(organisation=organisation, time_zone="Europe/Vilnius")
    store.event_retention_months = None
    store.save()
    journey_for(store, STAGES)
    feed = Feed(store)
    feed.send([("every", name, hours, "") for name, hours in EVERY_NAME] + first)
    recompute.results_recompute(store_id=store.pk)
    for batch in batches:
        feed.send(batch)
        done = recompute.results_recompute(store_id=store.pk)
        assert done["mode"] == "incremental"
        assert_as_full(store)


def test_a_batch_recomputes_only_its_customers_and_their_sessions(store: Any) -> None:
    feed = Feed(store)
    feed.send(
        [("every", name, hours, "") for name, hours in EVERY_NAME]
        + [("a", "page_view", -5, "s1"), ("b", "search", -30, ""), ("c", "search", -3, "")]
    )
    first = recompute.results_recompute(store_id=store.pk)
    assert first["mode"] == "full"
    last_7 = FunnelResult.objects.get(store=store, kind=FunnelResult.Kind.LAST_7)
    assert (last_7.sessions, last_7.bounced) == (1, 1)  # a's single page view
    # b views a product in a's session: the session is no longer a bounce; c is untouched.
    feed.send([("b", "product_view", -4, "s1")])
    done = recompute.results_recompute(store_id=store.pk)
    assert done["mode"] == "incremental"
    assert done["customers"] == 2  # b, and a through the session
    assert done["events_added"] == 1
    last_7.refresh_from_db()
    assert (last_7.sessions, last_7.bounced) == (1, 0)
    assert [s["funnel"] for s in last_7.stages] == [2, 1, 0, 0, 0]
    assert_as_full(store)


def test_nothing_new_only_moves_the_computed_time(store: Any, clock_at: Any) -> None:
    Feed(store).send([("every", name, hours, "") for name, hours in EVERY_NAME])
    recompute.results_recompute(store_id=store.pk)
    before = stored(store)
    clock_at(NOW + timedelta(minutes=5))
    done = recompute.results_recompute(store_id=store.pk)
    assert (done["mode"], done["customers"], done["changed"]) == ("incremental", 0, 0)
    assert stored(store) == before
    assert {r.computed_at for r in FunnelResult.objects.filter(store=store)} == {
        NOW + timedelta(minutes=5)
    }


@pytest.mark.parametrize(
    "change",
    ["identify", "erasure", "window", "mapping", "new day", "asked", "inconsistent", "many"],
)
def test_what_needs_a_full_recompute_gets_one(
    store: Any, clock_at: Any, change: str, monkeypatch: Any
) -> None:
    feed = Feed(store)
    feed.send(
        [("every", name, hours, "") for name, hours in EVERY_NAME]
        + [("c1", "search", -50, ""), ("c2", "product_view", -49, "")]
    )
    recompute.results_recompute(store_id=store.pk)
    full = False
    if change == "identify":
        items = [EventIn(0, "anon-1", "search", "browser-1", True, NOW - timedelta(hours=3))]
        events_ingest(store=store, items=items, source=EventSource.CSV)
        recompute.results_recompute(store_id=store.pk)
        customer_identify(store=store, anonymous_id="browser-1", customer_key="c2")
    elif change == "erasure":
        from events.models import Customer

        purges.customers_erase(
            store_id=store.pk, customer_ids=[Customer.objects.get(store=store, key="c1").pk]
        )
    elif change == "window":
        store.funnel_window_days = 7
        store.save()
    elif change == "mapping":
        stage = store.journeys.get().stages.get(moment="tmot")
        stage.touchpoints.update(event_names=["delivered", "review_posted"])
    elif change == "new day":
        clock_at(NOW + timedelta(days=1))
    elif change == "asked":
        full = True
    elif change == "inconsistent":
        row = FunnelResult.objects.get(store=store, kind=FunnelResult.Kind.LAST_7)
        row.entered = b""
        row.save()
        feed.send([("c1", "product_view", -2, "")])
    elif change == "many":
        monkeypatch.setattr(incremental, "MAX_CUSTOMERS", 1)
        feed.send([("c1", "product_view", -2, ""), ("c3", "search", -1, "")])
    done = recompute.results_recompute(store_id=store.pk, full=full)
    assert done["mode"] == "full"
    assert_as_full(store)


def columns(rows: list[tuple[int, int, int, int]]) -> Any:
    from events.blocks import Columns

    return Columns(
        np.array([r[0] for r in rows], dtype=np.int64),
        np.array([r[1] for r in rows], dtype=np.int64),
        np.array([r[2] for r in rows], dtype=np.int32),
        np.array([r[3] for r in rows], dtype=np.int64),
    )


PURCHASE, VIEW = 7, 4


def test_the_events_before_a_batch_are_the_events_less_one_copy_of_each_new_one() -> None:
    after = columns([(1, 10, VIEW, 0), (1, 10, VIEW, 0), (1, 20, PURCHASE, 5), (2, 5, VIEW, 9)])
    batch = columns([(1, 10, VIEW, 0), (2, 5, VIEW, 9)])
    before = incremental.events_before(after, batch)
    assert list(zip(before.customers.tolist(), before.times.tolist(), strict=True)) == [
        (1, 10),
        (1, 20),
    ]
    with pytest.raises(incremental.Inconsistent):
        incremental.events_before(after, columns([(2, 6, VIEW, 9)]))


def test_the_first_purchase_before_a_batch() -> None:
    before = columns([(1, 50, PURCHASE, 0), (3, 40, PURCHASE, 0), (4, 70, PURCHASE, 0)])
    batch = columns(
        [(1, 30, PURCHASE, 0), (2, 30, PURCHASE, 0), (3, 90, PURCHASE, 0), (4, 70, PURCHASE, 0)]
    )
    now = {1: 30, 2: 30, 3: 40, 4: 70, 5: 10}
    assert incremental.first_purchases_before(now, before, batch, PURCHASE) == {
        1: 50,  # the batch brought an earlier one: the earliest before it
        # 2: the batch brought the first
        3: 40,  # a later one: unchanged
        4: 70,  # the batch's is at the same instant as one before
        5: 10,  # not in the batch (a purchase whose raw row has expired)
    }


@settings(max_examples=300, deadline=None)
@given(
    values=st.lists(st.integers(0, 10**8), min_size=1, max_size=40),
    share=st.one_of(st.sampled_from([0.0, 0.5, 0.9, 1.0]), st.floats(0, 1)),
)
def test_the_percentile_of_sorted_values_is_numpys(values: list[int], share: float) -> None:
    from metrics.rollups import _percentile

    ordered = np.array(sorted(values), dtype=np.int64)
    assert _percentile(ordered, share) == float(np.percentile(ordered, share * 100))


@settings(max_examples=300, deadline=None)
@given(
    old=st.lists(st.integers(0, 20), max_size=30),
    taken=st.lists(st.integers(0, 30), max_size=10),
    plus=st.lists(st.integers(0, 20), max_size=10),
)
def test_seconds_as_multisets(old: list[int], taken: list[int], plus: list[int]) -> None:
    from collections import Counter

    minus = [v for v in taken if v in old][: len(old)]
    if Counter(minus) - Counter(old):  # more copies taken than there are
        minus = list((Counter(minus) & Counter(old)).elements())
    result = incremental._multiset(
        np.array(sorted(old), dtype=np.int64),
        np.array(sorted(minus), dtype=np.int64),
        np.array(sorted(plus), dtype=np.int64),
    )
    assert result.tolist() == sorted((Counter(old) - Counter(minus) + Counter(plus)).elements())
    if any(v not in old for v in taken):
        with pytest.raises(incremental.Inconsistent):
            incremental._multiset(
                np.array(sorted(old), dtype=np.int64),
                np.array(sorted(taken), dtype=np.int64),
                np.array([], dtype=np.int64),
            )


entered_row = st.tuples(st.integers(1, 12), st.integers(0, 6), st.integers(1, 5))


@settings(max_examples=300, deadline=None)
@given(
    stored=st.dictionaries(st.integers(1, 12), st.tuples(st.integers(0, 6), st.integers(1, 5))),
    fresh=st.dictionaries(st.integers(1, 12), st.tuples(st.integers(0, 6), st.integers(1, 5))),
    touched=st.sets(st.integers(1, 12)),
)
def test_entered_customers_replaced_in_place(
    stored: dict[int, tuple[int, int]], fresh: dict[int, tuple[int, int]], touched: set[int]
) -> None:
    from metrics.rollups import pack_entered

    touched |= set(fresh)

    def pack(rows: dict[int, tuple[int, int]]) -> bytes:
        customers = np.array(sorted(rows), dtype=np.int64)
        entries = np.array([rows[c][0] for c in sorted(rows)], dtype=np.int64)
        levels = np.array([rows[c][1] for c in sorted(rows)], dtype=np.int64)
        return pack_entered(customers, levels, entries, entries + levels)

    before = {c: v for c, v in stored.items() if c in touched}
    updated = incremental._entered_update(
        pack(stored), pack(before), pack(fresh), np.array(sorted(touched), dtype=np.int64)
    )
    expected = {c: v for c, v in stored.items() if c not in touched} | fresh
    assert updated == pack(expected)
