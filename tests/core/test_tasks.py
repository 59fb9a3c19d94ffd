"""Background tasks' state (core.models.Task) and GET /api/v1/tasks/{id}/."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from rest_framework.test import APIClient

from accounts.models import Role
from core import clock
from core import services as task_services
from core.models import Task
from tests.factories import ApiKeyFactory, StoreFactory

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)


@pytest.fixture
def at(monkeypatch: Any) -> Any:
    """at(moment): the clock now reads `moment`."""

    def move(moment: datetime) -> None:
        monkeypatch.setattr(clock, "now", lambda: moment)

    move(T0)
    return move


def _task(store: Any, **fields: Any) -> Task:
    return task_services.task_create(
        organisation_id=store.organisation_id,
        store_id=store.pk,
        kind="events.csv_import",
        **fields,
    )


def test_a_task_is_claimed_once_and_reports_progress_then_its_result(store: Any, at: Any) -> None:
    task = _task(store, phase="Waiting")
    assert (task.state, task.done, task.total, task.percent) == ("queued", 0, None, None)

    claimed = task_services.task_claim(task_id=task.pk)
    assert claimed is not None and claimed.state == "running" and claimed.started_at == T0
    assert claimed.phase == ""  # no longer waiting, whether or not the work names a phase
    assert task_services.task_claim(task_id=task.pk) is None  # a second delivery: skipped

    task_services.task_progress(task=claimed, done=250, total=1000, phase="Reading the file")
    task.refresh_from_db()
    assert (task.phase, task.done, task.total, task.percent) == ("Reading the file", 250, 1000, 25)
    task_services.task_progress(task=claimed, done=1000)
    task.refresh_from_db()
    assert (task.done, task.total, task.percent) == (1000, 1000, 100)

    task_services.task_done(task=claimed, result={"events_stored": 3})
    task.refresh_from_db()
    assert (task.state, task.result, task.error, task.finished_at) == (
        "done",
        {"events_stored": 3},
        "",
        T0,
    )
    assert task.finished
    assert task_services.task_claim(task_id=task.pk) is None  # finished: never run again


def test_a_running_task_whose_worker_stopped_reporting_can_be_taken_over(
    store: Any, at: Any
) -> None:
    task = _task(store)
    assert task_services.task_claim(task_id=task.pk) is not None
    at(T0 + task_services.STALE_AFTER - timedelta(seconds=1))
    assert task_services.task_claim(task_id=task.pk) is None  # still alive
    at(T0 + task_services.STALE_AFTER + timedelta(seconds=1))
    again = task_services.task_claim(task_id=task.pk)
    assert again is not None and again.started_at == T0 + task_services.STALE_AFTER + timedelta(
        seconds=1
    )


def test_a_failed_task_keeps_its_error_and_partial_result(store: Any, at: Any) -> None:
    task = _task(store)
    task_services.task_fail(task=task, error="The file ends early.", result={"rows": 10})
    task.refresh_from_db()
    assert (task.state, task.error, task.result) == ("failed", "The file ends early.", {"rows": 10})


# --- The API


def test_the_api_shows_a_task_of_the_callers_organisation(api_as: Any, store: Any) -> None:
    task = _task(store, phase="Reading the file")
    task_services.task_progress(task=task, done=5, total=20)

    response = api_as(Role.EDITOR).get(f"/api/v1/tasks/{task.pk}/")

    assert response.status_code == 200
    body = response.json()
    assert {k: body[k] for k in ("id", "kind", "store", "state", "phase", "done", "total")} == {
        "id": task.pk,
        "kind": "events.csv_import",
        "store": store.pk,
        "state": "queued",
        "phase": "Reading the file",
        "done": 5,
        "total": 20,
    }
    assert body["percent"] == 25
    assert body["result"] is None and body["error"] == ""


def test_another_organisations_task_is_not_found(
    api_as: Any, store: Any, other_organisation: Any
) -> None:
    theirs = _task(StoreFactory(organisation=other_organisation))
    response = api_as(Role.OWNER).get(f"/api/v1/tasks/{theirs.pk}/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_viewers_cannot_read_tasks(api_as: Any, store: Any) -> None:
    """A task's result may name customers: editors and above."""
    task = _task(store)
    assert api_as(Role.VIEWER).get(f"/api/v1/tasks/{task.pk}/").status_code == 403


def test_a_stores_key_sees_its_own_stores_tasks_only(store: Any) -> None:
    raw = "mm_sk_tasks001_" + "c" * 32
    ApiKeyFactory(store=store, prefix="mm_sk_tasks001", raw_key=raw)
    sister = StoreFactory(organisation=store.organisation, name="Sister store")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")

    assert client.get(f"/api/v1/tasks/{_task(store).pk}/").status_code == 200
    assert client.get(f"/api/v1/tasks/{_task(sister).pk}/").status_code == 404
    assert client.get("/api/v1/tasks/").status_code == 404  # no list: ids come from imports
