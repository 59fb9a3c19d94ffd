"""Shopify-compatible webhooks: a store's orders, fulfillments and refunds as events.

A sender (Shopify, or anything that signs the same way) posts the bare resource as JSON to
/hooks/shopify/<webhook id>/ with the headers X-Shopify-Topic, X-Shopify-Webhook-Id (the same
on every retry of a delivery) and X-Shopify-Hmac-Sha256 (base64 of HMAC-SHA256 of the raw body
with the store's signing secret). The topic comes from the header only: Shopify's own test
notifications reuse one order body for several topics.

Topics and the events they become:
    orders/create               purchase          at created_at
    orders/cancelled            order_cancelled   at cancelled_at
    fulfillments/create         shipped           at created_at
    fulfillment_events/create   out_for_delivery  at happened_at  (status out_for_delivery)
                                delivered         at happened_at  (status delivered)
    refunds/create              return_requested  at created_at
Each event's idempotency id is shopify:<topic>:<resource id>, so that two subscriptions that
deliver the same thing store it once. Orders also create or update the store's contact and
note which customer placed them (ShopifyOrder): fulfillments and refunds name only the order,
and an event of an order never received is reported in the delivery log, not stored.

The JSON is read with msgspec, whose integers are Python ints: a customer id above 2^53 stays
exact (a JSON reader that goes through doubles would change its last digits).

A delivery is answered as soon as it is verified and stored; what events set off (surveys
triggered, metrics told) runs after the commit (events.services.events_ingest).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import F

from accounts.models import Store
from accounts.services import Actor, audit_record
from core import clock
from events import ingest
from events.ingest import EventIn, ItemError, Window
from events.models import Customer, EventSource, ShopifyOrder, ShopifyWebhook, WebhookDelivery
from events.services import events_ingest
from surveys.models import SURVEY_LANGUAGES, Contact
from surveys.services import contact_upsert

Result = WebhookDelivery.Result

SIGNATURE_HEADER = "X-Shopify-Hmac-Sha256"
TOPIC_HEADER = "X-Shopify-Topic"
WEBHOOK_ID_HEADER = "X-Shopify-Webhook-Id"

# Delivery log rows are kept this long: far beyond Shopify's retries of one delivery (hours),
# long enough for a developer to look back at a week's deliveries.
WEBHOOK_DELIVERY_DAYS = 30
# A resource id's text, at most: "shopify:fulfillment_events/create:" takes 34 of the 64
# characters an idempotency id may have (Shopify's ids have up to 19 digits).
MAX_RESOURCE_ID = 30
# Fulfillment events that become events; the others (in_transit, confirmed…) are acknowledged.
DELIVERY_STATUSES = ("out_for_delivery", "delivered")
# Fulfillments in these states shipped nothing.
FAILED_FULFILLMENT = frozenset({"cancelled", "error", "failure"})

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


# --- The resources, as much of them as is read (msgspec ignores the other fields)


class _Customer(msgspec.Struct):
    id: int | str | None = None
    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None


class _Address(msgspec.Struct):
    name: str | None = None


class _Order(msgspec.Struct):
    id: int | str
    created_at: str | None = None
    cancelled_at: str | None = None
    cancel_reason: str | None = None
    email: str | None = None
    contact_email: str | None = None
    customer: _Customer | None = None
    customer_locale: str | None = None
    billing_address: _Address | None = None
    name: str | None = None
    total_price: str | int | float | None = None
    currency: str | None = None
    test: bool | None = None


class _Fulfillment(msgspec.Struct):
    id: int | str
    order_id: int | str
    created_at: str | None = None
    status: str | None = None
    tracking_company: str | None = None
    tracking_number: str | None = None


class _FulfillmentEvent(msgspec.Struct):
    id: int | str
    order_id: int | str
    status: str
    fulfillment_id: int | str | None = None
    happened_at: str | None = None
    created_at: str | None = None


class _Refund(msgspec.Struct):
    id: int | str
    order_id: int | str
    created_at: str | None = None


# --- The endpoint: its address and secret


def new_secret() -> str:
    return secrets.token_urlsafe(32)


@transaction.atomic
def shopify_webhook_rotate(*, store: Store, actor: Actor) -> ShopifyWebhook:
    """A new webhook address and signing secret for the store (the first ones, the first
    time). The old address answers 404 at once and the old secret verifies nothing."""
    now = clock.now()
    webhook = ShopifyWebhook.objects.select_for_update().filter(store=store).first()
    first = webhook is None
    if webhook is None:
        webhook = ShopifyWebhook(store=store, created_at=now)
    else:
        webhook.rotated_at = now
    webhook.webhook_id = secrets.token_urlsafe(24)
    webhook.secret = new_secret()
    webhook.secret_is_pasted = False
    webhook.save()
    audit_record(
        organisation=store.organisation,
        actor=actor,
        action="shopify_webhook.created" if first else "shopify_webhook.rotated",
        target=store,
    )
    return webhook


MIN_PASTED_SECRET = 16


@transaction.atomic
def shopify_webhook_secret_set(*, store: Store, actor: Actor, secret: str) -> ShopifyWebhook:
    """Verify deliveries with the secret the sender signs with: Shopify signs the webhooks
    made in its admin with a key it shows there, and an app's with the app's client secret,
    neither of which we choose. The address stays."""
    secret = secret.strip()
    if len(secret) < MIN_PASTED_SECRET or _CONTROL.search(secret):
        raise ValidationError(
            {
                "secret": (
                    f"Paste the whole signing secret: at least {MIN_PASTED_SECRET} characters, "
                    "on one line."
                )
            }
        )
    webhook = ShopifyWebhook.objects.select_for_update().filter(store=store).first()
    if webhook is None:
        raise ValidationError("Create the webhook address first.")
    webhook.secret = secret
    webhook.secret_is_pasted = True
    webhook.rotated_at = clock.now()
    webhook.save(update_fields=["secret", "secret_is_pasted", "rotated_at"])
    audit_record(
        organisation=store.organisation,
        actor=actor,
        action="shopify_webhook.secret_set",
        target=store,
    )
    return webhook


def signature_valid(*, secret: str, body: bytes, signature: str | None) -> bool:
    """Shopify's signature: base64 of HMAC-SHA256 of the raw body, compared in constant time."""
    if not signature:
        return False
    expected = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest())
    return hmac.compare_digest(expected, signature.strip().encode("utf-8", "replace"))


