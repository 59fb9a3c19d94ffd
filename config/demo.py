"""`make demo`: the app as production runs it (web server, Celery worker, Celery beat), on
one machine with nothing installed but Python.

    python -m config.demo --port 8000

It starts the embedded PostgreSQL and Redis once, when DATABASE_URL and REDIS_URL are unset
(config/embedded_db.py, config/embedded_redis.py, data under .data/), migrates, loads the
demo data, then runs the web server, a worker and beat as child processes that inherit both
URLs, and PORT, from which the settings derive SITE_URL with DEBUG on.

Ctrl-C or SIGTERM stops the children, then Redis, then PostgreSQL (at exit, the last user of
each stops it); when one child stops by itself, the others are stopped too. Each child runs
in its own process group, so that a signal reaches every process of it (the web server's
reloader, the worker's pool) and a Ctrl-C at the terminal reaches only this process, which
stops them in that order.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

from config.embedded_db import PROJECT_DIR, ensure_database_url
from config.embedded_redis import ensure_redis_url

# A worker finishes the task in hand on a Ctrl-C (tasks are acknowledged late); then the rest
# is killed.
STOP_TIMEOUT = 20.0


class Stop(Exception):
    """A Ctrl-C or SIGTERM arrived before the children ran."""


class Demo:
    def __init__(self) -> None:
        self.stop_requested = threading.Event()
        self.children: dict[str, subprocess.Popen[bytes]] = {}

    def on_signal(self, signum: int, frame: FrameType | None) -> None:
        if self.stop_requested.is_set():  # a second Ctrl-C: no more waiting
            self.kill_all(signal.SIGKILL)
        self.stop_requested.set()

    def start(self, name: str, command: Sequence[str]) -> subprocess.Popen[bytes]:
        child = subprocess.Popen(  # noqa: S603 (our own commands)
            list(command), cwd=PROJECT_DIR, stdin=subprocess.DEVNULL, start_new_session=True
        )
        self.children[name] = child
        return child

    def run(self, name: str, command: Sequence[str]) -> None:
        """A set-up step (migrate, demo data): to its end, or until a Ctrl-C."""
        if self.stop_requested.is_set():
            raise Stop
        child = self.start(name, command)
        while child.poll() is None:
            if self.stop_requested.wait(0.1):
                self.stop_all()
                raise Stop
        del self.children[name]
        if child.returncode != 0:
            raise SystemExit(f"{' '.join(command)} failed (exit code {child.returncode})")

    def wait(self) -> str | None:
        """Until a Ctrl-C (None) or until a child stops by itself (its name)."""
        while not self.stop_requested.wait(0.2):
            for name, child in self.children.items():
                if child.poll() is not None:
                    return name
        return None

    def stop_all(self) -> None:
        """A Ctrl-C to every child's group, as at a terminal; SIGKILL for what outlasts it."""
        self.kill_all(signal.SIGINT)
        deadline = time.monotonic() + STOP_TIMEOUT
        while any(_group_alive(child) for child in self.children.values()):
            if time.monotonic() > deadline:
                self.kill_all(signal.SIGKILL)
                break
            time.sleep(0.1)
        for child in self.children.values():
            child.wait()

    def kill_all(self, signum: int) -> None:
        for child in self.children.values():
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(child.pid, signum)


def _group_alive(child: subprocess.Popen[bytes]) -> bool:
    """The child or a process it started (same group) still runs."""
    child.poll()  # reaps the child itself, so that it does not count as alive
    try:
        os.killpg(child.pid, 0)
    except ProcessLookupError:
        return False
    return True


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m config.demo", description=__doc__)
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument(
        "--beat-schedule",
        type=Path,
        default=PROJECT_DIR / ".data" / "celerybeat-schedule",
        help="Celery beat's state file",
    )
    args = parser.parse_args(argv)

    demo = Demo()
    signal.signal(signal.SIGINT, demo.on_signal)
    signal.signal(signal.SIGTERM, demo.on_signal)
    os.environ.setdefault("DEBUG", "true")
    os.environ["PORT"] = str(args.port)
    ensure_database_url()
    ensure_redis_url()
    args.beat_schedule.parent.mkdir(parents=True, exist_ok=True)

    python = sys.executable
    try:
        demo.run("migrate", [python, "manage.py", "migrate", "--no-input"])
        demo.run("demo data", [python, "manage.py", "demo_load"])
    except Stop:
        return 0
    print(
        f"\n  MomentMap runs on http://127.0.0.1:{args.port}, with a Celery worker and beat\n"
        "  Log in as demo@example.com / demo-password (owner) or viewer@example.com / "
        "demo-password (viewer)\n  Ctrl-C stops everything.\n",
        flush=True,
    )
    demo.start("web server", [python, "manage.py", "runserver", f"127.0.0.1:{args.port}"])
    celery = [python, "-m", "celery", "-A", "config.worker"]
    queues = ["-Q", "default,email,metrics", "--concurrency", "2"]
    demo.start("worker", [*celery, "worker", *queues, "--loglevel", "INFO"])
    demo.start(
        "beat", [*celery, "beat", "--schedule", str(args.beat_schedule), "--loglevel", "INFO"]
    )
    stopped_by_itself = demo.wait()
    demo.stop_all()
    if stopped_by_itself:
        print(f"The {stopped_by_itself} stopped, so everything was stopped.", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
