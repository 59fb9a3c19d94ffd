"""Background work of the metrics, on the `metrics` queue: recomputing a store's standard
periods (after new events, debounced; after its journey or settings change; nightly; on
request), funnels of other ranges too large to compute in a request, and experiments' results
(when recorded or changed, then after each recompute of the store until complete)."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from celery import shared_task
from django.conf import settings
from django.core.cache import cache

from core import clock
from core import services as core_services
from events.models import RecomputeMark
from journeys.models import Journey
from metrics import experiments, recompute
from metrics.mapping import NoActiveJourney

logger = logging.getLogger(__name__)

# A full recompute of a 10,000,000-event store takes seconds; the limit leaves room for
# stores far larger. A run cut short changed nothing (results are swapped at the end).
_LIMITS = {"soft_time_limit": 15 * 60, "time_limit": 16 * 60}
EXPERIMENT_REFRESH = timedelta(hours=1)


@shared_task(acks_late=True, **_LIMITS)
def store_recompute(
    *, store_id: int, task_id: int | None = None, full: bool = False
) -> dict[str, Any]:
    """The store's standard periods: after new events only the customers they touched
    (metrics/incremental.py) when nothing else changed; `full`, everything."""
    # Batches committing from now on queue a recompute of their own.
    cache.delete(soon_key(store_id))
    task = core_services.task_claim(task_id=task_id) if task_id is not None else None
    if task_id is not None and task is None:
        return {"skipped": "the task runs elsewhere or has finished"}
    cache.set(running_key(store_id), 1, timeout=_LIMITS["time_limit"])
    try:
        result = recompute.results_recompute(store_id=store_id, task=task, full=full)
    except Exception:
        if task is not None:
            core_services.task_fail(task=task, error="The recompute failed; it will be retried.")
        raise
    finally:
        cache.delete(running_key(store_id))
    if task is not None:
        core_services.task_done(task=task, result=result)
    # New events, a changed map or the nightly run: experiments still running follow, each at
    # most once an EXPERIMENT_REFRESH (every batch triggers a recompute, and an experiment's
    # two windows are a read of the whole compact form).
    stale = clock.now() - EXPERIMENT_REFRESH
    for experiment_id in experiments.experiments_open(store_id=store_id, computed_before=stale):
        experiment_compute.delay(experiment_id=experiment_id)
    return result


@shared_task(acks_late=True, **_LIMITS)
def experiment_compute(*, experiment_id: int) -> None:
    """An experiment's result (metrics/experiments.py): after it is recorded or changed, and
    after each recompute of its store while its after window is open. Idempotent."""
    experiments.experiment_compute(experiment_id=experiment_id)


@shared_task(acks_late=True, **_LIMITS)
def custom_range_compute(
    *, store_id: int, task_id: int, start: str, end: str, window_days: int
) -> None:
    from datetime import date

    from accounts.models import Store

    task = core_services.task_claim(task_id=task_id)
    if task is None:
        return
    store = Store.objects.filter(pk=store_id).first()
    if store is None:
        core_services.task_fail(task=task, error="The store no longer exists.")
        return
    try:
        result = recompute.custom_compute(
            store=store,
            start=date.fromisoformat(start),
            end=date.fromisoformat(end),
            window_days=window_days,
            task=task,
        )
    except NoActiveJourney as error:
        core_services.task_fail(task=task, error=str(error))
        return
    core_services.task_done(
        task=task,
        result={
            "start": start,
            "end": end,
            "window_days": window_days,
            "computed_at": result.computed_at.isoformat(),
        },
    )


@shared_task
def marked_stores_recompute() -> list[int]:
    """Every 30 s: stores with events marked for longer than the debounce whose recompute was
    not queued (the queue was unreachable when the batch committed)."""
    before = clock.now() - timedelta(seconds=settings.METRICS_DEBOUNCE_SECONDS * 2)
    store_ids = sorted(
        set(RecomputeMark.objects.filter(marked_at__lt=before).values_list("store_id", flat=True))
    )
    for store_id in store_ids:
        recompute_soon(store_id)
    return store_ids


@shared_task
def stores_recompute() -> int:
    """Nightly: every store with an active journey, so that the rolling periods move with the
    calendar and nothing drifts."""
    store_ids = list(
        Journey.objects.filter(status=Journey.Status.ACTIVE).values_list("store_id", flat=True)
    )
    for store_id in store_ids:
        store_recompute.delay(store_id=store_id, full=True)
    return len(store_ids)


# When a store's standard periods are recomputed: a burst of batches queues one recompute,
# METRICS_DEBOUNCE_SECONDS after its first batch (the recompute takes every batch committed by
# then; one committed later queues the next).


def soon_key(store_id: int) -> str:
    return f"metrics:recompute-soon:{store_id}"


def running_key(store_id: int) -> str:
    return f"metrics:recompute-running:{store_id}"


def recompute_pending(store_id: int) -> bool:
    """A recompute of the store is queued (new events, a change of its map or settings) or
    running: what the pages say beside figures that are about to change."""
    return bool(cache.get_many([soon_key(store_id), running_key(store_id)]))


def recompute_soon(store_id: int) -> bool:
    """Queue the store's recompute unless one is already waiting. False when the queue is
    unreachable: the store's recompute marks stay, and the periodic sweep queues it."""
    delay = float(settings.METRICS_DEBOUNCE_SECONDS)
    # The key outlives the countdown a little: the task deletes it when it starts.
    if not cache.add(soon_key(store_id), 1, timeout=int(delay) + 60):
        return True
    try:
        store_recompute.apply_async(kwargs={"store_id": store_id}, countdown=delay)
    except Exception:  # the broker is down: the marks and the sweep cover it
        logger.warning("Could not queue the recompute of store %s", store_id, exc_info=True)
        cache.delete(soon_key(store_id))
        return False
    return True
