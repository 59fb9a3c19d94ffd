"""Reads for the events pages and the webhook endpoint."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Count

from accounts.models import Store
from events.models import ShopifyWebhook, WebhookDelivery


def shopify_webhook_by_id(*, webhook_id: str) -> ShopifyWebhook | None:
    """The endpoint a webhook URL names, with its store; None for an unknown id, or a store
    or organisation being deleted (its URL stops answering at once)."""
    return (
        ShopifyWebhook.objects.select_related("store")
        .filter(
            webhook_id=webhook_id,
            store__deletion_requested_at__isnull=True,
            store__organisation__deletion_requested_at__isnull=True,
        )
        .first()
    )


def shopify_webhook_of_store(*, store: Store) -> ShopifyWebhook | None:
    return ShopifyWebhook.objects.filter(store=store).first()


def webhook_deliveries_recent(*, store: Store, limit: int = 20) -> list[WebhookDelivery]:
    """The store's latest webhook deliveries, newest first (the (store, received_at) index)."""
    return list(WebhookDelivery.objects.filter(store=store).order_by("-received_at", "-id")[:limit])


def webhook_delivery_counts(*, store: Store, since: datetime) -> dict[str, int]:
    """The store's deliveries per result since a moment: {"stored": 12, "unknown_order": 1}."""
    rows = (
        WebhookDelivery.objects.filter(store=store, received_at__gte=since)
        .order_by()
        .values_list("result")
        .annotate(n=Count("id"))
    )
    return dict(rows)
