"""POST /hooks/shopify/<webhook id>/: Shopify-compatible webhooks, their signature, the delivery
log, the contacts and surveys they set off, and the store's webhook page.

The bodies are tests/events/fixtures/shopify/*.json, shaped like Shopify's published webhook
examples (bare resources); the customer id 9007199254740993 is 2^53 + 1, which a JSON reader
going through doubles turns into ...992."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test import Client

from accounts.models import AuditLogEntry, Role
from accounts.services import SYSTEM
from events import purges, selectors, shopify, views
from events.ingest import email_customer_key
from events.models import (
    Customer,
    Event,
    EventKey,
    EventSource,
    ShopifyOrder,
    ShopifyWebhook,
    WebhookDelivery,
)
from surveys.models import Contact, Invitation, Survey
from tests.factories import OrganisationFactory, StoreFactory
from tests.surveys.factories import SurveyFactory

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).parent / "fixtures" / "shopify"
SECRET = "mm-test-shopify-signing-secret-7c41e0"
ORDER_ID = "5940139491234567"
CUSTOMER_ID = "9007199254740993"  # 2^53 + 1
Result = WebhookDelivery.Result


def body(name: str, **changes: Any) -> bytes:
    """A fixture's bytes; with changes, its JSON with those top-level fields replaced (Python's
    json keeps integers exact both ways)."""
    raw = (FIXTURES / f"{name}.json").read_bytes()
    if not changes:
        return raw
    data = json.loads(raw)
    data.update(changes)
    return json.dumps(data).encode()


def sign(payload: bytes, secret: str = SECRET) -> str:
    return base64.b64encode(hmac.new(secret.encode(), payload, hashlib.sha256).digest()).decode()


_delivery_numbers = iter(range(1, 1_000_000))


def deliver(
    webhook: ShopifyWebhook,
    topic: str,
    payload: bytes,
    *,
    webhook_id: str | None = None,
    secret: str = SECRET,
    headers: dict[str, str] | None = None,
    url_id: str | None = None,
) -> Any:
    """POST as Shopify does: the raw body, signed, with the topic and a webhook id."""
    sent = {
        "X-Shopify-Topic": topic,
        "X-Shopify-Hmac-Sha256": sign(payload, secret),
        "X-Shopify-Webhook-Id": webhook_id or f"b54557e4-{next(_delivery_numbers):04d}",
        "X-Shopify-Shop-Domain": "baltic-goods.myshopify.com",
        "X-Shopify-API-Version": "2026-01",
    }
    if headers is not None:
        sent = headers
    return Client().post(
        f"/hooks/shopify/{url_id or webhook.webhook_id}/",
        data=payload,
        content_type="application/json",
        headers=sent,
    )


@pytest.fixture
def webhook(store: Any) -> ShopifyWebhook:
    shopify.shopify_webhook_rotate(store=store, actor=SYSTEM)
    return shopify.shopify_webhook_secret_set(store=store, actor=SYSTEM, secret=SECRET)


def events_of(store: Any) -> list[tuple[str, str, str, datetime]]:
    return [
        (e.client_id, e.event_name.name, e.customer.key, e.occurred_at)
        for e in Event.objects.filter(store=store)
        .select_related("event_name", "customer")
        .order_by("occurred_at", "seq")
    ]


def nothing_stored(store: Any) -> bool:
    return not (
        Event.objects.filter(store=store).exists()
        or EventKey.objects.filter(store=store).exists()
        or Customer.objects.filter(store=store).exists()
        or ShopifyOrder.objects.filter(store=store).exists()
        or Contact.objects.filter(store=store).exists()
    )


# --- Orders


def test_an_order_is_a_purchase_of_the_exact_customer_and_makes_their_contact(
    webhook: ShopifyWebhook, store: Any, now: datetime
) -> None:
    response = deliver(webhook, "orders/create", body("orders_create"), webhook_id="wh-order-1")

    assert response.status_code == 200
    assert response.json() == {"result": "stored", "detail": "purchase at 2026-03-14 16:20 UTC."}
    assert events_of(store) == [
        (
            f"shopify:orders/create:{ORDER_ID}",
            "purchase",
            CUSTOMER_ID,  # not 9007199254740992, what a double would make of it
            datetime(2026, 3, 14, 16, 20, tzinfo=UTC),
        )
    ]
    event = Event.objects.get(store=store)
    assert event.source == EventSource.SHOPIFY
    assert event.properties == {
        "order_id": ORDER_ID,
        "order_name": "#1042",
        "total_price": "84.90",
        "currency": "EUR",
    }
    contact = Contact.objects.get(store=store)
    assert (contact.email, contact.name, contact.language, contact.customer_key) == (
        "ruta.jonaitiene@example.com",
        "Rūta Jonaitienė",
        "lt",  # from customer_locale lt-LT
        CUSTOMER_ID,
    )
    customer = Customer.objects.get(store=store)
    assert (customer.key, customer.contact_id) == (CUSTOMER_ID, contact.pk)
    assert customer.first_purchase_at == datetime(2026, 3, 14, 16, 20, tzinfo=UTC)
    order = ShopifyOrder.objects.get(store=store)
    assert (order.order_id, order.customer_id) == (ORDER_ID, customer.pk)
    delivery = WebhookDelivery.objects.get(store=store)
    assert (
        delivery.webhook_id,
        delivery.topic,
        delivery.result,
        delivery.resource_id,
        delivery.events_stored,
        delivery.events_duplicate,
        delivery.repeats,
        delivery.received_at,
    ) == ("wh-order-1", "orders/create", Result.STORED, ORDER_ID, 1, 0, 0, now)


@pytest.mark.parametrize(
    ("locale", "language"),
    [("et", "et"), ("cs-CZ", "cs"), ("ro_RO", "ro"), ("de-DE", ""), (None, "")],
)
def test_a_guest_order_counts_for_the_hash_of_its_email_and_its_language_if_we_survey_in_it(
    webhook: ShopifyWebhook, store: Any, now: datetime, locale: str | None, language: str
) -> None:
    payload = body(
        "orders_create",
        customer=None,
        email=" Guest.Buyer@Example.com ",
        contact_email=None,
        customer_locale=locale,
    )
    assert deliver(webhook, "orders/create", payload).json()["result"] == "stored"

    key = email_customer_key("guest.buyer@example.com")
    assert [e[2] for e in events_of(store)] == [key]
    customer = Customer.objects.get(store=store)
    contact = Contact.objects.get(store=store)
    assert "@" not in customer.key and customer.contact_id == contact.pk
    # The billing address names the guest; no customer key of the store is invented.
    assert (contact.email, contact.name, contact.language, contact.customer_key) == (
        "guest.buyer@example.com",
        "Rūta Jonaitienė",
        language,
        "",
    )


def test_an_order_with_neither_customer_nor_email_is_acknowledged_not_stored(
    webhook: ShopifyWebhook, store: Any, now: datetime
) -> None:
    payload = body("orders_create", customer=None, email=None, contact_email=None)
    response = deliver(webhook, "orders/create", payload)

    assert response.status_code == 200
    assert response.json()["result"] == "ignored"
    assert nothing_stored(store)
    assert WebhookDelivery.objects.get(store=store).detail == (
        "The order names no customer and no email: nobody to count it for."
    )


def test_a_test_order_is_acknowledged_not_stored(
    webhook: ShopifyWebhook, store: Any, now: datetime
) -> None:
    response = deliver(webhook, "orders/create", body("orders_create", test=True))

    assert (response.status_code, response.json()["result"]) == (200, "ignored")
    assert nothing_stored(store)


def test_an_order_beyond_the_stores_window_updates_the_contact_but_stores_no_event(
    webhook: ShopifyWebhook, store: Any, now: datetime
) -> None:
    payload = body("orders_create", created_at="2026-03-17T12:00:01Z")
    response = deliver(webhook, "orders/create", payload)

    assert response.json() == {
        "result": "ignored",
        "detail": "purchase not stored: created_at is more than a day in the future.",
    }
    assert events_of(store) == []
    assert Contact.objects.filter(store=store, language="lt").count() == 1
    assert ShopifyOrder.objects.filter(store=store, order_id=ORDER_ID).exists()


# --- The signature


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        (
            {"X-Shopify-Topic": "orders/create", "X-Shopify-Webhook-Id": "wh-1"},
            "No X-Shopify-Hmac-Sha256 header: the sender did not sign the body.",
        ),
        (
            {
                "X-Shopify-Topic": "orders/create",
                "X-Shopify-Webhook-Id": "wh-1",
                "X-Shopify-Hmac-Sha256": sign(body("orders_create"), "another-secret-0123456789"),
            },
            "X-Shopify-Hmac-Sha256 does not match the body signed with this store's secret: "
            "check the signing secret on the store's webhook page.",
        ),
        (
            {
                "X-Shopify-Topic": "orders/create",
                "X-Shopify-Webhook-Id": "wh-1",
                # The right secret over another body: this one was changed on the way.
                "X-Shopify-Hmac-Sha256": sign(body("orders_create", total_price="0.01")),
            },
            "X-Shopify-Hmac-Sha256 does not match the body signed with this store's secret: "
            "check the signing secret on the store's webhook page.",
        ),
    ],
    ids=["missing", "wrong-secret", "altered-body"],
)
def test_a_bad_or_missing_signature_is_401_and_stores_nothing(
    webhook: ShopifyWebhook, store: Any, now: datetime, headers: dict[str, str], message: str
) -> None:
    response = deliver(webhook, "orders/create", body("orders_create"), headers=headers)

    assert response.status_code == 401
    assert response.json() == {
        "error": {"status": 401, "code": "bad_signature", "message": message, "details": {}}
    }
    assert nothing_stored(store)
    # Logged for the developer, and taking no part in deduplication: the real delivery with
    # the same webhook id still goes in.
    assert list(WebhookDelivery.objects.filter(store=store).values_list("result", "detail")) == [
        (Result.BAD_SIGNATURE, message)
    ]
    good = deliver(webhook, "orders/create", body("orders_create"), webhook_id="wh-1")
    assert good.json()["result"] == "stored"


def test_header_names_are_case_insensitive(
    webhook: ShopifyWebhook, store: Any, now: datetime
) -> None:
    payload = body("orders_create")
    response = deliver(
        webhook,
        "orders/create",
        payload,
        headers={
            "x-shopify-hmac-sha256": sign(payload),
            "X-SHOPIFY-TOPIC": "orders/create",
            "x-Shopify-Webhook-id": "wh-case",
        },
    )

    assert response.status_code == 200
    assert WebhookDelivery.objects.get(store=store).webhook_id == "wh-case"
    assert len(events_of(store)) == 1


def test_a_signed_delivery_without_its_topic_or_webhook_id_is_400(
    webhook: ShopifyWebhook, store: Any, now: datetime
) -> None:
    payload = body("orders_create")
    response = deliver(
        webhook, "orders/create", payload, headers={"X-Shopify-Hmac-Sha256": sign(payload)}
    )

    assert response.status_code == 400
    assert response.json()["error"]["message"] == (
        "No X-Shopify-Webhook-Id and no X-Shopify-Topic header."
    )
    assert nothing_stored(store)


# --- Deduplication


def test_a_replayed_webhook_id_is_200_and_stores_nothing_new(
    webhook: ShopifyWebhook, store: Any, now: datetime
) -> None:
    first = deliver(webhook, "orders/create", body("orders_create"), webhook_id="wh-retry")
    # Shopify's retry carries the same webhook id; even another body changes nothing.
    again = deliver(webhook, "orders/create", body("orders_create"), webhook_id="wh-retry")
    other = deliver(webhook, "orders/cancelled", body("orders_cancelled"), webhook_id="wh-retry")

    assert first.json()["result"] == "stored"
    assert (again.status_code, again.json()) == (
        200,
        {
            "result": "repeat",
            "detail": "Webhook wh-retry was received before; nothing new is stored.",
        },
    )
    assert other.json()["result"] == "repeat"
    assert [e[1] for e in events_of(store)] == ["purchase"]
    delivery = WebhookDelivery.objects.get(store=store)
    assert (delivery.repeats, delivery.last_repeat_at, delivery.result) == (2, now, Result.STORED)


def test_each_topic_has_its_own_id_and_two_subscriptions_store_a_resource_once(
    webhook: ShopifyWebhook, store: Any, now: datetime
) -> None:
    created = deliver(webhook, "orders/create", body("orders_create"))
    # The same order, delivered to a second subscription: another webhook id, the same event.
    second = deliver(webhook, "orders/create", body("orders_create"))
    # Shopify's samples reuse one order body for several topics: the header decides.
    cancelled = deliver(webhook, "orders/cancelled", body("orders_cancelled"))

    assert [r.json()["result"] for r in (created, second, cancelled)] == [
        "stored",
        "duplicate",
        "stored",
    ]
    assert second.json()["detail"] == (
        "purchase at 2026-03-14 16:20 UTC was stored before (an earlier delivery)."
    )
    assert [(e[0], e[1], e[3]) for e in events_of(store)] == [
        (
            f"shopify:orders/create:{ORDER_ID}",
            "purchase",
            datetime(2026, 3, 14, 16, 20, tzinfo=UTC),
        ),
        (
            f"shopify:orders/cancelled:{ORDER_ID}",
            "order_cancelled",
            datetime(2026, 3, 15, 7, 5, tzinfo=UTC),
        ),
    ]
    assert Event.objects.get(store=store, client_id__contains="cancelled").properties == {
        "order_id": ORDER_ID,
        "order_name": "#1042",
        "total_price": "84.90",
        "currency": "EUR",
        "cancel_reason": "customer",
    }
    counts = list(
        WebhookDelivery.objects.filter(store=store)
        .order_by("id")
        .values_list("result", "events_stored", "events_duplicate")
    )
    assert counts == [(Result.STORED, 1, 0), (Result.DUPLICATE, 0, 1), (Result.STORED, 1, 0)]


# --- What names only the order


def test_an_orders_shipment_delivery_and_refund_count_for_its_customer(
    webhook: ShopifyWebhook, store: Any, now: datetime
) -> None:
    answers = [
        deliver(webhook, topic, body(name)).json()
        for topic, name in [
            ("orders/create", "orders_create"),
            ("fulfillments/create", "fulfillments_create"),
            ("fulfillment_events/create", "fulfillment_events_create"),
            ("fulfillment_events/create", "fulfillment_events_create"),  # another subscription
            ("refunds/create", "refunds_create"),
        ]
    ]

    assert [a["result"] for a in answers] == ["stored", "stored", "stored", "duplicate", "stored"]
    assert events_of(store) == [
        (
            f"shopify:orders/create:{ORDER_ID}",
            "purchase",
            CUSTOMER_ID,
            datetime(2026, 3, 14, 16, 20, tzinfo=UTC),
        ),
        (
            "shopify:fulfillments/create:5512987766554433",
            "shipped",
            CUSTOMER_ID,
            datetime(2026, 3, 14, 18, 45, tzinfo=UTC),
        ),
        (
            "shopify:fulfillment_events/create:6623458899001122",
            "delivered",
            CUSTOMER_ID,
            datetime(2026, 3, 15, 8, 30, tzinfo=UTC),  # happened_at, not created_at
        ),
        (
            "shopify:refunds/create:7734561230987654",
            "return_requested",
            CUSTOMER_ID,
            datetime(2026, 3, 15, 9, 10, tzinfo=UTC),
        ),
    ]
    shipped = Event.objects.get(store=store, client_id__startswith="shopify:fulfillments/")
    assert shipped.properties == {
        "order_id": ORDER_ID,
        "fulfillment_id": "5512987766554433",
        "tracking_company": "Omniva",
        "tracking_number": "CE473829105LT",
    }


def test_a_refund_for_an_order_never_received_is_reported_not_stored(
    webhook: ShopifyWebhook, store: Any, now: datetime
) -> None:
    response = deliver(webhook, "refunds/create", body("refunds_create"), webhook_id="wh-ref")

    assert response.status_code == 200
    assert response.json() == {
        "result": "unknown_order",
        "detail": f"Order {ORDER_ID} was never received (subscribe to orders/create): "
        "return_requested not stored.",
    }
    assert nothing_stored(store)
    delivery = WebhookDelivery.objects.get(store=store)
    assert (delivery.result, delivery.resource_id, delivery.events_stored) == (
        Result.UNKNOWN_ORDER,
        "7734561230987654",
        0,
    )
    assert selectors.webhook_delivery_counts(store=store, since=now - timedelta(days=1)) == {
        "unknown_order": 1
    }


def test_another_stores_order_is_unknown_here(
    webhook: ShopifyWebhook, store: Any, now: datetime
) -> None:
    sister = StoreFactory(organisation=store.organisation, name="Baltic Goods LV")
    shopify.shopify_webhook_rotate(store=sister, actor=SYSTEM)
    sister_hook = shopify.shopify_webhook_secret_set(store=sister, actor=SYSTEM, secret=SECRET)
    deliver(sister_hook, "orders/create", body("orders_create"))

    response = deliver(webhook, "fulfillments/create", body("fulfillments_create"))

    assert response.json()["result"] == "unknown_order"
    assert events_of(store) == []
    assert [e[1] for e in events_of(sister)] == ["purchase"]


def test_unmapped_topics_and_statuses_are_acknowledged_and_counted(
    webhook: ShopifyWebhook, store: Any, now: datetime
) -> None:
    deliver(webhook, "orders/create", body("orders_create"))
    product = deliver(webhook, "products/update", body("products_update"))
    in_transit = deliver(
        webhook,
        "fulfillment_events/create",
        body("fulfillment_events_create", id=6623458899001100, status="in_transit"),
    )

    assert (product.status_code, product.json()) == (
        200,
        {
            "result": "unmapped_topic",
            "detail": "No event is made from products/update; acknowledged.",
        },
    )
    assert (in_transit.status_code, in_transit.json()) == (
        200,
        {
            "result": "ignored",
            "detail": "Status 'in_transit': only out_for_delivery and delivered become events.",
        },
    )
    assert [e[1] for e in events_of(store)] == ["purchase"]
    assert selectors.webhook_delivery_counts(store=store, since=now) == {
        "stored": 1,
        "unmapped_topic": 1,
        "ignored": 1,
    }
    assert [d.topic for d in selectors.webhook_deliveries_recent(store=store, limit=2)] == [
        "fulfillment_events/create",
        "products/update",
    ]


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b"not json", "The body is not a orders/create resource: JSON is malformed"),
        (b"[1, 2]", "The body is not a orders/create resource: Expected `object`, got `array`"),
        (
            json.dumps({"id": 1.5, "created_at": "2026-03-14T18:20:00+02:00"}).encode(),
            "The body is not a orders/create resource: Expected `int | str`, got `float`",
        ),
    ],
    ids=["not-json", "not-an-object", "float-id"],
)
def test_a_signed_body_that_is_not_the_topics_resource_is_400_and_logged(
    webhook: ShopifyWebhook, store: Any, now: datetime, payload: bytes, message: str
) -> None:
    response = deliver(webhook, "orders/create", payload, webhook_id="wh-bad")

    assert response.status_code == 400
    assert response.json()["error"]["message"].startswith(message)
    assert nothing_stored(store)
    assert WebhookDelivery.objects.get(store=store).result == Result.INVALID
    # Shopify retries it with the same id: acknowledged, so that it stops.
    assert deliver(webhook, "orders/create", payload, webhook_id="wh-bad").status_code == 200


# --- What events set off


@pytest.fixture
def delivery_survey(store: Any) -> Survey:
    return SurveyFactory(
        store=store,
        status=Survey.Status.ACTIVE,
        trigger_event="delivered",
        delay=timedelta(hours=4),
        languages=["en", "lt"],
    )


def test_a_recent_delivered_webhook_queues_the_delivery_survey_in_the_buyers_language(
    webhook: ShopifyWebhook, store: Any, now: datetime, delivery_survey: Survey, on_commit: Any
) -> None:
    with on_commit(execute=True):
        deliver(webhook, "orders/create", body("orders_create"))
    with on_commit(execute=True):
        response = deliver(webhook, "fulfillment_events/create", body("fulfillment_events_create"))

    assert response.json()["result"] == "stored"
    invitation = Invitation.objects.get(survey=delivery_survey)
    happened = datetime(2026, 3, 15, 8, 30, tzinfo=UTC)
    assert (
        invitation.contact.email,
        invitation.trigger_event,
        invitation.triggered_at,
        invitation.due_at,
        invitation.language,
        invitation.status,
    ) == (
        "ruta.jonaitiene@example.com",
        "delivered",
        happened,
        happened + timedelta(hours=4),
        "lt",
        Invitation.Status.QUEUED,
    )


def test_an_old_delivered_webhook_is_stored_but_queues_no_survey(
    webhook: ShopifyWebhook, store: Any, now: datetime, delivery_survey: Survey, on_commit: Any
) -> None:
    # Older than the survey's delay (4 h) plus two days: history, not a delivery to ask about.
    old = body("fulfillment_events_create", happened_at="2026-03-13T07:59:59Z")
    with on_commit(execute=True):
        deliver(webhook, "orders/create", body("orders_create"))
        response = deliver(webhook, "fulfillment_events/create", old)

    assert response.json()["result"] == "stored"
    assert [e[1] for e in events_of(store)] == ["delivered", "purchase"]
    assert not Invitation.objects.filter(survey=delivery_survey).exists()


def test_a_guest_buyers_delivery_reaches_them_through_their_contact(
    webhook: ShopifyWebhook, store: Any, now: datetime, delivery_survey: Survey, on_commit: Any
) -> None:
    guest = body("orders_create", customer=None, email="guest@example.com", contact_email=None)
    with on_commit(execute=True):
        deliver(webhook, "orders/create", guest)
        deliver(webhook, "fulfillment_events/create", body("fulfillment_events_create"))

    assert Invitation.objects.get(survey=delivery_survey).contact.email == "guest@example.com"


def test_erasing_the_customer_forgets_their_orders(
    webhook: ShopifyWebhook, store: Any, now: datetime
) -> None:
    deliver(webhook, "orders/create", body("orders_create"))
    customer = Customer.objects.get(store=store)

    assert purges.customers_erase(store_id=store.pk, customer_ids=[customer.pk]) == 1
    assert not ShopifyOrder.objects.filter(store=store).exists()
    response = deliver(webhook, "fulfillments/create", body("fulfillments_create"))
    assert response.json()["result"] == "unknown_order"


# --- The address


def test_an_unknown_or_another_stores_webhook_id_finds_nothing(
    webhook: ShopifyWebhook, store: Any, now: datetime
) -> None:
    theirs = StoreFactory(organisation=OrganisationFactory(name="Rival"), name="Rival LT")
    their_hook = shopify.shopify_webhook_rotate(store=theirs, actor=SYSTEM)
    payload = body("orders_create")

    unknown = deliver(webhook, "orders/create", payload, url_id="no-such-webhook-id")
    # Our signature at their address: their secret does not verify it.
    crossed = deliver(their_hook, "orders/create", payload)

    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "not_found"
    assert crossed.status_code == 401
    assert nothing_stored(store) and nothing_stored(theirs)
    assert not WebhookDelivery.objects.filter(store=store).exists()


def test_a_store_being_deleted_stops_answering(
    webhook: ShopifyWebhook, store: Any, now: datetime
) -> None:
    type(store).objects.filter(pk=store.pk).update(deletion_requested_at=now)

    response = deliver(webhook, "orders/create", body("orders_create"))

    assert response.status_code == 404
    assert nothing_stored(store)


def test_rotation_retires_the_old_address_and_secret(
    webhook: ShopifyWebhook, store: Any, now: datetime
) -> None:
    old_id = webhook.webhook_id
    rotated = shopify.shopify_webhook_rotate(store=store, actor=SYSTEM)
    payload = body("orders_create")

    assert rotated.webhook_id != old_id and rotated.secret != SECRET
    assert not rotated.secret_is_pasted
    assert deliver(webhook, "orders/create", payload, url_id=old_id).status_code == 404
    assert deliver(rotated, "orders/create", payload).status_code == 401  # the old secret
    assert deliver(rotated, "orders/create", payload, secret=rotated.secret).status_code == 200
    assert list(
        AuditLogEntry.objects.filter(organisation=store.organisation)
        .order_by("id")
        .values_list("action", flat=True)
    ) == ["shopify_webhook.created", "shopify_webhook.secret_set", "shopify_webhook.rotated"]


def test_the_secret_is_stored_encrypted(webhook: ShopifyWebhook) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT secret FROM events_shopifywebhook WHERE id = %s", [webhook.pk])
        stored = cursor.fetchone()[0]
    assert SECRET not in stored
    assert ShopifyWebhook.objects.get(pk=webhook.pk).secret == SECRET


def test_over_the_stores_webhook_rate_is_429_with_retry_after(
    webhook: ShopifyWebhook, store: Any, now: datetime, settings: Any
) -> None:
    settings.SHOPIFY_WEBHOOKS_PER_MINUTE = 2
    answers = [deliver(webhook, "products/update", b"{}").status_code for _ in range(3)]

    assert answers == [200, 200, 429]
    limited = deliver(webhook, "products/update", b"{}")
    assert limited["Retry-After"] == "60"
    assert WebhookDelivery.objects.filter(store=store).count() == 2


def test_only_post_is_served(webhook: ShopifyWebhook) -> None:
    assert Client().get(f"/hooks/shopify/{webhook.webhook_id}/").status_code == 405


def test_a_delivery_is_answered_in_a_fixed_number_of_statements(
    webhook: ShopifyWebhook, store: Any, now: datetime, django_assert_max_num_queries: Any
) -> None:
    """Verify, store, answer: a handful of statements whatever the order holds (its lines
    are not read), well inside Shopify's 5 s."""
    deliver(webhook, "orders/create", body("orders_create"))  # the month's partition exists
    many_lines = json.loads(body("orders_create"))["line_items"] * 250
    with django_assert_max_num_queries(25):
        deliver(webhook, "orders/create", body("orders_create", id=1, line_items=many_lines))
    with django_assert_max_num_queries(17):
        deliver(webhook, "fulfillments/create", body("fulfillments_create"))


