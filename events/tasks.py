"""Background work on events: the partitions' daily care."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from celery import shared_task

from events import partitions


@shared_task(acks_late=True)
def partitions_maintain() -> dict[str, Any]:
    return asdict(partitions.partitions_maintain())
