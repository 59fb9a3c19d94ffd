"""A metrics worker for tests/metrics/test_worker_kill.py, started in a process of its own:

    python -m tests.metrics.recompute_worker --now ISO --ready FILE [--stop-before-commit FILE]
        [--visibility-timeout SECONDS]

It is the worker production runs (config.worker's app, the prefork pool, the `metrics` queue),
on the database and the Redis that DATABASE_URL and REDIS_URL name, with what a test needs:

- `--now`: core.clock.now() answers this moment, so that the worker's periods are the test's;
- `--ready`: the file is created once the worker consumes from the queue;
- `--stop-before-commit`: a recompute stops inside the transaction that swaps the store's
  results in, after writing the new rows (metrics.signals.results_written), writes
  {"store_id", "backend_pid"} to the file and waits there to be killed;
- `--visibility-timeout`: the broker redelivers a message left unacknowledged this long
  (production's is an hour: config/settings.py, CELERY_BROKER_TRANSPORT_OPTIONS).
"""

from __future__ import annotations

import argparse
import json
import os
import threading
from datetime import datetime
from pathlib import Path
from typing import Any


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--now", required=True, type=datetime.fromisoformat)
    parser.add_argument("--ready", required=True, type=Path)
    parser.add_argument("--stop-before-commit", type=Path)
    parser.add_argument("--visibility-timeout", type=int)
    parser.add_argument("--hostname", default="metrics@%h")
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings_test")
    import django

    django.setup()
    from celery.signals import worker_ready

    from config.worker import app
    from core import clock

    moment: datetime = args.now
    clock.now = lambda: moment
    app.conf.task_always_eager = False  # the test settings run tasks in-process
    if args.visibility_timeout is not None:
        app.conf.broker_transport_options = {
            **app.conf.broker_transport_options,
            "visibility_timeout": args.visibility_timeout,
        }

    def ready(**kwargs: Any) -> None:
        args.ready.touch()

    worker_ready.connect(ready, weak=False)
    if args.stop_before_commit is not None:
        _stop_before_commit(args.stop_before_commit)

    app.worker_main(
        [
            "worker",
            *("--queues", "metrics", "--pool", "prefork", "--concurrency", "1"),
            *("--hostname", args.hostname, "--loglevel", "INFO"),
            *("--without-gossip", "--without-mingle", "--without-heartbeat"),
        ]
    )


def _stop_before_commit(path: Path) -> None:
    from django.db import connection

    from metrics.signals import results_written

    def stop(sender: Any, *, store_id: int, **kwargs: Any) -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            backend_pid = cursor.fetchone()[0]
        written = path.with_suffix(".partial")
        written.write_text(json.dumps({"store_id": store_id, "backend_pid": backend_pid}))
        written.replace(path)  # the test never reads half a file
        threading.Event().wait()  # until the test kills the worker

    results_written.connect(stop, weak=False)


if __name__ == "__main__":
    main()
