"""Background work on events: the partitions' daily care, the webhook log's upkeep."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from celery import shared_task

from events import partitions, shopify


@shared_task(acks_late=True)
def partitions_maintain() -> dict[str, Any]:
    return asdict(partitions.partitions_maintain())


@shared_task(acks_late=True)
def webhook_deliveries_prune() -> int:
    return shopify.webhook_deliveries_prune()