# --- A delivery


@dataclass(frozen=True)
class Receipt:
    """The answer to a delivery: its HTTP status and what it came to."""

    status: int
    result: str
    detail: str

    def as_dict(self) -> dict[str, str]:
        return {"result": self.result, "detail": self.detail}


@dataclass
class _Outcome:
    result: str
    detail: str = ""
    resource_id: str = ""
    stored: int = 0
    duplicate: int = 0


def _header_text(value: str | None) -> str:
    return _CONTROL.sub("", (value or "").strip())[:64]


def shopify_delivery_receive(
    *,
    webhook: ShopifyWebhook,
    body: bytes,
    signature: str | None,
    webhook_id: str | None,
    topic: str | None,
) -> Receipt:
    """Verify a delivery, store what it says once, and log it. A bad or missing signature
    stores nothing but its log line (401); the same webhook id again is acknowledged and
    counted on the first delivery's line (200); a body that is not the topic's resource is
    400; everything else 200, with the result in the answer and the log."""
    store = webhook.store
    now = clock.now()
    if not signature_valid(secret=webhook.secret, body=body, signature=signature):
        detail = (
            f"No {SIGNATURE_HEADER} header: the sender did not sign the body."
            if not signature
            else f"{SIGNATURE_HEADER} does not match the body signed with this store's secret: "
            "check the signing secret on the store's webhook page."
        )
        WebhookDelivery.objects.create(
            store=store,
            webhook_id=_header_text(webhook_id),
            topic=_header_text(topic),
            received_at=now,
            result=Result.BAD_SIGNATURE,
            detail=detail,
        )
        return Receipt(401, Result.BAD_SIGNATURE, detail)
    delivery_id, topic_text = _header_text(webhook_id), _header_text(topic)
    missing = [
        name for name, value in ((WEBHOOK_ID_HEADER, delivery_id), (TOPIC_HEADER, topic_text))
        if not value
    ]  # fmt: skip
    if missing:
        detail = f"No {' and no '.join(missing)} header."
        WebhookDelivery.objects.create(
            store=store,
            webhook_id="",  # nothing to deduplicate on
            topic=topic_text,
            received_at=now,
            result=Result.INVALID,
            detail=detail,
        )
        return Receipt(400, Result.INVALID, detail)
    with transaction.atomic():
        delivery = WebhookDelivery(
            store=store,
            webhook_id=delivery_id,
            topic=topic_text,
            received_at=now,
            result=Result.STORED,
        )
        try:
            # A retry running at the same time waits here for this one, then finds it.
            with transaction.atomic():
                delivery.save()
        except IntegrityError:
            WebhookDelivery.objects.filter(store=store, webhook_id=delivery_id).exclude(
                result=Result.BAD_SIGNATURE
            ).update(repeats=F("repeats") + 1, last_repeat_at=now)
            return Receipt(
                200,
                "repeat",
                f"Webhook {delivery_id} was received before; nothing new is stored.",
            )
        outcome = _apply(store=store, topic=topic_text.lower(), body=body, now=now)
        delivery.result = outcome.result
        delivery.detail = outcome.detail[:300]
        delivery.resource_id = outcome.resource_id
        delivery.events_stored = outcome.stored
        delivery.events_duplicate = outcome.duplicate
        delivery.save(
            update_fields=[
                "result",
                "detail",
                "resource_id",
                "events_stored",
                "events_duplicate",
            ]
        )
    return Receipt(400 if outcome.result == Result.INVALID else 200, outcome.result, outcome.detail)


