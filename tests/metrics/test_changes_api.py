"""The funnel and retention follow what changes after a first query: events that arrive late
with older times, an anonymous visitor identified as a customer, and an edit of the journey's
event mapping. Exact numbers before and after, read from GET /funnel/ and /metrics/ only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from rest_framework.test import APIClient

from events import blocks
from journeys.models import Touchpoint
from tests.factories import ApiKeyFactory
from tests.metrics.conftest import (
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
HOUR = 60 * 60
JANUARY = {"start": "2026-01-01", "end": "2026-01-31"}


def day(days: float, **later: float) -> datetime:
    """Days (and hours, minutes…) after 2026-01-01 00:00 UTC."""
    return D0 + timedelta(days=days, **later)


def test_late_events_with_older_times_change_the_old_period_on_the_next_query(
    utc_store: Any, api_as: Any, now: datetime, on_commit: Any
) -> None:
    journey_for(
        utc_store,
        [
            ("ZMOT", ["search"]),
            ("FMOT", ["product_view"]),
            ("SMOT", ["purchase"]),
            ("UMOT", ["repeat_purchase"]),
        ],
    )
    viewer = api_as("viewer")
    with on_commit(execute=True):
        ingest_timelines(
            utc_store,
            {
                "a": [("search", day(0)), ("purchase", day(5)), ("purchase", day(20))],
                "b": [("search", day(3)), ("product_view", day(4))],
            },
        )
        blocks.blocks_compact(store_id=utc_store.pk)
    before = funnel(viewer, utc_store, **JANUARY)
    assert figures(before) == [
        ("ZMOT", True, 2, 2, None, None, None),
        ("FMOT", True, 1, 1, (1, 2), DAY, DAY),
        ("SMOT", True, 1, 0, (0, 1), None, None),  # a bought without a product view
        ("UMOT", True, 1, 0, None, None, None),  # a's purchase on day 20 is a repeat
    ]
    assert before["events_counted"] == 5
    assert retention(store_metrics(viewer, utc_store, **JANUARY)) == (1, 1)  # a came back

    # A second batch, weeks later, of older events: a viewed the product an hour after its
    # search, and had bought once already in December; b bought; c searched.
    with on_commit(execute=True):
        ingest_timelines(
            utc_store,
            {
                "a": [("product_view", day(0, hours=1)), ("purchase", day(-17))],
                "b": [("purchase", day(4, hours=2))],
                "c": [("search", day(2))],
            },
        )
    after = funnel(viewer, utc_store, **JANUARY)
    assert figures(after) == [
        ("ZMOT", True, 3, 3, None, None, None),
        # a in 1 h, b in 1 d.
        ("FMOT", True, 2, 2, (2, 3), 45000, 78120),
        # b in 2 h; a from its view to day 5's purchase, now a repeat purchase that serves
        # SMOT (5 d − 1 h).
        ("SMOT", True, 2, 2, (2, 2), 217800, 386280),
        # a again on day 20, 15 d later; b's purchase is its first.
        ("UMOT", True, 1, 1, (1, 2), 15 * DAY, 15 * DAY),
    ]
    assert after["events_counted"] == 8
    # a's first purchase ever is in December now: January's first buyers are b alone, who did
    # not come back; December's is a, who did, on day 5.
    assert retention(store_metrics(viewer, utc_store, **JANUARY)) == (0, 1)
    december = store_metrics(viewer, utc_store, start="2025-12-01", end="2025-12-31")
    assert retention(december) == (1, 1)
    # Compaction moves the late batch into the customers' buckets: the same figures.
    blocks.blocks_compact(store_id=utc_store.pk)
    assert figures(funnel(viewer, utc_store, **JANUARY)) == figures(after)


# --- Identify: an anonymous visitor's events become a customer's


@pytest.fixture
def key_client(utc_store: Any) -> APIClient:
    """The store's own secret key, as its server sends events and identifies visitors."""
    raw = "mm_sk_metrics1_" + "b" * 32
    ApiKeyFactory(store=utc_store, prefix="mm_sk_metrics1", raw_key=raw)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def send(client: APIClient, rows: list[tuple[str, str, datetime, bool]]) -> None:
    """(event name, customer key or anonymous id, when, anonymous?) through the batch API."""
    events = [
        {
            "id": f"{key}:{name}:{when.isoformat()}",
            "name": name,
            "occurred_at": when.isoformat(),
            ("anonymous_id" if anonymous else "customer_key"): key,
        }
        for name, key, when, anonymous in rows
    ]
    answer = client.post("/api/v1/events/batch/", {"events": events}, format="json")
    assert answer.status_code == 200, answer.content
    assert answer.json() == {"accepted": len(rows), "duplicates": [], "errors": []}


