"""`make demo` as a new user runs it: no DATABASE_URL and no REDIS_URL.

config.demo is started as the Makefile starts it, with the embedded PostgreSQL and Redis in a
temporary folder, an SMTP sink as its mail server and beat queueing due invitations every 2
seconds (tests/config/demo_settings.py). A survey sent from the page must arrive, with links
to the port served; Ctrl-C must stop every process it started, and a second start must find
the data of the first.
"""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest

from config import demo as supervisor
from config.embedded_redis import socket_path
from tests.config.test_compose import clean_env
from tests.surveys.test_sending import Mailbox, SmtpServer

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 180  # a first start makes a database, migrates it and loads the demo data
MAIL_TIMEOUT = 90
STOP_TIMEOUT = 60


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_make_demo_runs_config_demo_on_the_port_asked_for() -> None:
    """What the test below starts is what `make demo` runs."""
    recipe = (ROOT / "Makefile").read_text().split("\ndemo:", 1)[1].split("\n\n", 1)[0]
    commands = [line.strip() for line in recipe.splitlines()[1:] if line.startswith("\t")]
    assert commands == ["DEBUG=$${DEBUG:-true} $(BIN)/python -m config.demo --port $(PORT)"]


class Browser:
    """Pages as a person's browser asks for them: cookies, the CSRF token, redirects."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies))

    def csrf_token(self) -> str:
        return next(cookie.value or "" for cookie in self.cookies if cookie.name == "csrftoken")

    def get(self, path: str) -> tuple[str, str]:
        with self.opener.open(self.base + path, timeout=30) as response:
            return response.geturl(), response.read().decode()

    def post(self, path: str, data: Any, *, as_json: bool = False) -> tuple[str, str]:
        headers = {"X-CSRFToken": self.csrf_token()}
        if as_json:
            body = json.dumps(data).encode()
            headers["Content-Type"] = "application/json"
        else:
            body = urllib.parse.urlencode(
                {"csrfmiddlewaretoken": self.csrf_token(), **data}, doseq=True
            ).encode()
        request = urllib.request.Request(self.base + path, data=body, headers=headers)
        with self.opener.open(request, timeout=30) as response:
            return response.geturl(), response.read().decode()

    def log_in(self, email: str, password: str) -> None:
        self.get("/accounts/login/")
        landed, _ = self.post("/accounts/login/", {"username": email, "password": password})
        assert "/accounts/login/" not in landed, "the demo owner could not log in"


class DemoProcess:
    """`python -m config.demo` in a process group of its own, as `make demo` in a terminal."""

    def __init__(self, tmp_path: Path, *, smtp_port: int) -> None:
        self.port = _free_port()
        self.data = tmp_path
        self.log_path = tmp_path / "demo.log"
        self.env = clean_env(
            DEBUG="true",
            DJANGO_SETTINGS_MODULE="tests.config.demo_settings",
            EMBEDDED_POSTGRES_DIR=str(tmp_path / "postgres"),
            EMBEDDED_REDIS_DIR=str(tmp_path / "redis"),
            EMAIL_URL=f"smtp://127.0.0.1:{smtp_port}",
        )
        self.env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        assert "REDIS_URL" not in self.env
        assert "DATABASE_URL" not in self.env
        self.process: subprocess.Popen[bytes] | None = None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-6000:]

    def start(self) -> Browser:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [
                    *(sys.executable, "-m", "config.demo", "--port", str(self.port)),
                    *("--beat-schedule", str(self.data / "celerybeat-schedule")),
                ],
                cwd=ROOT,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        browser = Browser(f"http://127.0.0.1:{self.port}")
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            assert self.process.poll() is None, f"make demo stopped:\n{self.log()}"
            assert time.monotonic() < deadline, f"the web server did not answer:\n{self.log()}"
            try:
                _, body = browser.get("/healthz")
                if json.loads(body) == {"status": "ok", "database": "ok", "redis": "ok"}:
                    return browser
            except (OSError, urllib.error.URLError, ValueError):
                pass
            time.sleep(0.5)

    def processes(self) -> list[psutil.Process]:
        """Every process of the demo: its own, its children's, and the database server's."""
        assert self.process is not None
        top = psutil.Process(self.process.pid)
        postmaster_pid = (self.data / "postgres" / "postmaster.pid").read_text().split()[0]
        postmaster = psutil.Process(int(postmaster_pid))
        found = [top, *top.children(recursive=True), postmaster, *postmaster.children()]
        commands = " ".join(" ".join(process.cmdline()) for process in found)
        for part in ("runserver", "worker", "beat", "valkey-server", "postgres"):
            assert part in commands, f"no {part} process among {commands}"
        return found

    def interrupt(self) -> list[psutil.Process]:
        """Ctrl-C at the terminal; returns the processes that ran until then."""
        assert self.process is not None
        running = self.processes()
        os.killpg(self.process.pid, signal.SIGINT)
        try:
            code = self.process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            pytest.fail(f"make demo did not stop on Ctrl-C:\n{self.log()}")
        assert code == 0, self.log()
        return running

    def kill(self) -> None:
        """After a failed test: nothing may stay behind."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGINT)
            try:
                self.process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)


