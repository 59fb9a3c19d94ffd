"""The events page: the latest events by keyset, filters, counts, unmapped names, roles."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from events.ingest import EventIn
from events.models import EventSource
from events.services import customer_identify, events_ingest
from journeys import services as journey_services
from journeys.models import Journey
from tests.factories import StoreFactory

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)


def ingest(store: Any, rows: list[tuple[str, str, datetime]], anonymous: bool = False) -> None:
    events_ingest(
        store=store,
        items=[
            EventIn(i, f"{name}-{key}-{at.isoformat()}", name, key, anonymous, at, "s1")
            for i, (name, key, at) in enumerate(rows)
        ],
        source=EventSource.API,
    )


def active_journey(store: Any, editor: Any) -> Journey:
    from accounts.services import Actor

    actor = Actor(user=editor)
    journey = journey_services.journey_create_from_template(
        organisation=store.organisation,
        actor=actor,
        name="Delivery journey",
        store=store,
        template="ecommerce-delivery",
    )
    return journey_services.journey_activate(journey=journey, actor=actor, version=journey.version)


def test_the_newest_events_come_first_a_page_at_a_time(
    client_as: Any, store: Any, now: datetime, django_assert_max_num_queries: Any
) -> None:
    ingest(store, [("page_view", f"c{i % 3}", T0 + timedelta(minutes=i)) for i in range(120)])
    client = client_as("viewer")
    url = f"/stores/{store.pk}/events/"
    first = client.get(url)
    assert first.status_code == 200
    page = first.content.decode()
    assert page.count('<tr>\n    <td data-label="When">') == 50
    assert "2026-03-10 12:59:00" in page  # the newest (10:59 UTC), in Vilnius time (UTC+2)
    next_url = first.context["next_url"]
    assert next_url.startswith(url + "?after=")
    with django_assert_max_num_queries(13):
        second = client.get(next_url)
    assert len(second.context["events"]) == 50
    assert second.context["events"][0].occurred_at == T0 + timedelta(minutes=69)
    third = client.get(second.context["next_url"])
    assert [e.occurred_at for e in third.context["events"]][-1] == T0
    assert len(third.context["events"]) == 20
    assert third.context["next_url"] == ""
    # A page after the first does not refresh itself; the first does.
    assert 'hx-trigger="every 5s"' in page
    assert 'hx-trigger="every 5s"' not in second.content.decode()


def test_viewers_see_names_and_counts_but_not_customer_keys(
    client_as: Any, store: Any, now: datetime
) -> None:
    ingest(store, [("purchase", "CUST-9981", now - timedelta(hours=1))])
    viewer_page = client_as("viewer").get(f"/stores/{store.pk}/events/").content.decode()
    assert "purchase" in viewer_page
    assert "CUST-9981" not in viewer_page
    editor_page = client_as("editor").get(f"/stores/{store.pk}/events/").content.decode()
    assert "CUST-9981" in editor_page


def test_filters_by_name_customer_and_days(client_as: Any, store: Any, now: datetime) -> None:
    ingest(
        store,
        [
            ("page_view", "a-1", datetime(2026, 3, 1, 21, 30, tzinfo=UTC)),  # Mar 1 23:30 local
            ("page_view", "a-1", datetime(2026, 3, 1, 22, 30, tzinfo=UTC)),  # Mar 2 00:30 local
        ],
        anonymous=True,
    )
    ingest(store, [("purchase", "C-1", datetime(2026, 3, 2, 10, tzinfo=UTC))])
    customer_identify(store=store, anonymous_id="a-1", customer_key="C-1")
    client = client_as("editor")
    url = f"/stores/{store.pk}/events/"

    def names(query: dict[str, str]) -> list[str]:
        return [e.event_name.name for e in client.get(url, query).context["events"]]

    assert names({"name": "purchase"}) == ["purchase"]
    assert names({"customer": "C-1"}) == ["purchase", "page_view", "page_view"]
    assert names({"customer": "nobody"}) == []
    assert names({"start": "2026-03-02", "end": "2026-03-02"}) == ["purchase", "page_view"]
    bad = client.get(url, {"start": "2026-03-05", "end": "2026-03-01"})
    assert "The end date is before the start date." in bad.content.decode()


def test_counts_per_stage_and_unmapped_names_link_to_the_right_stage(
    client_as: Any, store: Any, editor: Any, now: datetime
) -> None:
    journey = active_journey(store, editor)
    ingest(
        store,
        [
            ("product_view", "c1", now - timedelta(days=1)),
            ("product_view", "c2", now - timedelta(days=1)),
            ("purchase", "c1", now - timedelta(hours=3)),
            ("wishlist_add", "c1", now - timedelta(hours=2)),
            ("order_cancelled", "c1", now - timedelta(hours=1)),
            ("purchase", "c3", now - timedelta(days=9)),  # outside the last 7 days
        ],
    )
    answer = client_as("editor").get(f"/stores/{store.pk}/events/")
    counts = answer.context["counts"]
    assert counts["names"] == [
        ("product_view", 2),
        ("order_cancelled", 1),
        ("purchase", 1),
        ("wishlist_add", 1),
    ]
    by_moment = {row["stage"].moment: row["count"] for row in counts["stages"]}
    assert by_moment["FMOT"] == 2
    assert by_moment["SMOT"] == 1
    assert by_moment["TMOT"] == 0
    assert counts["unmapped_count"] == 2
    unmapped = {row["name"]: row["stage"] for row in answer.context["unmapped"]}
    assert set(unmapped) == {"order_cancelled", "wishlist_add"}
    assert unmapped["wishlist_add"] is None
    page = answer.content.decode()
    assert f"/journeys/{journey.pk}/?map_event=wishlist_add" in page
    # Viewers see the names but not the editing link.
    viewer_page = client_as("viewer").get(f"/stores/{store.pk}/events/").content.decode()
    assert "wishlist_add" in viewer_page
    assert "map_event=" not in viewer_page


def test_an_empty_store_says_how_to_send_the_first_event(
    client_as: Any, store: Any, now: datetime
) -> None:
    page = client_as("admin").get(f"/stores/{store.pk}/events/").content.decode()
    assert "No events yet." in page
    assert f"/stores/{store.pk}/keys/" in page


def test_the_events_menu_opens_the_current_stores_page_and_others_are_404(
    client_as: Any, store: Any, other_organisation: Any, now: datetime
) -> None:
    client = client_as("viewer")
    assert client.get("/events/")["Location"] == f"/stores/{store.pk}/events/"
    foreign = StoreFactory(organisation=other_organisation, name="Foreign")
    assert client.get(f"/stores/{foreign.pk}/events/").status_code == 404


def test_recent_webhook_deliveries_are_listed_with_their_result(
    client_as: Any, store: Any, now: datetime
) -> None:
    from events.models import WebhookDelivery

    WebhookDelivery.objects.create(
        store=store,
        webhook_id="wh-1",
        topic="refunds/create",
        received_at=now,
        result=WebhookDelivery.Result.UNKNOWN_ORDER,
        detail="Order 820982911946154508 was never received.",
    )
    ingest(store, [("purchase", "c1", now)])
    page = client_as("viewer").get(f"/stores/{store.pk}/events/").content.decode()
    assert "Recent webhook deliveries" in page
    assert "refunds/create" in page
    assert "Order never received" in page


def test_counts_are_grouped_and_times_in_the_stores_zone_across_summer_time(
    client_as: Any, store: Any, now: datetime
) -> None:
    store.event_retention_months = None
    store.save()
    for start in (0, 600):
        ingest(
            store,
            [("page_view", f"c{i}", now - timedelta(hours=1)) for i in range(start, start + 600)],
        )
    # Europe/Vilnius goes back from UTC+3 to UTC+2 at 01:00 UTC on 26 October 2025.
    assert store.time_zone == "Europe/Vilnius"
    summer = datetime(2025, 10, 25, 22, 30, tzinfo=UTC)  # 01:30 on the 26th, EEST
    winter = datetime(2025, 10, 26, 12, 0, tzinfo=UTC)  # 14:00, EET
    ingest(store, [("purchase", "c1", summer), ("purchase", "c2", winter)])
    client = client_as("viewer")
    url = f"/stores/{store.pk}/events/"
    day = {"start": "2025-10-26", "end": "2025-10-26"}
    lithuanian = client.get(url, HTTP_ACCEPT_LANGUAGE="lt").content.decode()
    assert '<td class="num">1\xa0200</td>' in lithuanian  # page_view, with a no-break space
    page = client.get(url, day, HTTP_ACCEPT_LANGUAGE="lt").content.decode()
    assert "2025-10-26 14:00:00" in page and "2025-10-26 01:30:00" in page
    romanian = client.get(url, HTTP_ACCEPT_LANGUAGE="ro").content.decode()
    assert '<td class="num">1.200</td>' in romanian
    page = client.get(url, day, HTTP_ACCEPT_LANGUAGE="ro").content.decode()
    assert "26.10.2025 14:00:00" in page and "26.10.2025 01:30:00" in page
    english = client.get(url).content.decode()
    assert '<td class="num">1,200</td>' in english
    page = client.get(url, day).content.decode()
    assert "2025-10-26 14:00:00" in page and "2025-10-26 01:30:00" in page