def identify(client: APIClient, anonymous_id: str, customer_key: str) -> None:
    answer = client.post(
        "/api/v1/events/identify/",
        {"anonymous_id": anonymous_id, "customer_key": customer_key},
        format="json",
    )
    assert answer.status_code == 200, answer.content


def test_an_identified_visitors_views_and_the_customers_purchase_are_one_customer(
    utc_store: Any, key_client: APIClient, api_as: Any, now: datetime, on_commit: Any
) -> None:
    journey_for(
        utc_store,
        [
            ("FMOT", ["page_view", "product_view"]),
            ("SMOT", ["purchase"]),
            ("UMOT", ["repeat_purchase"]),
        ],
    )
    viewer = api_as("viewer")
    with on_commit(execute=True):
        send(
            key_client,
            [
                ("page_view", "anon-1", day(4, hours=10), True),
                ("product_view", "anon-1", day(4, hours=10, minutes=5), True),
                ("page_view", "anon-2", day(4, hours=11), True),
                ("purchase", "C-1", day(5, hours=9), False),  # anon-1's checkout, by the server
            ],
        )
        blocks.blocks_compact(store_id=utc_store.pk)  # identify then finds them compacted
    before = funnel(viewer, utc_store, **JANUARY)
    assert figures(before) == [
        ("FMOT", True, 2, 2, None, None, None),  # anon-1 and anon-2
        ("SMOT", True, 1, 0, (0, 2), None, None),  # C-1 bought, but never entered
        ("UMOT", False, None, None, None, None, None),  # no repeat purchase yet
    ]
    assert before["events_counted"] == 4

    with on_commit(execute=True):
        identify(key_client, "anon-1", "C-1")
    after = funnel(viewer, utc_store, **JANUARY)
    assert figures(after) == [
        ("FMOT", True, 2, 2, None, None, None),  # C-1 (once anon-1) and anon-2: not three
        ("SMOT", True, 1, 1, (1, 2), 23 * HOUR, 23 * HOUR),  # from the page view at 10:00
        ("UMOT", False, None, None, None, None, None),
    ]
    assert after["events_counted"] == 4

    # The browser still sends as anon-1; the server sends C-1's second order.
    with on_commit(execute=True):
        send(
            key_client,
            [
                ("product_view", "anon-1", day(7, hours=8), True),
                ("purchase", "C-1", day(7, hours=9), False),
            ],
        )
    later = funnel(viewer, utc_store, **JANUARY)
    assert figures(later) == [
        ("FMOT", True, 2, 2, None, None, None),
        ("SMOT", True, 1, 1, (1, 2), 23 * HOUR, 23 * HOUR),
        ("UMOT", True, 1, 1, (1, 1), 2 * DAY, 2 * DAY),
    ]
    assert later["events_counted"] == 6
    assert retention(store_metrics(viewer, utc_store, **JANUARY)) == (1, 1)


