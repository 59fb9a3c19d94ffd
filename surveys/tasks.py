"""Thin Celery tasks for surveys. Sending runs on the `email` queue, comment themes on the
`metrics` queue; every task is idempotent (an invitation's state decides what may happen, a
computation replaces a store's themes whole), so a redelivered task does no harm."""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import shared_task
from django.core.cache import cache
from django.utils import timezone

from accounts.models import Store
from core import clock
from core import services as core_services
from core.models import Task
from surveys import selectors, services

logger = logging.getLogger(__name__)

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


# --- Comment themes, on the `metrics` queue with the other analytics (config/settings.py)

# Counting takes about 8 s per 100,000 answers, plus about half a millisecond per distinct
# word the run meets (each is looked up once); the limit leaves room for far larger stores.
# A run cut short changed nothing: the results are swapped at the end.
_THEMES_LIMITS = {"soft_time_limit": 10 * 60, "time_limit": 11 * 60}
# An erasure's recomputation waits this long, so that erasing many contacts at once queues
# one recomputation of their store.
THEMES_DEBOUNCE_SECONDS = 5
# How far back the beat's look for new free-text answers reaches (every 10 minutes,
# config/settings.py); older answers not computed yet are taken by the nightly run.
THEMES_LOOK_BACK = timedelta(days=1)


@shared_task(acks_late=True, **_THEMES_LIMITS)
def comment_themes_compute(*, store_id: int, task_id: int | None = None) -> dict[str, int]:
    """A store's comment themes, computed now (after new answers, an erasure, nightly, or on
    request with the core Task `task_id` that a page or the API follows)."""
    cache.delete(themes_soon_key(store_id))
    task = core_services.task_claim(task_id=task_id) if task_id is not None else None
    if task_id is not None and task is None:
        return {"comments": 0, "results": 0, "themes": 0}
    try:
        result = services.comment_themes_compute(store_id=store_id)
    except Exception:
        if task is not None:
            core_services.task_fail(task=task, error="The computation failed; it will be retried.")
        raise
    if task is not None:
        core_services.task_done(task=task, result=result)
    return result


@shared_task
def comment_themes_refresh() -> list[int]:
    """Every 10 minutes: the stores with free-text answers saved since their last
    computation. Polled rather than queued by each answer: the answer pages are the hot path
    (a few statements per buyer, bench/answer_bench.py), themes of 90 days need no freshness
    to the second, and a poll loses nothing while the broker is down."""
    store_ids = selectors.stores_with_new_comments(since=clock.now() - THEMES_LOOK_BACK)
    for store_id in store_ids:
        comment_themes_compute.delay(store_id=store_id)
    return store_ids


@shared_task
def comment_themes_refresh_all() -> int:
    """Nightly: every store with a free-text question or stored themes, so that the last 90
    days move with the calendar and anything missed (an erasure whose recomputation could
    not be queued) is caught."""
    store_ids = selectors.stores_with_comment_themes()
    for store_id in store_ids:
        comment_themes_compute.delay(store_id=store_id)
    return len(store_ids)


def themes_soon_key(store_id: int) -> str:
    return f"surveys:comment-themes-soon:{store_id}"


def comment_themes_soon(store_id: int) -> bool:
    """Queue the store's computation unless one is waiting already. False when the queue is
    unreachable: the nightly run takes the store then."""
    if not cache.add(themes_soon_key(store_id), 1, timeout=THEMES_DEBOUNCE_SECONDS + 60):
        return True
    try:
        comment_themes_compute.apply_async(
            kwargs={"store_id": store_id}, countdown=THEMES_DEBOUNCE_SECONDS
        )
    except Exception:
        logger.warning("Could not queue the comment themes of store %s", store_id, exc_info=True)
        cache.delete(themes_soon_key(store_id))
        return False
    return True


THEMES_TASK_KIND = "surveys.comment_themes"


def comment_themes_start(*, store: Store, user_id: int | None) -> Task:
    """Compute the store's comment themes now, on request: a Task that the caller follows
    (`GET /api/v1/tasks/{id}/`), queued for a worker once it commits."""
    return core_services.task_queue(
        organisation_id=store.organisation_id,
        store_id=store.pk,
        created_by_id=user_id,
        kind=THEMES_TASK_KIND,
        send=lambda task: comment_themes_compute.delay(store_id=store.pk, task_id=task.pk),
    )
