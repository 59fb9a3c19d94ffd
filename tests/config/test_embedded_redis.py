"""The embedded Redis (config/embedded_redis.py): shared by the processes of one data folder,
stopped by the last of them, its data kept across starts, reached over a Unix socket by the
cache, the rate limiter and /healthz.

Each server is started by a helper process, as an entry point starts it: starting it in the
test process would set REDIS_URL for every later test.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from accounts import ratelimit
from config.embedded_redis import MAX_SOCKET_PATH, server_pid, socket_path

ROOT = Path(__file__).resolve().parents[2]

# Starts (or joins) the server, prints its URL and the server's pid, then runs each line it
# reads on stdin (and says "done") until stdin closes; at exit it lets go of the server.
HOLD = """
import sys
from pathlib import Path
from config.embedded_redis import ensure_redis_url, server_pid
url = ensure_redis_url()
print(url, server_pid(Path(sys.argv[1])), flush=True)
for line in sys.stdin:
    exec(line)
    print("done", flush=True)
"""


class Holder:
    def __init__(self, data_dir: Path) -> None:
        env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "EMBEDDED_REDIS_DIR"}}
        self.process = subprocess.Popen(
            [sys.executable, "-c", HOLD, str(data_dir)],
            cwd=ROOT,
            env={**env, "EMBEDDED_REDIS_DIR": str(data_dir)},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        url, pid = self.process.stdout.readline().split()
        self.url = url
        self.server_pid = int(pid)

    def run(self, line: str) -> str:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()
        return self.process.stdout.readline().strip()

    def exit(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        assert self.process.wait(30) == 0


def _stopped(pid: int) -> bool:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


def test_processes_of_one_data_folder_share_a_server_stopped_by_the_last(tmp_path: Path) -> None:
    first = Holder(tmp_path / "redis")
    second = Holder(tmp_path / "redis")
    try:
        assert second.url == first.url
        assert second.url == f"unix://{socket_path((tmp_path / 'redis').resolve())}"
        assert second.server_pid == first.server_pid

        first.exit()  # the one that started it goes first: the server stays for the other
        assert redis.Redis.from_url(second.url).ping()

        second.exit()
        assert _stopped(second.server_pid)
        assert not socket_path((tmp_path / "redis").resolve()).exists()
        assert server_pid(tmp_path / "redis") is None
    finally:
        for holder in (first, second):
            holder.process.kill()


def test_the_data_is_kept_from_one_start_to_the_next(tmp_path: Path) -> None:
    first = Holder(tmp_path / "redis")
    assert (
        first.run("import redis, os; redis.Redis.from_url(os.environ['REDIS_URL']).set('k', 'v')")
        == "done"
    )
    first.exit()
    assert _stopped(first.server_pid)

    again = Holder(tmp_path / "redis")
    try:
        assert again.server_pid != first.server_pid
        assert redis.Redis.from_url(again.url).get("k") == b"v"
    finally:
        again.exit()


def test_a_deep_data_folder_gets_a_short_socket_path_of_its_own(tmp_path: Path) -> None:
    deep = tmp_path / ("d" * 60) / ("e" * 60)
    path = socket_path(deep)
    assert len(os.fsencode(path)) <= MAX_SOCKET_PATH
    assert path == socket_path(deep)  # the same on every start
    assert path != socket_path(tmp_path / ("d" * 60) / ("f" * 60))

    holder = Holder(deep)  # a real server on it
    try:
        assert holder.url == f"unix://{path}"
        assert redis.Redis.from_url(holder.url).ping()
        assert path.parent.stat().st_mode & 0o777 == 0o700  # no other user reaches it
    finally:
        holder.exit()
    assert not path.parent.exists()  # gone with the server


@pytest.fixture
def embedded_redis(tmp_path: Path) -> Iterator[str]:
    holder = Holder(tmp_path / "redis")
    yield holder.url
    holder.exit()


@pytest.mark.django_db
def test_healthz_cache_and_rate_limits_work_over_the_socket(
    embedded_redis: str, client: Any, settings: Any
) -> None:
    settings.REDIS_URL = embedded_redis
    settings.CACHES = {
        "default": {
            "BACKEND": "core.cache.FailSoftRedisCache",
            "LOCATION": embedded_redis,
            "KEY_PREFIX": "momentmap",
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
    assert client.get("/healthz").json()["redis"] == "ok"

    checks = [("address", "10.0.0.1", 2)]
    results = [ratelimit.hit_unless_limited(checks=checks, window=60) for _ in range(3)]
    assert results == [False, False, True]
    # Counted in the embedded server itself (the cache's keys carry its prefix).
    assert redis.Redis.from_url(embedded_redis).keys("momentmap:*ratelimit:address:*")
