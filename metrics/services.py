"""Writes that start the metrics' background work: "recompute now", and a range too large to
compute in a request."""

from __future__ import annotations

from datetime import date

from accounts.models import Store
from core import services as core_services
from core.models import Task
from metrics import tasks
from metrics.recompute import CUSTOM_KIND, RECOMPUTE_KIND


def recompute_start(*, store: Store, user_id: int | None) -> Task:
    """ "Recompute now": a task that a metrics worker takes up."""
    return core_services.task_queue(
        organisation_id=store.organisation_id,
        store_id=store.pk,
        created_by_id=user_id,
        kind=RECOMPUTE_KIND,
        send=lambda task: tasks.store_recompute.delay(
            store_id=store.pk, task_id=task.pk, full=True
        ),
    )


def custom_start(
    *, store: Store, start: date, end: date, window_days: int, user_id: int | None
) -> Task:
    """A range too large to compute in the request: a task computes and keeps it."""
    return core_services.task_queue(
        organisation_id=store.organisation_id,
        store_id=store.pk,
        created_by_id=user_id,
        kind=CUSTOM_KIND,
        send=lambda task: tasks.custom_range_compute.delay(
            store_id=store.pk,
            task_id=task.pk,
            start=start.isoformat(),
            end=end.isoformat(),
            window_days=window_days,
        ),
    )