# --- Upkeep


def test_a_stores_purge_removes_its_webhook_rows_only(
    webhook: ShopifyWebhook, store: Any, now: datetime
) -> None:
    other = StoreFactory(organisation=store.organisation, name="Baltic Goods EE")
    shopify.shopify_webhook_rotate(store=other, actor=SYSTEM)
    other_hook = shopify.shopify_webhook_secret_set(store=other, actor=SYSTEM, secret=SECRET)
    for hook in (webhook, other_hook):
        deliver(hook, "orders/create", body("orders_create"))
        deliver(hook, "orders/create", body("orders_create", id=5940139491234568))
        deliver(hook, "products/update", body("products_update"))

    purges.store_events_purge(store_id=store.pk, batch_size=2)

    assert not ShopifyWebhook.objects.filter(store=store).exists()
    assert not WebhookDelivery.objects.filter(store=store).exists()
    assert not ShopifyOrder.objects.filter(store=store).exists()
    # Events, keys and customers too (the store's contacts go with Django's relations).
    assert not Event.objects.filter(store=store).exists()
    assert not EventKey.objects.filter(store=store).exists()
    assert not Customer.objects.filter(store=store).exists()
    assert WebhookDelivery.objects.filter(store=other).count() == 3
    assert ShopifyOrder.objects.filter(store=other).count() == 2
    assert ShopifyWebhook.objects.filter(store=other).exists()


