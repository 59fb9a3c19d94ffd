"""Writes of background tasks' state (core.models.Task). The worker that runs a task calls
these; each is one short statement of its own (outside the work's transactions, when the
caller is not inside one), so that a page polling the task sees progress as it happens."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.db import models, transaction

from core import clock
from core.models import Task

# A running task whose progress has not moved for this long lost its worker (killed, out of
# memory): a redelivery of the same task may take it over. Work reports progress far more
# often than this.
STALE_AFTER = timedelta(minutes=10)


def task_create(
    *,
    organisation_id: int,
    kind: str,
    store_id: int | None = None,
    created_by_id: int | None = None,
    phase: str = "",
) -> Task:
    """A queued task. Ids, not rows: core does not import the apps that own them."""
    return Task.objects.create(
        organisation_id=organisation_id,
        store_id=store_id,
        created_by_id=created_by_id,
        kind=kind,
        phase=phase,
    )


def task_queue(
    *,
    organisation_id: int,
    kind: str,
    send: Callable[[Task], Any],
    store_id: int | None = None,
    created_by_id: int | None = None,
) -> Task:
    """A task that a worker takes up: created, waiting, and `send(task)` (the Celery task's
    delay) called once the caller's transaction commits, so that no worker looks for a row it
    cannot see yet."""
    with transaction.atomic():
        task = task_create(
            organisation_id=organisation_id,
            store_id=store_id,
            created_by_id=created_by_id,
            kind=kind,
            phase="Waiting for a worker",
        )
        transaction.on_commit(lambda: send(task), robust=True)
    return task


def task_claim(*, task_id: int) -> Task | None:
    """Mark the task running for this worker and return it; None when another worker runs it
    (and is alive) or it has finished: a task delivered twice runs once. The phase it waited
    in ("Waiting for a worker") is over: the work names its own, if any."""
    now = clock.now()
    claimed = Task.objects.filter(pk=task_id).filter(
        models.Q(state=Task.State.QUEUED)
        | models.Q(state=Task.State.RUNNING, updated_at__lt=now - STALE_AFTER)
    )
    if not claimed.update(state=Task.State.RUNNING, started_at=now, updated_at=now, phase=""):
        return None
    return Task.objects.get(pk=task_id)


def task_progress(*, task: Task, done: int, total: int | None = None, phase: str = "") -> None:
    """How far the task is: `done` of `total` (None keeps the total), in the phase named."""
    values: dict[str, Any] = {"done": done, "updated_at": clock.now()}
    if total is not None:
        values["total"] = total
    if phase:
        values["phase"] = phase
    Task.objects.filter(pk=task.pk).update(**values)
    for name, value in values.items():
        setattr(task, name, value)


def task_done(*, task: Task, result: dict[str, Any]) -> None:
    _finish(task, state=Task.State.DONE, result=result, error="")


def task_fail(*, task: Task, error: str, result: dict[str, Any] | None = None) -> None:
    """The task stopped: `error` says why, for people; `result` keeps what it had done."""
    _finish(task, state=Task.State.FAILED, result=result, error=error)


def _finish(task: Task, *, state: str, result: dict[str, Any] | None, error: str) -> None:
    now = clock.now()
    values = {
        "state": state,
        "result": result,
        "error": error,
        "finished_at": now,
        "updated_at": now,
    }
    Task.objects.filter(pk=task.pk).update(**values)
    for name, value in values.items():
        setattr(task, name, value)
