"""POST /api/v1/events/batch/: what a store's server sends, and what is stored."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from rest_framework.test import APIClient

from events.ingest import email_customer_key, key_hash
from events.models import Customer, Event, EventKey, EventName, EventSource, RecomputeMark
from tests.events.conftest import item
from tests.factories import ApiKeyFactory, StoreFactory

URL = "/api/v1/events/batch/"
pytestmark = pytest.mark.django_db(transaction=False)


def post(client: APIClient, events: Any, **extra: Any) -> Any:
    return client.post(URL, {"events": events}, format="json", **extra)


def test_a_mixed_batch_stores_the_good_items_and_reports_the_rest(
    key_client: APIClient, store: Any, now: datetime
) -> None:
    assert post(key_client, [item("e-1", "purchase", customer_key="c9")]).status_code == 200
    answer = post(
        key_client,
        [
            item("e-2", "product_view", anonymous_id="anon-1", session_id="s1"),  # 0 ok
            item("e-1", "purchase", customer_key="c9"),  # 1 sent before
            item("e-3", "bad name!"),  # 2
            item("e-4", at="2026-03-15T10:00:00"),  # 3 no offset
            item("e-5", at="2026-03-17T12:00:01+00:00"),  # 4 over a day ahead
            {"id": "e-6", "name": "x", "occurred_at": "2026-03-15T10:00:00Z"},  # 5 no customer
            item("e-2", "product_view", anonymous_id="anon-1"),  # 6 twice in this batch
            item("e-7", at="2023-12-31T23:59:59Z"),  # 7 before the 25-month horizon
            item("e-8", "add_to_cart", at="2024-02-01T00:00:00Z", properties={"sku": "A-1"}),
            item("e-9", properties={"x": "\u0000"}),  # 9 NUL
            item("e-10", extra_field=1),  # 10 unknown field
            item("", "x"),  # 11 empty id
        ],
    )
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["accepted"] == 2
    assert body["duplicates"] == [1, 6]
    assert [e["index"] for e in body["errors"]] == [2, 3, 4, 5, 7, 9, 10, 11]
    messages = {e["index"]: e["message"] for e in body["errors"]}
    assert "name must be" in messages[2]
    assert "UTC offset" in messages[3]
    assert "more than a day in the future" in messages[4]
    assert "customer_key or anonymous_id" in messages[5]
    assert "before 2024-02-01" in messages[7]
    assert "NUL" in messages[9]
    assert "extra_field" in messages[10]
    assert "id is empty" in messages[11]

    events = list(Event.objects.filter(store=store).order_by("occurred_at", "seq"))
    assert [(e.client_id, e.event_name.name) for e in events] == [
        ("e-8", "add_to_cart"),
        ("e-1", "purchase"),
        ("e-2", "product_view"),
    ]
    assert events[0].properties == {"sku": "A-1"}
    assert events[2].session_id == "s1"
    assert events[2].occurred_at == datetime(2026, 3, 15, 8, 0, tzinfo=UTC)
    assert {e.source for e in events} == {EventSource.API}
    assert events[2].customer.is_anonymous and events[2].customer.key == "anon-1"
    assert EventKey.objects.filter(store=store).count() == 3
    assert sorted(EventName.objects.filter(store=store).values_list("name", flat=True)) == [
        "add_to_cart",
        "product_view",
        "purchase",
    ]
    assert sorted(RecomputeMark.objects.filter(store=store).values_list("day", flat=True)) == [
        date(2024, 2, 1),
        date(2026, 3, 15),
    ]
    assert Customer.objects.get(store=store, key="c9").first_purchase_at == datetime(
        2026, 3, 15, 8, 0, tzinfo=UTC
    )


def test_a_resend_is_a_duplicate_in_its_own_store_only(
    key_client: APIClient, store: Any, now: datetime
) -> None:
    other = StoreFactory(organisation=store.organisation, name="Sister")
    other_raw = "mm_sk_events02_" + "b" * 32
    ApiKeyFactory(store=other, prefix="mm_sk_events02", raw_key=other_raw)
    other_client = APIClient()
    other_client.credentials(HTTP_AUTHORIZATION=f"Bearer {other_raw}")
    batch = [item("same-id"), item("other-id")]
    assert post(key_client, batch).json() == {"accepted": 2, "duplicates": [], "errors": []}
    assert post(key_client, batch).json() == {"accepted": 0, "duplicates": [0, 1], "errors": []}
    assert post(other_client, batch).json()["accepted"] == 2
    assert Event.objects.filter(store=store).count() == 2
    assert Event.objects.filter(store=other).count() == 2
    assert EventKey.objects.filter(store=store, key_hash=key_hash("same-id")).count() == 1


def test_the_first_purchase_ever_is_kept_when_an_earlier_one_arrives_late(
    key_client: APIClient, store: Any, now: datetime
) -> None:
    post(key_client, [item("p2", "purchase", at="2026-03-10T00:00:00Z")])
    post(key_client, [item("p1", "purchase", at="2026-01-05T00:00:00Z")])
    post(key_client, [item("p3", "purchase", at="2026-02-05T00:00:00Z")])
    customer = Customer.objects.get(store=store, key="c1")
    assert customer.first_purchase_at == datetime(2026, 1, 5, tzinfo=UTC)


def test_an_email_as_customer_key_is_stored_only_as_a_keyed_hash(
    key_client: APIClient, store: Any, now: datetime
) -> None:
    post(key_client, [item("e1", customer_key=" Ona@Example.LT ")])
    (customer,) = Customer.objects.filter(store=store)
    assert customer.key == email_customer_key("ona@example.lt")
    assert customer.key.startswith("email:") and "example" not in customer.key


def test_properties_over_8_kb_are_refused_per_item(
    key_client: APIClient, store: Any, now: datetime
) -> None:
    body = post(key_client, [item("big", properties={"x": "y" * 8200}), item("ok")]).json()
    assert body["accepted"] == 1
    assert body["errors"][0]["index"] == 0
    assert "8,192" in body["errors"][0]["message"]


@pytest.mark.parametrize(
    ("payload", "status", "code"),
    [
        ({"events": [item(f"e{i}") for i in range(1001)]}, 400, "invalid"),
        ({"events": []}, 400, "invalid"),
        ({"event": []}, 400, "invalid"),
        ([item("e1")], 400, "invalid"),
    ],
)
def test_a_malformed_body_is_refused_whole(
    key_client: APIClient, store: Any, now: datetime, payload: Any, status: int, code: str
) -> None:
    answer = key_client.post(URL, payload, format="json")
    assert answer.status_code == status
    assert answer.json()["error"]["code"] == code
    assert Event.objects.count() == 0


def test_not_json_is_400_and_over_1_mb_is_413(key_client: APIClient, now: datetime) -> None:
    answer = key_client.post(URL, b"{not json", content_type="application/json")
    assert answer.status_code == 400
    big = json.dumps({"events": [item("e1", properties={"x": "y" * 8000})] * 130})
    assert len(big) > 1_000_000
    answer = key_client.post(URL, big, content_type="application/json")
    assert answer.status_code == 413
    assert answer.json()["error"]["code"] == "request_too_large"


def test_only_the_stores_secret_key_may_send(
    store: Any, api_as: Any, now: datetime, secret_key: Any
) -> None:
    anonymous = APIClient()
    assert post(anonymous, [item("e1")]).status_code == 401
    wrong = APIClient()
    wrong.credentials(HTTP_AUTHORIZATION="Bearer mm_sk_nope_" + "x" * 32)
    assert post(wrong, [item("e1")]).status_code == 401
    publishable_raw = "mm_pk_events03_" + "c" * 32
    ApiKeyFactory(store=store, kind="publishable", prefix="mm_pk_events03", raw_key=publishable_raw)
    publishable = APIClient()
    publishable.credentials(HTTP_AUTHORIZATION=f"Bearer {publishable_raw}")
    assert post(publishable, [item("e1")]).status_code == 403
    assert post(api_as("owner"), [item("e1")]).status_code in (401, 403)
    assert Event.objects.count() == 0


def test_over_the_events_per_minute_limit_is_429_with_retry_after(
    key_client: APIClient, settings: Any, now: datetime
) -> None:
    settings.EVENTS_PER_MINUTE_PER_KEY = 5
    assert post(key_client, [item(f"a{i}") for i in range(3)]).status_code == 200
    refused = post(key_client, [item(f"b{i}") for i in range(3)])
    assert refused.status_code == 429
    assert refused["Retry-After"] == "60"
    assert post(key_client, [item("c0"), item("c1")]).status_code == 200  # 5 of 5
    assert Event.objects.count() == 5


def test_the_batch_is_written_in_a_fixed_number_of_statements(
    key_client: APIClient, store: Any, now: datetime, django_assert_max_num_queries: Any
) -> None:
    batch = [
        item(f"e{i}", ["page_view", "purchase"][i % 2], customer_key=f"c{i % 97}")
        for i in range(1000)
    ]
    post(key_client, [item("warm-up")])  # the key's last use, the partitions
    with django_assert_max_num_queries(16):
        assert post(key_client, batch).json()["accepted"] == 1000
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM events_event_p202603")
        assert cursor.fetchone()[0] == 1001


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_batches_with_the_same_ids_store_each_once(
    store: Any, now: datetime
) -> None:
    """The second batch waits on the first's claim of the ids, then finds them taken."""
    import threading

    from django.db import connection, transaction

    from events.ingest import EventIn
    from events.services import events_ingest
    from tests.locks import wait_for_a_lock_wait

    def batch(ids: list[str]) -> list[EventIn]:
        return [
            EventIn(i, event_id, "page_view", "c1", False, now - timedelta(minutes=i))
            for i, event_id in enumerate(ids)
        ]

    results: dict[str, Any] = {}

    def second() -> None:
        try:
            results["second"] = events_ingest(
                store=store, items=batch(["b", "c", "d"]), source=EventSource.API
            )
        finally:
            connection.close()

    with transaction.atomic():
        results["first"] = events_ingest(
            store=store, items=batch(["a", "b", "c"]), source=EventSource.API
        )
        thread = threading.Thread(target=second)
        thread.start()
        assert wait_for_a_lock_wait()
    thread.join(timeout=10)
    assert results["first"].accepted == 3
    assert results["second"].accepted == 1
    assert results["second"].duplicates == [0, 1]
    stored = Event.objects.filter(store=store).values_list("client_id", flat=True)
    assert sorted(stored) == ["a", "b", "c", "d"]