def test_delivery_log_rows_are_kept_thirty_days(
    webhook: ShopifyWebhook, store: Any, now: datetime
) -> None:
    deliver(webhook, "products/update", body("products_update"), webhook_id="kept")
    deliver(webhook, "products/update", body("products_update"), webhook_id="old")
    WebhookDelivery.objects.filter(webhook_id="old").update(
        received_at=now - timedelta(days=30, seconds=1)
    )

    assert shopify.webhook_deliveries_prune(batch_size=1) == 1
    assert list(WebhookDelivery.objects.values_list("webhook_id", flat=True)) == ["kept"]


# --- The store's webhook page


def test_the_page_lists_exactly_the_topics_that_are_mapped() -> None:
    assert [topic for topic, _event, _at in views.TOPIC_EVENTS] == list(shopify.MAPPED_TOPICS)


def test_an_admin_creates_the_address_and_sees_it_with_the_secret(
    client_as: Any, store: Any, settings: Any, now: datetime
) -> None:
    settings.SITE_URL = "https://app.example.com"
    client = client_as(Role.ADMIN)
    url = f"/stores/{store.pk}/shopify-webhooks/"

    empty = client.get(url)
    assert b"This store has no webhook address yet." in empty.content
    created = client.post(url, {"action": "rotate"})
    assert created.status_code == 302

    webhook = ShopifyWebhook.objects.get(store=store)
    page = client.get(url).content.decode()
    assert f"https://app.example.com/hooks/shopify/{webhook.webhook_id}/" in page
    assert webhook.secret in page
    assert "No deliveries yet." in page
    deliver(webhook, "products/update", b"{}", secret=webhook.secret)
    assert "Topic not mapped" in client.get(url).content.decode()


def test_an_admin_pastes_the_senders_secret(client_as: Any, webhook: ShopifyWebhook) -> None:
    client = client_as(Role.ADMIN)
    url = f"/stores/{webhook.store_id}/shopify-webhooks/"

    short = client.post(url, {"action": "secret", "secret": "too-short"})
    saved = client.post(url, {"action": "secret", "secret": "  shpss_0123456789abcdef0123  "})

    assert short.status_code == 400
    assert "at least 16 characters" in short.content.decode()
    assert saved.status_code == 302
    webhook.refresh_from_db()
    assert (webhook.secret, webhook.secret_is_pasted) == ("shpss_0123456789abcdef0123", True)


@pytest.mark.parametrize("role", [Role.VIEWER, Role.EDITOR])
def test_the_secret_stays_with_admins(client_as: Any, webhook: ShopifyWebhook, role: str) -> None:
    client = client_as(role)
    url = f"/stores/{webhook.store_id}/shopify-webhooks/"

    assert client.get(url).status_code == 403
    assert client.post(url, {"action": "rotate"}).status_code == 403
    assert ShopifyWebhook.objects.get(pk=webhook.pk).webhook_id == webhook.webhook_id
