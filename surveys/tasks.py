"""Thin Celery tasks for surveys. Sending runs on the `email` queue; every task is idempotent
(an invitation's state decides what may happen), so a redelivered task does no harm."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from surveys import services

# Invitations sent over one SMTP connection by one task.
BATCH_SIZE = 100


@shared_task
def invitations_dispatch() -> int:
    """Every minute: queue the due invitations and reminders of each store, within its send
    rate."""
    services.invitations_mark_stuck(now=timezone.now())
    queued = 0
    due = services.invitations_due(now=timezone.now())
    for ids in due.values():
        for start in range(0, len(ids), BATCH_SIZE):
            batch = ids[start : start + BATCH_SIZE]
            invitations_send.delay(invitation_ids=batch)
            queued += len(batch)
    # Reminders share the store's send rate with the first emails: what this minute has left.
    spent = {store_id: len(ids) for store_id, ids in due.items()}
    for invitation_id in services.reminders_due(now=timezone.now(), spent=spent):
        reminder_send.delay(invitation_id=invitation_id)
    return queued


@shared_task
def invitations_send(*, invitation_ids: list[int]) -> dict[str, int]:
    return services.invitations_send_batch(invitation_ids=invitation_ids)


@shared_task
def reminder_send(*, invitation_id: int) -> str:
    return services.reminder_send(invitation_id=invitation_id).status
