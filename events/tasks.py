"""Background work on events: the partitions' daily care, the webhook log's upkeep, CSV
imports and their tidy-up."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from celery import shared_task

from events import import_run, partitions, shopify


@shared_task(acks_late=True)
def partitions_maintain() -> dict[str, Any]:
    return asdict(partitions.partitions_maintain())


@shared_task(acks_late=True)
def webhook_deliveries_prune() -> int:
    return shopify.webhook_deliveries_prune()


# An import reads a file of up to 2 GB of text: the UCI file's 45 MB takes well under a
# minute, a file forty times larger stays within the hour. A run cut short is safe to repeat.
@shared_task(acks_late=True, soft_time_limit=60 * 60, time_limit=62 * 60)
def event_import_run(*, task_id: int) -> None:
    import_run.event_import_run(task_id=task_id)


@shared_task
def event_imports_tidy() -> list[int]:
    """Every few minutes: clear what runs left behind, and queue again the imports whose
    message was lost or whose worker died. Returns the task ids queued."""
    task_ids = import_run.imports_tidy()
    for task_id in task_ids:
        event_import_run.delay(task_id=task_id)
    return task_ids
