"""POST /api/v1/events/identify/: an anonymous visitor becomes the store's customer."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from rest_framework.test import APIClient

from events.models import Customer, Event, RecomputeMark
from tests.events.conftest import item

BATCH = "/api/v1/events/batch/"
IDENTIFY = "/api/v1/events/identify/"
pytestmark = pytest.mark.django_db


def customer_of(store: Any, client_id: str) -> str:
    event = Event.objects.select_related("customer").get(store=store, client_id=client_id)
    return event.customer.key


def test_earlier_and_later_events_of_the_anonymous_id_count_for_the_customer(
    key_client: APIClient, store: Any, now: datetime
) -> None:
    key_client.post(
        BATCH,
        {
            "events": [
                item("v1", "product_view", at="2026-02-01T10:00:00Z", anonymous_id="anon-7"),
                item("v2", "purchase", at="2026-02-02T10:00:00Z", anonymous_id="anon-7"),
                item("v3", "product_view", at="2026-02-01T11:00:00Z", anonymous_id="anon-8"),
            ]
        },
        format="json",
    )
    RecomputeMark.objects.all().delete()
    answer = key_client.post(
        IDENTIFY, {"anonymous_id": "anon-7", "customer_key": "C-42"}, format="json"
    )
    assert answer.status_code == 200
    assert answer.json() == {"anonymous_id": "anon-7", "customer_key": "C-42"}
    assert customer_of(store, "v1") == "C-42"
    assert customer_of(store, "v2") == "C-42"
    assert customer_of(store, "v3") == "anon-8"
    customer = Customer.objects.get(store=store, is_anonymous=False, key="C-42")
    assert customer.first_purchase_at == datetime(2026, 2, 2, 10, 0, tzinfo=UTC)
    assert sorted(RecomputeMark.objects.values_list("day", flat=True)) == [
        date(2026, 2, 1),
        date(2026, 2, 2),
    ]
    # Later events the browser still sends as anon-7 count for C-42 too.
    key_client.post(
        BATCH,
        {"events": [item("v4", "add_to_cart", at="2026-02-03T10:00:00Z", anonymous_id="anon-7")]},
        format="json",
    )
    assert customer_of(store, "v4") == "C-42"
    assert Event.objects.filter(store=store, customer=customer).count() == 3


def test_the_same_link_again_is_fine_and_a_second_customer_is_a_conflict(
    key_client: APIClient, store: Any, now: datetime
) -> None:
    link = {"anonymous_id": "anon-1", "customer_key": "C-1"}
    assert key_client.post(IDENTIFY, link, format="json").status_code == 200
    assert key_client.post(IDENTIFY, link, format="json").status_code == 200
    answer = key_client.post(
        IDENTIFY, {"anonymous_id": "anon-1", "customer_key": "C-2"}, format="json"
    )
    assert answer.status_code == 409
    assert answer.json()["error"]["code"] == "identify_conflict"
    anonymous = Customer.objects.get(store=store, is_anonymous=True, key="anon-1")
    assert anonymous.identified_as.key == "C-1"


def test_identify_checks_its_input(key_client: APIClient, now: datetime) -> None:
    answer = key_client.post(IDENTIFY, {"anonymous_id": "anon-1"}, format="json")
    assert answer.status_code == 400
    assert "customer_key" in answer.json()["error"]["details"]
    answer = key_client.post(
        IDENTIFY, {"anonymous_id": "a\x01b", "customer_key": "C-1"}, format="json"
    )
    assert answer.status_code == 400
    assert Customer.objects.count() == 0