def test_an_identified_visitors_purchase_is_the_customers_first_for_retention(
    utc_store: Any, key_client: APIClient, api_as: Any, now: datetime, on_commit: Any
) -> None:
    journey_for(utc_store, [("SMOT", ["purchase"]), ("UMOT", ["repeat_purchase"])])
    viewer = api_as("viewer")
    with on_commit(execute=True):
        send(
            key_client,
            [
                ("purchase", "anon-3", day(9, hours=10), True),  # a guest checkout
                ("purchase", "C-3", day(19, hours=10), False),
            ],
        )
    assert retention(store_metrics(viewer, utc_store, **JANUARY)) == (0, 2)
    assert figures(funnel(viewer, utc_store, **JANUARY)) == [
        ("SMOT", True, 2, 2, None, None, None),
        ("UMOT", False, None, None, None, None, None),
    ]

    with on_commit(execute=True):
        identify(key_client, "anon-3", "C-3")
    # One customer, whose first purchase is the guest checkout and who came back 10 days on.
    assert figures(funnel(viewer, utc_store, **JANUARY)) == [
        ("SMOT", True, 1, 1, None, None, None),
        ("UMOT", True, 1, 1, (1, 1), 10 * DAY, 10 * DAY),
    ]
    assert retention(store_metrics(viewer, utc_store, **JANUARY)) == (1, 1)


# --- The journey's event mapping, edited as the map editor does (PATCH /api/v1/touchpoints/)


def test_an_edit_of_the_event_mapping_shows_in_the_next_query(
    utc_store: Any, api_as: Any, now: datetime, on_commit: Any
) -> None:
    journey = journey_for(
        utc_store, [("ZMOT", ["search"]), ("FMOT", ["product_view"]), ("SMOT", ["purchase"])]
    )
    touchpoints = {t.stage.moment: t.pk for t in Touchpoint.objects.filter(stage__journey=journey)}
    with on_commit(execute=True):
        ingest_timelines(
            utc_store,
            {
                "a": [
                    ("search", day(0)),
                    ("page_view", day(0, hours=1)),
                    ("add_to_cart", day(0, hours=2)),
                    ("purchase", day(1)),
                ],
                "b": [("search", day(0)), ("product_view", day(0, hours=3))],
                "c": [
                    ("review_read", day(0)),
                    ("page_view", day(0, hours=1)),
                    ("add_to_cart", day(0, hours=2)),
                ],
            },
        )
    viewer, editor = api_as("viewer"), api_as("editor")
    version = journey.version

    def remap(moment: str, names: list[str]) -> None:
        nonlocal version
        with on_commit(execute=True):
            answer = editor.patch(
                f"/api/v1/touchpoints/{touchpoints[moment]}/",
                {"event_names": names, "version": version},
                format="json",
            )
        assert answer.status_code == 200, answer.content
        version = answer.json()["journey_version"]

    first = funnel(viewer, utc_store, **JANUARY)
    assert figures(first) == [
        ("ZMOT", True, 2, 2, None, None, None),
        ("FMOT", True, 1, 1, (1, 2), 3 * HOUR, 3 * HOUR),
        ("SMOT", True, 1, 0, (0, 1), None, None),
    ]
    assert first["events_counted"] == 4

    remap("FMOT", ["product_view", "page_view"])
    second = funnel(viewer, utc_store, **JANUARY)
    assert figures(second) == [
        ("ZMOT", True, 2, 2, None, None, None),
        ("FMOT", True, 3, 2, (2, 2), 2 * HOUR, 10080),  # a in 1 h, b in 3 h
        ("SMOT", True, 1, 1, (1, 2), 23 * HOUR, 23 * HOUR),
    ]
    assert second["events_counted"] == 6

    remap("ZMOT", ["search", "review_read"])
    remap("SMOT", ["add_to_cart"])  # in place of purchase
    third = funnel(viewer, utc_store, **JANUARY)
    assert figures(third) == [
        ("ZMOT", True, 3, 3, None, None, None),
        ("FMOT", True, 3, 3, (3, 3), HOUR, 9360),  # 1 h, 1 h, 3 h
        ("SMOT", True, 2, 2, (2, 3), HOUR, HOUR),
    ]
    assert third["events_counted"] == 8

    remap("FMOT", ["never_sent"])  # no name the store received: skipped
    fourth = funnel(viewer, utc_store, **JANUARY)
    assert figures(fourth) == [
        ("ZMOT", True, 3, 3, None, None, None),
        ("FMOT", False, None, None, None, None, None),
        ("SMOT", True, 2, 2, (2, 3), 2 * HOUR, 2 * HOUR),
    ]
    assert fourth["events_counted"] == 5