def _gone(process: psutil.Process) -> bool:
    """Stopped: a zombie has exited too (on a machine whose init does not reap orphans)."""
    try:
        return not process.is_running() or process.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def _assert_all_stopped(processes: list[psutil.Process]) -> None:
    deadline = time.monotonic() + 15
    while not all(_gone(process) for process in processes):
        if time.monotonic() > deadline:
            left = [f"{p.pid} {' '.join(p.cmdline())}" for p in processes if not _gone(p)]
            pytest.fail(f"still running after Ctrl-C: {left}")
        time.sleep(0.2)


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    server = SmtpServer(Mailbox())
    server.start()
    yield server.mailbox, server.port
    server.stop()


def _active_survey(browser: Browser) -> dict[str, Any]:
    _, body = browser.get("/api/v1/surveys/?page_size=200")
    return next(s for s in json.loads(body)["results"] if s["status"] == "active")


@pytest.mark.integration
def test_make_demo_sends_a_survey_from_the_page_and_ctrl_c_stops_everything(
    tmp_path: Path, mailbox: tuple[Mailbox, int]
) -> None:
    inbox, smtp_port = mailbox
    demo = DemoProcess(tmp_path, smtp_port=smtp_port)
    try:
        browser = demo.start()
        browser.log_in("demo@example.com", "demo-password")
        survey = _active_survey(browser)
        _, body = browser.post(
            "/api/v1/contacts/",
            {"store": survey["store"], "email": "buyer@example.com", "name": "A Buyer"},
            as_json=True,
        )
        contact = json.loads(body)
        _, page = browser.post(f"/surveys/{survey['id']}/send/", {"contacts": [contact["id"]]})
        assert "1 invitation queued" in page

        deadline = time.monotonic() + MAIL_TIMEOUT
        while not inbox.messages:
            assert time.monotonic() < deadline, f"no email arrived:\n{demo.log()}"
            time.sleep(0.2)
        message = inbox.messages[0]
        assert message["To"] == "buyer@example.com"
        text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        links = re.findall(r"http://[^\s\"<>]+/s/[\w-]+/", text)
        assert links
        served = f"127.0.0.1:{demo.port}"
        assert {urllib.parse.urlsplit(link).netloc for link in links} == {served}
        opened, answer_page = browser.get(urllib.parse.urlsplit(links[0]).path)
        assert urllib.parse.urlsplit(opened).path == urllib.parse.urlsplit(links[0]).path
        assert "<form" in answer_page

        _assert_all_stopped(demo.interrupt())
        assert not (tmp_path / "postgres" / "postmaster.pid").exists()
        assert not socket_path((tmp_path / "redis").resolve()).exists()

        # Started again: the same database and broker data, and again nothing left after it.
        browser = demo.start()
        browser.log_in("demo@example.com", "demo-password")
        _, contacts = browser.get("/contacts/?q=buyer%40example.com")
        assert "buyer@example.com" in contacts
        _assert_all_stopped(demo.interrupt())
    finally:
        demo.kill()


# --- The supervisor on its own, with stand-ins for its children

# Sleeps, after starting a process of its own in its group (as the web server's reloader and
# the worker's pool do).
PARENT = (
    "import subprocess, sys, time; "
    "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)']); time.sleep(120)"
)


def _with_children(child: subprocess.Popen[bytes]) -> list[psutil.Process]:
    process = psutil.Process(child.pid)
    deadline = time.monotonic() + 10
    while not process.children() and time.monotonic() < deadline:
        time.sleep(0.05)
    return [process, *process.children()]


def _kill_leftovers(demo: supervisor.Demo) -> None:
    """After a failed test: the groups whose first process still runs (so still ours)."""
    for child in demo.children.values():
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()


def test_a_child_that_stops_by_itself_stops_the_others_with_their_own_processes() -> None:
    demo = supervisor.Demo()
    try:
        web = demo.start("web server", [sys.executable, "-c", PARENT])
        demo.start("worker", [sys.executable, "-c", "import time; time.sleep(1)"])
        running = _with_children(web)
        assert len(running) == 2

        assert demo.wait() == "worker"
        demo.stop_all()
        _assert_all_stopped(running)
    finally:
        _kill_leftovers(demo)


def test_a_child_that_ignores_ctrl_c_is_killed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(supervisor, "STOP_TIMEOUT", 1.0)
    ready = tmp_path / "ignoring"
    stubborn_code = (
        "import pathlib, signal, sys, time; signal.signal(signal.SIGINT, signal.SIG_IGN); "
        "pathlib.Path(sys.argv[1]).touch(); time.sleep(120)"
    )
    demo = supervisor.Demo()
    try:
        stubborn = demo.start("beat", [sys.executable, "-c", stubborn_code, str(ready)])
        deadline = time.monotonic() + 30
        while not ready.exists():
            assert time.monotonic() < deadline
            time.sleep(0.05)
        demo.stop_requested.set()
        assert demo.wait() is None
        demo.stop_all()
        assert stubborn.returncode == -signal.SIGKILL
    finally:
        _kill_leftovers(demo)
