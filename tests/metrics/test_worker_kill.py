"""A metrics worker killed with SIGKILL in the middle of a recompute.

The worker is a real one in processes of its own (tests/metrics/recompute_worker.py: the
prefork pool on the `metrics` queue) on the test database and the real Redis. It stops at the
worst moment of "recompute now": inside the transaction that swaps the store's results in,
after the new rows are written and before they commit; and its process group is killed there.
Then a reader sees the previous recompute's rows, exactly; the store's metrics lock is free (a
session lock dies with its connection); and a worker started later runs the same task again
and leaves the rows a clean recompute gives.

The task comes again because it is acknowledged only once it has run (acks late): Redis keeps
the killed worker's message among the unacknowledged ones and hands it out again when a worker
sweeps them after the broker's visibility timeout (an hour in production: a worker sweeps when
it starts and every hundred seconds or so). Here the second worker's visibility timeout is
zero, so that its sweep when it starts hands the message out again whatever its age, and its
clock is an hour later than the first's, so that the task left running, silent for longer than
core.services.STALE_AFTER, may be taken over.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from accounts.models import Store
from config.celery import app
from core.models import Task
from events.models import EventBlock
from metrics import recompute, services
from metrics.models import FunnelResult
from tests.config.test_celery import _require_redis
from tests.metrics.conftest import journey_for
from tests.metrics.test_funnel_api import EXAMPLE, STAGES, ingest

ROOT = Path(__file__).resolve().parents[2]
# Generous for a loaded two-core machine: a worker starts in 2 to 5 s, a recompute of the
# example takes well under a second.
START_TIMEOUT = 40.0
RUN_TIMEOUT = 40.0
EXIT_TIMEOUT = 10.0
LATER = timedelta(hours=1)  # the second worker's clock: past the visibility timeout and STALE_AFTER


def _test_database_url() -> str:
    """DATABASE_URL (the conftest sets it for the embedded server too), naming the database
    of the test run."""
    parts = urllib.parse.urlsplit(os.environ["DATABASE_URL"])
    return parts._replace(path="/" + str(connection.settings_dict["NAME"])).geturl()


class Worker:
    """tests/metrics/recompute_worker.py in a process group of its own, logging to a file."""

    def __init__(self, folder: Path, name: str, *, now: datetime, options: list[str]) -> None:
        self.log_path = folder / f"{name}.log"
        self.ready_path = folder / f"{name}.ready"
        command = [
            *(sys.executable, "-m", "tests.metrics.recompute_worker"),
            *("--now", now.isoformat(), "--ready", str(self.ready_path)),
            *("--hostname", f"{name}@%h", *options),
        ]
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings_test",
            "DATABASE_URL": _test_database_url(),
            "REDIS_URL": _require_redis(),
        }
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                command,
                cwd=ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-6000:]

    def wait_ready(self) -> None:
        _wait(
            self.ready_path.exists,
            START_TIMEOUT,
            lambda: f"the worker did not start consuming:\n{self.log()}",
            self,
        )

    def kill(self) -> None:
        """SIGKILL to the whole group (the main process and its pool's child), as the kernel's
        out-of-memory killer or `kill -9` of a container would."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        try:
            self.process.wait(EXIT_TIMEOUT)
        except subprocess.TimeoutExpired:
            pytest.fail(f"the worker did not die on SIGKILL:\n{self.log()}")


def _wait(done: Callable[[], bool], timeout: float, why: Callable[[], str], worker: Worker) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        if worker.process.poll() is not None:
            pytest.fail(f"the worker stopped (exit {worker.process.returncode}): {why()}")
        if time.monotonic() > deadline:
            pytest.fail(f"after {timeout:.0f} s, {why()}")
        time.sleep(0.1)


def _rows(store: Store) -> list[dict[str, Any]]:
    """Every stored result of the store, every column."""
    rows = FunnelResult.objects.filter(store=store).order_by("kind", "start", "end").values()
    return [
        {**row, "entered": bytes(row["entered"]), "seconds": bytes(row["seconds"])} for row in rows
    ]


def _figures(store: Store) -> list[dict[str, Any]]:
    """The rows without what differs from one recompute to the next (ids, when computed)."""
    return [
        {k: v for k, v in row.items() if k not in {"id", "computed_at"}} for row in _rows(store)
    ]


def _metrics_lock_free(store: Store) -> bool:
    """Whether this connection can take the store's metrics lock (let go at once if so)."""
    key = [recompute._LOCK_NAMESPACE, store.pk]
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", key)
        free = bool(cursor.fetchone()[0])
        if free:
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", key)
    return free


def _backend_gone(pid: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [pid])
        return cursor.fetchone()[0] == 0


def _kill(worker: Worker, backend_pid: int) -> None:
    """SIGKILL the worker, then wait until its database session is gone."""
    worker.kill()
    deadline = time.monotonic() + EXIT_TIMEOUT
    while not _backend_gone(backend_pid):
        assert time.monotonic() < deadline, "the killed worker's database session is still there"
        time.sleep(0.05)


def _queue_on_redis(settings: Any) -> None:
    """Tasks go to the real Redis from now on instead of running in-process (the autouse
    fixtures of tests/conftest.py make them eager again after the test)."""
    app.conf.broker_url = _require_redis()
    app.conf.task_always_eager = False
    settings.CELERY_TASK_ALWAYS_EAGER = False


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[Callable[..., Worker]]:
    """workers(name, now=..., options=[...]) starts one; every one started is killed after."""
    started: list[Worker] = []

    def start(name: str, *, now: datetime, options: list[str]) -> Worker:
        worker = Worker(tmp_path, name, now=now, options=options)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        if worker.process.poll() is None:
            os.killpg(worker.process.pid, signal.SIGKILL)
            worker.process.wait(EXIT_TIMEOUT)


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_swap_leaves_the_previous_results_and_its_task_runs_again(
    utc_store: Any,
    now: datetime,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    settings: Any,
    workers: Callable[..., Worker],
) -> None:
    _require_redis()
    store = utc_store
    journey_for(store, STAGES)
    ingest(store, EXAMPLE)  # tasks are still eager: the recompute this queues runs here
    recompute.results_recompute(store_id=store.pk)
    previous = _rows(store)
    assert len(previous) == 6 + 53 + 12
    assert {row["window_days"] for row in previous} == {30}
    # The figures change (a shorter conversion window), and no recompute is queued for it
    # (written directly): the worker's is the one under test.
    Store.objects.filter(pk=store.pk).update(funnel_window_days=7)
    _queue_on_redis(settings)

    stop_file = tmp_path / "stopped.json"
    first = workers("first", now=now, options=["--stop-before-commit", str(stop_file)])
    first.wait_ready()
    task = services.recompute_start(store=store, user_id=None)

    def task_state() -> str:
        task.refresh_from_db()
        return f"the task is {task.state} ({task.phase})"

    _wait(
        stop_file.exists,
        RUN_TIMEOUT,
        lambda: f"the recompute did not reach the swap; {task_state()}:\n{first.log()}",
        first,
    )
    stopped = json.loads(stop_file.read_text())
    assert stopped["store_id"] == store.pk
    # Stopped with the new rows written: a reader sees the previous ones, and the lock is held.
    assert _rows(store) == previous, "a reader saw rows of a swap that has not committed"
    assert not _metrics_lock_free(store), "the stopped recompute does not hold the store's lock"

    _kill(first, stopped["backend_pid"])
    # Exactly the previous rows: the same ids, figures and computed_at.
    assert _rows(store) == previous, "the killed recompute left rows of its own"
    assert _metrics_lock_free(store), "the killed worker's metrics lock is still held"
    task.refresh_from_db()
    assert task.state == Task.State.RUNNING  # as the killed worker left it

    later = now + LATER
    second = workers("second", now=later, options=["--visibility-timeout", "0"])

    def task_finished() -> bool:
        task.refresh_from_db()
        return task.state in {Task.State.DONE, Task.State.FAILED}

    _wait(
        task_finished,
        RUN_TIMEOUT,
        lambda: f"the task was not run again; {task_state()}:\n{second.log()}",
        second,
    )
    assert task.state == Task.State.DONE, f"{task.error}\n{second.log()}"
    assert task.result is not None
    assert task.result["results"] == len(previous)
    redone = _rows(store)
    assert {row["computed_at"] for row in redone} == {later}  # the second worker's, all of them
    assert {row["window_days"] for row in redone} == {7}
    figures = _figures(store)

    # A clean recompute at the same moment gives the same rows.
    monkeypatch.setattr("core.clock.now", lambda: later)
    recompute.results_recompute(store_id=store.pk)
    assert _figures(store) == figures, "the task run again gave other rows than a clean run"


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_incremental_recompute_loses_no_batch(
    utc_store: Any,
    now: datetime,
    tmp_path: Path,
    settings: Any,
    workers: Callable[..., Worker],
) -> None:
    """The recompute after a batch updates only the customers it touched, taking the batch's
    events from the deltas it compacts: killed before it commits, the deltas are still there,
    and the next recompute takes them."""
    _require_redis()
    store = utc_store
    journey_for(store, STAGES)
    ingest(store, EXAMPLE)  # eager: recomputed here
    recompute.results_recompute(store_id=store.pk)
    previous = _rows(store)
    stop_file = tmp_path / "stopped.json"
    first = workers("first", now=now, options=["--stop-before-commit", str(stop_file)])
    first.wait_ready()
    _queue_on_redis(settings)
    # A batch after the worked example (days from 2026-01-01; the clock is 2026-03-15): its
    # commit queues the debounced recompute on Redis, which the worker takes.
    ingest(store, {"c11": [("search", 70.0), ("product_view", 70.1)], "c12": [("search", 71.0)]})
    _wait(
        stop_file.exists,
        RUN_TIMEOUT,
        lambda: f"the recompute did not reach its commit:\n{first.log()}",
        first,
    )
    stopped = json.loads(stop_file.read_text())
    assert _rows(store) == previous, "a reader saw rows of a recompute that has not committed"
    _kill(first, stopped["backend_pid"])
    assert _rows(store) == previous, "the killed recompute left rows of its own"
    assert EventBlock.objects.filter(store=store, bucket=EventBlock.DELTA).exists()

    done = recompute.results_recompute(store_id=store.pk)
    assert (done["mode"], done["events_added"], done["customers"]) == ("incremental", 3, 2)
    figures = _figures(store)
    last_7 = FunnelResult.objects.get(store=store, kind=FunnelResult.Kind.LAST_7)
    assert [s["funnel"] for s in last_7.stages] == [2, 1, 0, 0, 0]
    recompute.results_recompute(store_id=store.pk, full=True)
    assert _figures(store) == figures, "the incremental recompute differs from a full one"