class _Unreadable(ValueError):
    """The body is not the topic's resource: the message says what is wrong."""


def _apply(*, store: Store, topic: str, body: bytes, now: datetime) -> _Outcome:
    handler = _HANDLERS.get(topic)
    if handler is None:
        return _Outcome(
            Result.UNMAPPED_TOPIC, detail=f"No event is made from {topic}; acknowledged."
        )
    try:
        return handler(store, topic, body, now)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        return _Outcome(Result.INVALID, detail=f"The body is not a {topic} resource: {exc}")
    except _Unreadable as exc:
        return _Outcome(Result.INVALID, detail=str(exc))


def _id_text(value: int | str | None, field: str) -> str:
    """An id as the exact text of its digits (or the sender's own text id)."""
    text = str(value).strip() if value is not None else ""
    if not text or len(text) > MAX_RESOURCE_ID or _CONTROL.search(text):
        raise _Unreadable(
            f"{field} must be a number or a text of 1 to {MAX_RESOURCE_ID} characters."
        )
    return text


def _moment(value: str, field: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ItemError(
            f"{field} {value[:40]!r} is not an ISO 8601 date and time "
            "(e.g. 2026-03-01T14:05:00+02:00)."
        ) from None
    if moment.utcoffset() is None:
        raise ItemError(f"{field} needs a UTC offset (e.g. 2026-03-01T14:05:00+02:00).")
    return moment.astimezone(UTC)


def _event(
    store: Store,
    *,
    topic: str,
    resource_id: str,
    name: str,
    at: str | None,
    at_field: str,
    customer_key: str,
    properties: dict[str, Any],
    email: str = "",
    note: str = "",
) -> _Outcome:
    """One event through the shared write path (which deduplicates its idempotency id and
    triggers surveys after the commit)."""
    outcome = _Outcome(Result.IGNORED, resource_id=resource_id)
    if not at:
        outcome.detail = f"No {at_field} in the body: no time to put {name} at."
        return outcome
    try:
        moment = _moment(at, at_field)
        Window.for_store(store).check(moment)
    except ItemError as exc:
        outcome.detail = f"{name} not stored: {str(exc).replace('occurred_at', at_field)}{note}"
        return outcome
    item = EventIn(
        index=0,
        client_id=f"shopify:{topic}:{resource_id}",
        name=name,
        customer_key=customer_key,
        is_anonymous=False,
        occurred_at=moment,
        properties=ingest.properties_text(
            {k: v for k, v in properties.items() if v is not None and v != ""}
        ),
    )
    result = events_ingest(
        store=store,
        items=[item],
        source=EventSource.SHOPIFY,
        emails={customer_key: email} if email else None,
    )
    when = f"{moment:%Y-%m-%d %H:%M} UTC"
    if result.accepted:
        outcome.result, outcome.stored = Result.STORED, 1
        outcome.detail = f"{name} at {when}.{note}"
    else:
        outcome.result, outcome.duplicate = Result.DUPLICATE, 1
        outcome.detail = f"{name} at {when} was stored before (an earlier delivery).{note}"
    return outcome


# --- Orders


def _language(locale: str | None) -> str:
    """`lt-LT` → `lt`: a survey language, or nothing."""
    code = re.split(r"[-_]", (locale or "").strip().lower(), maxsplit=1)[0]
    return code if code in SURVEY_LANGUAGES else ""


def _order_email(order: _Order) -> str:
    customer_email = order.customer.email if order.customer else None
    for email in (order.email, order.contact_email, customer_email):
        if email and email.strip():
            return email.strip()
    return ""


def _order_name(order: _Order) -> str:
    customer = order.customer
    if customer is not None:
        name = " ".join(p.strip() for p in (customer.first_name, customer.last_name) if p)
        if name.strip():
            return name.strip()
    return (order.billing_address.name or "").strip() if order.billing_address else ""


def _contact_save(
    store: Store, *, order: _Order, email: str, customer_key: str
) -> tuple[Contact | None, str]:
    """The store's contact for the order's buyer, created or updated (name, language). A
    customer known only by email is not given the email's hash as its customer key: a key the
    store gave the contact (an import) stays."""
    if not email:
        return None, " No email: no contact."
    try:
        contact, _created = contact_upsert(
            store=store,
            email=email,
            customer_key=customer_key,
            name=_order_name(order),
            language=_language(order.customer_locale),
        )
    except ValidationError:
        return None, " The email is not valid: no contact."
    return contact, ""


def _order_received(store: Store, topic: str, body: bytes, now: datetime) -> _Outcome:
    order = msgspec.json.decode(body, type=_Order)
    order_id = _id_text(order.id, "id")
    if order.test:
        return _Outcome(
            Result.IGNORED,
            resource_id=order_id,
            detail='A test order ("test": true, as in Shopify\'s test notifications): '
            "acknowledged, not stored.",
        )
    email = _order_email(order)
    customer_id = order.customer.id if order.customer is not None else None
    try:
        if customer_id is not None:
            key = ingest.customer_key_clean(_id_text(customer_id, "customer.id"))
        elif email:
            key = ingest.email_customer_key(email)
        else:
            return _Outcome(
                Result.IGNORED,
                resource_id=order_id,
                detail="The order names no customer and no email: nobody to count it for.",
            )
    except ItemError as exc:
        raise _Unreadable(str(exc)) from None
    contact, note = _contact_save(
        store, order=order, email=email, customer_key=key if customer_id is not None else ""
    )
    with connection.cursor() as cursor:
        customer_pk = ingest.customer_ids(cursor, store.pk, {(False, key)}, now)[(False, key)]
        cursor.execute(
            "INSERT INTO events_shopifyorder (store_id, order_id, customer_id, received_at) "
            "VALUES (%s, %s, %s, %s) ON CONFLICT (store_id, order_id) "
            "DO UPDATE SET customer_id = EXCLUDED.customer_id",
            [store.pk, order_id, customer_pk, now],
        )
    if contact is not None:
        Customer.objects.filter(pk=customer_pk).exclude(contact=contact).update(contact=contact)
    if topic == "orders/create":
        name, at, at_field = "purchase", order.created_at, "created_at"
    else:
        name, at, at_field = "order_cancelled", order.cancelled_at, "cancelled_at"
    return _event(
        store,
        topic=topic,
        resource_id=order_id,
        name=name,
        at=at,
        at_field=at_field,
        customer_key=key,
        email=contact.email if contact is not None else "",
        note=note,
        properties={
            "order_id": order_id,
            "order_name": order.name,
            "total_price": order.total_price,
            "currency": order.currency,
            "cancel_reason": order.cancel_reason if name == "order_cancelled" else None,
        },
    )


# --- What names only the order


@dataclass(frozen=True)
class _Buyer:
    customer_key: str
    email: str


def _buyer(store: Store, order_id: str) -> _Buyer | None:
    row = (
        ShopifyOrder.objects.filter(store=store, order_id=order_id)
        .select_related("customer__contact")
        .first()
    )
    if row is None:
        return None
    contact = row.customer.contact
    return _Buyer(row.customer.key, contact.email if contact is not None else "")


def _of_order(
    store: Store, *, topic: str, order_id: str, resource_id: str, name: str, **event: Any
) -> _Outcome:
    buyer = _buyer(store, order_id)
    if buyer is None:
        return _Outcome(
            Result.UNKNOWN_ORDER,
            resource_id=resource_id,
            detail=f"Order {order_id} was never received (subscribe to orders/create): "
            f"{name} not stored.",
        )
    return _event(
        store,
        topic=topic,
        resource_id=resource_id,
        name=name,
        customer_key=buyer.customer_key,
        email=buyer.email,
        **event,
    )


def _fulfillment_received(store: Store, topic: str, body: bytes, now: datetime) -> _Outcome:
    fulfillment = msgspec.json.decode(body, type=_Fulfillment)
    resource_id = _id_text(fulfillment.id, "id")
    order_id = _id_text(fulfillment.order_id, "order_id")
    status = (fulfillment.status or "").lower()
    if status in FAILED_FULFILLMENT:
        return _Outcome(
            Result.IGNORED,
            resource_id=resource_id,
            detail=f"A fulfillment with status {status}: nothing shipped.",
        )
    return _of_order(
        store,
        topic=topic,
        order_id=order_id,
        resource_id=resource_id,
        name="shipped",
        at=fulfillment.created_at,
        at_field="created_at",
        properties={
            "order_id": order_id,
            "fulfillment_id": resource_id,
            "tracking_company": fulfillment.tracking_company,
            "tracking_number": fulfillment.tracking_number,
        },
    )


def _fulfillment_event_received(store: Store, topic: str, body: bytes, now: datetime) -> _Outcome:
    event = msgspec.json.decode(body, type=_FulfillmentEvent)
    resource_id = _id_text(event.id, "id")
    order_id = _id_text(event.order_id, "order_id")
    status = event.status.strip().lower()
    if status not in DELIVERY_STATUSES:
        return _Outcome(
            Result.IGNORED,
            resource_id=resource_id,
            detail=f"Status {status[:40]!r}: only {' and '.join(DELIVERY_STATUSES)} become events.",
        )
    at, at_field = (
        (event.happened_at, "happened_at")
        if event.happened_at
        else (event.created_at, "created_at")
    )
    return _of_order(
        store,
        topic=topic,
        order_id=order_id,
        resource_id=resource_id,
        name=status,
        at=at,
        at_field=at_field,
        properties={
            "order_id": order_id,
            "fulfillment_id": (
                _id_text(event.fulfillment_id, "fulfillment_id")
                if event.fulfillment_id is not None
                else None
            ),
        },
    )


def _refund_received(store: Store, topic: str, body: bytes, now: datetime) -> _Outcome:
    refund = msgspec.json.decode(body, type=_Refund)
    resource_id = _id_text(refund.id, "id")
    order_id = _id_text(refund.order_id, "order_id")
    return _of_order(
        store,
        topic=topic,
        order_id=order_id,
        resource_id=resource_id,
        name="return_requested",
        at=refund.created_at,
        at_field="created_at",
        properties={"order_id": order_id, "refund_id": resource_id},
    )


_HANDLERS: dict[str, Callable[[Store, str, bytes, datetime], _Outcome]] = {
    "orders/create": _order_received,
    "orders/cancelled": _order_received,
    "fulfillments/create": _fulfillment_received,
    "fulfillment_events/create": _fulfillment_event_received,
    "refunds/create": _refund_received,
}
MAPPED_TOPICS = tuple(_HANDLERS)


# --- The log's upkeep


def webhook_deliveries_prune(*, batch_size: int = 5000) -> int:
    """Remove delivery log rows older than WEBHOOK_DELIVERY_DAYS, store by store (the
    (store, received_at) index finds them), in short batches. Returns how many went."""
    cutoff = clock.now() - timedelta(days=WEBHOOK_DELIVERY_DAYS)
    total = 0
    for store_id in ShopifyWebhook.objects.values_list("store_id", flat=True).order_by():
        while True:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(
                    "DELETE FROM events_webhookdelivery WHERE id IN (SELECT id FROM "
                    "events_webhookdelivery WHERE store_id = %s AND received_at < %s LIMIT %s)",
                    [store_id, cutoff, batch_size],
                )
                deleted = cursor.rowcount
            total += deleted
            if deleted < batch_size:
                break
    return total
