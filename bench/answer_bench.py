"""Answering surveys as buyers do: the public answer pages under load, on a real server.

    .venv/bin/python bench/answer_bench.py [--count 3000] [--concurrency 8] [--workers 2]
                                           [--threads 1] [--max-seconds 180] [--show-sql]

Prepares --count sent invitations of one CSAT survey (rating, multiple choice, free text; the
page asks one question per step), starts gunicorn with the project's WSGI app and production
settings (bench/settings.py) on a free port of 127.0.0.1, and walks buyers through the pages
from --concurrency threads (plain sockets, stdlib only), one buyer after another per thread,
sending what a buyer's browser sends:

- GET /s/<token>/, the email's link: the first question (this marks the invitation opened);
- GET of the page's stylesheet, once (its name is hashed, cached as immutable);
- for each step, a POST of the page's form as parsed from the HTML (the CSRF token and the
  hidden fields as given, the buyer's answer, the name and value of the button clicked:
  action=next, on the last step action=submit), which must answer 303; then the GET of the
  Location, as a browser follows it: the next step, and after the submit the thank-you page.

Every request is timed by step. A buyer has completed the survey when the thank-you page
answers 200; the figure is completed surveys per second of the phase.

Each buyer comes from its own loopback address (127.77.x.y; Linux routes all of 127/8 to lo),
as real buyers do, so the pages' per-address rate limit (600 a minute) applies as in
production and is not tripped. The load generator also plays the TLS-terminating proxy a
deployment has in front (X-Forwarded-Proto: https); see bench/README.md for what else differs.

Prints the SQL statements of one buyer's whole path, step by step (counted in-process with
Django's test client on one extra invitation, then deleted), the baseline (GET /healthz, one
SELECT 1, same server and concurrency) before and after the buyers, completed surveys/s,
requests per buyer, p50/p95/p99 of every step, the CPU time per buyer of gunicorn, of
PostgreSQL's backends and of this load generator (from /proc), and then checks in the
database that every buyer who saw the thank-you page has a submitted response, and that the
answers stored are exactly those the server accepted. The phase is bounded by --max-seconds
(no buyer starts after it) and every request by a 30 s socket timeout; loopback only.
Figures only, no target. See bench/README.md.
"""

from __future__ import annotations

import argparse
import gzip
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlencode, urljoin, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._setup import ROOT, bench_invitations, bench_store, django_setup

TEXTS = [
    "Prekė atkeliavo greičiau nei tikėjausi, ačiū!",
    "Arrived a day earlier than promised, thanks!",
    "Coletul a ajuns mai repede decât mă așteptam.",
    "",
]
# A buyer's browser (Firefox) on the pages; the proxy in front adds X-Forwarded-Proto.
BROWSER_HEADERS = {
    "User-Agent": "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
    "Accept-Language": "lt,en-US;q=0.7,en;q=0.3",
    "Accept-Encoding": "gzip, deflate, br, zstd",
    "X-Forwarded-Proto": "https",
}
PAGE_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
STYLE_ACCEPT = "text/css,*/*;q=0.1"
MAX_STEPS = 20  # a survey with more steps than this is a page that never ends
QUESTION_FIELD = re.compile(r"q\d+")

# (method, path, body, headers) -> (status, body, headers by lower-case name)
Transport = Callable[[str, str, str | None, dict[str, str]], tuple[int, bytes, dict[str, str]]]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def source_address(n: int) -> str:
    return f"127.77.{(n // 250) % 250}.{n % 250 + 1}"


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


class Server:
    """gunicorn as the Dockerfile runs it (its access log too, here to /dev/null instead of
    the container's output), with bench/settings.py and --workers sync workers."""

    def __init__(self, *, workers: int, threads: int) -> None:
        self.port = free_port()
        command = [
            str(ROOT / ".venv" / "bin" / "gunicorn"),
            "config.wsgi:application",
            f"--bind=127.0.0.1:{self.port}",
            f"--workers={workers}",
            "--backlog=2048",
            "--access-logfile=/dev/null",  # the Dockerfile's command logs every request
            "--log-level=warning",
        ]
        if threads > 1:
            command += ["--worker-class=gthread", f"--threads={threads}"]
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "bench.settings"}
        self.process = subprocess.Popen(command, cwd=ROOT, env=env)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                status, _body, _headers = request("GET", self.port, "/healthz")
                if status == 200:
                    return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError("gunicorn did not start")

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()


def request(
    method: str,
    port: int,
    path: str,
    *,
    body: str | None = None,
    headers: dict[str, str] | None = None,
    source: str | None = None,
) -> tuple[int, bytes, dict[str, str]]:
    """One HTTP/1.1 request on a new connection: (status, body, headers by lower-case name;
    repeated ones joined with a newline). A new connection each time, as gunicorn's sync
    workers close every connection after its response (behind a proxy, too).

    Plain sockets rather than http.client: the load generator shares the two cores with the
    server, and http.client's parsing cost it about twice the CPU (a lighter client measures
    the server, not the client). The server closes the connection after the response
    (`Connection: close`), so the response is read to the end of the stream."""
    payload = body.encode() if body is not None else b""
    lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    if body is not None:
        lines.append(f"Content-Length: {len(payload)}")
    with socket.create_connection(
        ("127.0.0.1", port), timeout=30, source_address=(source, 0) if source else None
    ) as connection:
        connection.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + payload)
        chunks = []
        while chunk := connection.recv(65536):
            chunks.append(chunk)
    head, _, content = b"".join(chunks).partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    found: dict[str, str] = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        key = name.strip().lower()
        found[key] = f"{found[key]}\n{value.strip()}" if key in found else value.strip()
    if found.get("transfer-encoding") == "chunked":
        content = _dechunked(content)
    return int(status_line.split()[1]), content, found


def _dechunked(data: bytes) -> bytes:
    parts = []
    while data:
        size_line, _, data = data.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        parts.append(data[:size])
        data = data[size + 2 :]
    return b"".join(parts)


def socket_transport(port: int, source: str) -> Transport:
    def send(
        method: str, path: str, body: str | None, headers: dict[str, str]
    ) -> tuple[int, bytes, dict[str, str]]:
        return request(method, port, path, body=body, headers=headers, source=source)

    return send


# --- What a browser reads of a page, and sends back


@dataclass
class Control:
    """A form control as the browser submits it: kind is the input's type (hidden, radio,
    checkbox, text, ...), "textarea", "select" or "submit" (a submit button)."""

    kind: str
    name: str
    value: str


@dataclass
class Form:
    method: str
    action: str
    controls: list[Control] = field(default_factory=list)


class Page(HTMLParser):
    """The forms and stylesheets of a page, read with the standard library's HTML parser."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self.stylesheets: list[str] = []
        self._form: Form | None = None
        self._textarea: Control | None = None
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {name: value or "" for name, value in attrs}
        if tag == "link" and "stylesheet" in found.get("rel", "").split():
            self.stylesheets.append(found["href"])
        elif tag == "form":
            self._form = Form(found.get("method", "get").lower(), found.get("action", ""))
            self.forms.append(self._form)
        elif self._form is None or "disabled" in found or not found.get("name"):
            return  # a browser submits only named, enabled controls of the form
        elif tag == "input":
            kind = found.get("type", "text").lower()
            if kind in ("radio", "checkbox") and "checked" not in found:
                kind = f"{kind} unchecked"
            self._form.controls.append(Control(kind, found["name"], found.get("value", "")))
        elif tag == "button" and found.get("type", "submit").lower() == "submit":
            self._form.controls.append(Control("submit", found["name"], found.get("value", "")))
        elif tag == "textarea":
            self._textarea = Control("textarea", found["name"], "")
            self._form.controls.append(self._textarea)
        elif tag == "select":
            self._form.controls.append(Control("select", found["name"], ""))

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._textarea.value += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea":
            self._textarea = None
        elif tag == "form":
            self._form = None


class BuyerError(Exception):
    pass


@dataclass
class Step:
    label: str  # method and path, the token replaced by <token>; a POST's step and button
    status: int
    seconds: float


@dataclass
class Visit:
    """One buyer's walk through the pages."""

    steps: list[Step] = field(default_factory=list)
    # Answers the server accepted (its POST answered 303), per question field: 0 or 1.
    answers: Counter[str] = field(default_factory=Counter)
    saved: int = 0  # POSTs the server accepted
    completed: bool = False
    error: str = ""


class Browser:
    """What buyer n's browser sends on the answer pages: the pages' own forms filled in and
    posted, redirects followed, cookies kept, the stylesheet fetched once. Anything the pages
    answer that a buyer would not expect (a status, a missing form or header, a control this
    buyer does not know how to fill) stops the walk with an error naming the step."""

    def __init__(self, send: Transport, *, origin: str, n: int) -> None:
        self.send, self.origin, self.n = send, origin, n
        self.cookies: dict[str, str] = {}
        self.cached: set[str] = set()

    def answer(self, token: str) -> Visit:
        visit = Visit()
        try:
            self._walk(token, visit)
        except BuyerError as exc:
            visit.error = str(exc)
        return visit

    def _walk(self, token: str, visit: Visit) -> None:
        url = f"/s/{token}/"
        html, headers = self._get(url, token, visit, expect="answer page")
        # The settings are production's (bench/settings.py): HSTS, a Content-Security-Policy
        # and a Secure CSRF cookie, or these are not the figures of production settings.
        if "strict-transport-security" not in headers or "content-security-policy" not in headers:
            raise BuyerError("the answer page came without HSTS or CSP: not production settings")
        if "secure" not in headers.get("set-cookie", "").lower():
            raise BuyerError("the CSRF cookie is not Secure: not production settings")
        for _ in range(MAX_STEPS):
            page = Page(html)
            for href in page.stylesheets:
                self._stylesheet(urljoin(url, href), visit)
            posting = [form for form in page.forms if form.method == "post"]
            if len(posting) != 1:
                raise BuyerError(f"{_label('GET', url, token)}: {len(posting)} forms to post")
            fields, given, label = self._fill(posting[0], token)
            action = urljoin(url, posting[0].action or url)
            reply, headers, _text = self._send(
                "POST",
                action,
                token,
                visit,
                label=label,
                body=urlencode(fields),
                headers={
                    "Accept": PAGE_ACCEPT,
                    "Content-Type": "application/x-www-form-urlencoded",
                    "Origin": self.origin,
                    # The answer page's Referrer-Policy (strict-origin) lets only the origin out.
                    "Referer": f"{self.origin}/",
                },
            )
            if reply != 303 or "location" not in headers:
                raise BuyerError(f"{label}: {reply}, not 303 to the next page")
            visit.answers.update(given)
            visit.saved += 1
            url = urljoin(action, headers["location"])
            if urlsplit(url).path == f"/s/{token}/thanks/":
                self._get(url, token, visit, expect="thank-you page")
                visit.completed = True
                return
            html, _headers = self._get(url, token, visit, expect="next step")
        raise BuyerError(f"no thank-you page after {MAX_STEPS} steps")

    def _send(
        self,
        method: str,
        url: str,
        token: str,
        visit: Visit,
        *,
        label: str,
        body: str | None = None,
        headers: dict[str, str],
    ) -> tuple[int, dict[str, str], str]:
        """One request as the browser sends it; (status, headers, the body as text when it is
        a 200 the buyer reads)."""
        parts = urlsplit(url)
        if parts.netloc and f"{parts.scheme}://{parts.netloc}" != self.origin:
            raise BuyerError(f"{label}: sent to another site, {url}")
        sent = {**BROWSER_HEADERS, **headers}
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        started = time.perf_counter()
        try:
            status, content, found = self.send(method, path, body, sent)
        except (OSError, ValueError, IndexError) as exc:  # no answer, or not HTTP
            raise BuyerError(f"{label}: {type(exc).__name__}") from exc
        visit.steps.append(Step(label, status, time.perf_counter() - started))
        for line in filter(None, found.get("set-cookie", "").split("\n")):
            name, _, rest = line.partition("=")
            value, *attributes = rest.split(";")
            if any(a.strip().lower() in ("max-age=0", "max-age=-1") for a in attributes):
                self.cookies.pop(name.strip(), None)
            else:
                self.cookies[name.strip()] = value.strip()
        return status, found, self._text(content, found) if status == 200 else ""

    @staticmethod
    def _text(content: bytes, headers: dict[str, str]) -> str:
        encoding = headers.get("content-encoding", "identity")
        if encoding == "gzip":
            content = gzip.decompress(content)
        elif encoding != "identity":
            return ""  # a stylesheet in brotli: not read
        return content.decode(errors="replace")

    def _get(
        self, url: str, token: str, visit: Visit, *, expect: str
    ) -> tuple[str, dict[str, str]]:
        label = _label("GET", url, token)
        status, headers, text = self._send(
            "GET", url, token, visit, label=label, headers={"Accept": PAGE_ACCEPT}
        )
        if status != 200:
            raise BuyerError(f"{label}: {status}, not the {expect}")
        return text, headers

    def _stylesheet(self, url: str, visit: Visit) -> None:
        if url in self.cached:
            return
        label = _label("GET", url, "")
        status, headers, _text = self._send(
            "GET",
            url,
            "",
            visit,
            label=label,
            headers={"Accept": STYLE_ACCEPT, "Referer": f"{self.origin}/"},
        )
        if status != 200:
            raise BuyerError(f"{label}: {status}")
        caching = headers.get("cache-control", "")
        if "max-age" in caching and "no-store" not in caching and "no-cache" not in caching:
            self.cached.add(url)

    def _fill(self, form: Form, token: str) -> tuple[list[tuple[str, str]], Counter[str], str]:
        """The fields the browser posts when this buyer has answered the form's question and
        clicked its primary button, the answers given per question field, and the step's
        label. Buyer n picks one of the top three of a scale, one or two choices (none for
        every fifth buyer: the question is optional) and one of TEXTS (some leave it empty)."""
        n = self.n
        groups: dict[str, list[Control]] = {}
        for control in form.controls:
            groups.setdefault(control.name, []).append(control)
        fields: list[tuple[str, str]] = []
        given: Counter[str] = Counter()
        button: Control | None = None
        for name, controls in groups.items():
            kinds = {c.kind.split()[0] for c in controls}
            values = [c.value for c in controls]
            if kinds == {"hidden"}:
                fields += [(name, value) for value in values]
                continue
            if kinds == {"submit"}:
                by_value = {c.value: c for c in controls}
                button = by_value.get("submit") or by_value.get("next")
                if button is None:
                    raise BuyerError(f"no next or submit button among {values}")
                continue
            if kinds == {"radio"}:
                chosen = [values[-1 - n % min(3, len(values))]]
            elif kinds == {"checkbox"}:
                picked = set() if n % 5 == 4 else {values[n % len(values)], values[-1]}
                chosen = [value for value in values if value in picked]  # in the page's order
            elif kinds == {"textarea"}:
                chosen = [TEXTS[n % len(TEXTS)]]
            else:
                raise BuyerError(f"a control this buyer cannot fill: {name} ({kinds})")
            fields += [(name, value) for value in chosen]
            if QUESTION_FIELD.fullmatch(name) and "".join(chosen).strip():
                given[name] = 1
        if button is None:
            raise BuyerError("a form without a submit button")
        fields.append((button.name, button.value))
        step = dict(fields).get("step", "?")
        action = _label("POST", form.action or "/s/<token>/", token)
        label = f"{action} step {step} ({button.value})"
        return fields, given, label


def _label(method: str, url: str, token: str) -> str:
    parts = urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    return f"{method} {path.replace(token, '<token>') if token else path}"


# --- Measuring


class CpuMeter:
    """CPU seconds spent by the gunicorn processes, the PostgreSQL backends of this database and
    this process (the load generator), read from /proc: a figure that other load on the
    machine disturbs much less than the rates. Sampled every 0.2 s on a thread of its own, so
    that a backend replaced meanwhile (CONN_MAX_AGE) still counts with its last reading.
    Without /proc, or with PostgreSQL on another machine, the missing parts read 0."""

    def __init__(self, server: Server) -> None:
        from django.db import connection

        self.server = server
        self.seen: dict[tuple[str, int], float] = {}
        self.lock = threading.Lock()
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            self.own_backends = [cursor.fetchone()[0]]
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self.thread.start()

    @staticmethod
    def _seconds(pid: int) -> float | None:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    @staticmethod
    def _children(pid: int) -> list[int]:
        try:
            text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
        except OSError:
            return []
        return [int(child) for child in text.split()]

    def _read(self) -> None:
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                "AND backend_type = 'client backend' AND pid <> pg_backend_pid() "
                "AND pid <> ALL(%s)",
                [self.own_backends],
            )
            backends = [pid for (pid,) in cursor.fetchall()]
        master = self.server.process.pid
        roles = {
            "gunicorn": [master, *self._children(master)],
            "PostgreSQL": backends,
            "load generator": [os.getpid()],
        }
        with self.lock:
            for role, pids in roles.items():
                for pid in pids:
                    seconds = self._seconds(pid)
                    if seconds is not None:
                        self.seen[(role, pid)] = seconds

    def _sample(self) -> None:
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            self.own_backends.append(cursor.fetchone()[0])
        while not self.stopped.wait(0.2):
            self._read()
        connection.close()

    def stop(self) -> None:
        self.stopped.set()
        self.thread.join()

    def snapshot(self) -> dict[tuple[str, int], float]:
        self._read()
        with self.lock:
            return dict(self.seen)

    def spent(self, before: dict[tuple[str, int], float]) -> dict[str, float]:
        """CPU seconds per role since `before` (a process started meanwhile counts from 0)."""
        spent: dict[str, float] = {}
        for (role, pid), seconds in self.snapshot().items():
            spent[role] = spent.get(role, 0.0) + seconds - before.get((role, pid), 0.0)
        return spent


def cpu_per(spent: dict[str, float], count: int, unit: str) -> str:
    parts = [f"{role} {total / max(count, 1) * 1000:.2f}" for role, total in spent.items()]
    return f"CPU ms per {unit}: " + ", ".join(parts)


def run_load(
    jobs: list[int], work: Callable[[int], None], *, concurrency: int, max_seconds: float
) -> float:
    """Run work(job) for every job on `concurrency` threads, none started after max_seconds;
    return the elapsed time."""
    lock = threading.Lock()
    position = [0]
    deadline = time.monotonic() + max_seconds

    def worker() -> None:
        while time.monotonic() < deadline:
            with lock:
                if position[0] >= len(jobs):
                    return
                job = jobs[position[0]]
                position[0] += 1
            work(job)

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started


def latencies(values: list[float]) -> str:
    def ms(share: float) -> str:
        return f"{percentile(values, share) * 1000:.1f}"

    return f"p50 {ms(0.5)}  p95 {ms(0.95)}  p99 {ms(0.99)} ms"


class Crowd:
    """The buyers, one per token, each from its own address; what they met, by step."""

    def __init__(self, port: int, tokens: list[str]) -> None:
        self.port, self.tokens = port, tokens
        self.origin = f"https://127.0.0.1:{port}"
        self.visits: dict[int, Visit] = {}
        self.lock = threading.Lock()

    def buyer(self, n: int) -> None:
        browser = Browser(socket_transport(self.port, source_address(n)), origin=self.origin, n=n)
        visit = browser.answer(self.tokens[n])
        with self.lock:
            self.visits[n] = visit

    def by_step(self) -> dict[str, list[float]]:
        steps: dict[str, list[float]] = {}
        for n in sorted(self.visits):
            for step in self.visits[n].steps:
                steps.setdefault(step.label, []).append(step.seconds)
        return steps


def healthz_load(
    port: int, count: int, *, concurrency: int, max_seconds: float
) -> tuple[float, str]:
    """The baseline: GET /healthz, the cheapest page that still touches the database."""
    times: list[float] = []
    errors: list[str] = []

    def healthz(n: int) -> None:
        started = time.perf_counter()
        try:
            status, _body, _headers = request(
                "GET",
                port,
                "/healthz",
                headers={"X-Forwarded-Proto": "https"},
                source=source_address(n),
            )
            if status != 200:
                errors.append(str(status))
        except (OSError, ValueError, IndexError) as exc:
            errors.append(type(exc).__name__)
        times.append(time.perf_counter() - started)

    elapsed = run_load(
        list(range(count)), healthz, concurrency=concurrency, max_seconds=max_seconds
    )
    return len(times) / elapsed, f"{latencies(times)}; errors {len(errors)}"


def path_statements(token: str, *, show_sql: bool) -> list[tuple[str, int]]:
    """One buyer's whole path in this process (Django's test client, CSRF enforced, the same
    Browser as the load): the SQL statements of each request. CONN_HEALTH_CHECKS adds a
    `SELECT 1` on a reused connection before the first statement of each request, on the
    driver's cursor: not counted here."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(enforce_csrf_checks=True, HTTP_HOST="127.0.0.1", REMOTE_ADDR="127.0.0.1")
    counted: list[list[str]] = []

    def send(
        method: str, path: str, body: str | None, headers: dict[str, str]
    ) -> tuple[int, bytes, dict[str, str]]:
        with CaptureQueriesContext(connection) as queries:
            response = client.generic(
                method,
                path,
                data=(body or "").encode(),
                content_type=headers.get("Content-Type", "application/octet-stream"),
                headers=headers,
            )
        counted.append([query["sql"] for query in queries.captured_queries])
        content = b"".join(response.streaming_content) if response.streaming else response.content
        response.close()
        found = {name.lower(): value for name, value in response.items()}
        cookies = [morsel.OutputString() for morsel in response.cookies.values()]
        if cookies:
            found["set-cookie"] = "\n".join(cookies)
        return response.status_code, content, found

    visit = Browser(send, origin="https://127.0.0.1", n=0).answer(token)
    if not visit.completed:
        raise RuntimeError(f"the in-process buyer did not complete the survey: {visit.error}")
    if show_sql:
        for step, statements in zip(visit.steps, counted, strict=True):
            print(f"    {step.label}")
            for sql in statements:
                print(f"      {' '.join(sql.split())[:160]}")
    return [(step.label, len(sql)) for step, sql in zip(visit.steps, counted, strict=True)]


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=3000, help="buyers (default 3000)")
    parser.add_argument("--concurrency", type=int, default=8, help="client threads (8)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (2)")
    parser.add_argument("--threads", type=int, default=1, help="threads per worker (1: sync)")
    parser.add_argument("--max-seconds", type=float, default=180, help="time bound per phase")
    parser.add_argument("--baseline-count", type=int, default=3000, help="GET /healthz (3000)")
    parser.add_argument("--show-sql", action="store_true", help="print one buyer's SQL")
    args = parser.parse_args()

    django_setup(static_files=True)
    from django.conf import settings
    from django.db.models import Count

    from surveys.models import Answer, Invitation, Question, Response

    organisation, store, survey = bench_store(languages=["lt", "en", "ro"])
    server = meter = None
    try:
        invitations = bench_invitations(
            store=store, survey=survey, count=args.count + 1, status="sent", sent=True
        )
        pks = [pk for pk, _token in invitations[:-1]]
        tokens = [token for _pk, token in invitations[:-1]]
        probe_pk, probe_token = invitations[-1]
        questions = list(Question.objects.filter(survey=survey).order_by("position", "id"))
        server_label = f"gunicorn --workers {args.workers}" + (
            f" --threads {args.threads}" if args.threads > 1 else ""
        )
        print(
            f"{args.count} buyers, each with an invitation of a survey with "
            f"{[q.type for q in questions]} (one question per step); {server_label}, "
            f"production settings (bench/settings.py), REDIS_URL "
            f"{'set' if settings.REDIS_URL else 'unset'}; {args.concurrency} client threads; "
            f"{os.cpu_count()} CPUs; load average {load_average()}"
        )
        statements = path_statements(probe_token, show_sql=args.show_sql)
        Invitation.objects.filter(pk=probe_pk).delete()  # its response and answers with it
        sql = dict(statements)
        print(
            f"  one buyer's path in-process (Django's test client): {len(statements)} requests, "
            f"{sum(sql.values())} SQL statements (+ {sum(1 for c in sql.values() if c)} "
            f"SELECT 1 of CONN_HEALTH_CHECKS, one in each request with SQL); by request below"
        )

        server = Server(workers=args.workers, threads=args.threads)
        meter = CpuMeter(server)
        bound = {"concurrency": args.concurrency, "max_seconds": args.max_seconds}
        # Untimed: every worker loads its middleware and opens its database connection.
        healthz_load(server.port, 20 * args.workers, **bound)

        cpu = meter.snapshot()
        rate, detail = healthz_load(server.port, args.baseline_count, **bound)
        spent = meter.spent(cpu)
        print(f"  baseline GET /healthz, before: {rate:.0f} requests/s; {detail}")
        print(f"    {cpu_per(spent, args.baseline_count, 'request')}")
        health_rates = [rate]

        crowd = Crowd(server.port, tokens)
        cpu = meter.snapshot()
        elapsed = run_load(list(range(len(tokens))), crowd.buyer, **bound)
        spent = meter.spent(cpu)
        visits = list(crowd.visits.values())
        done = [visit for visit in visits if visit.completed]
        requests = sum(len(visit.steps) for visit in visits)
        errors = Counter(visit.error for visit in visits if visit.error)
        per_buyer = sum(len(visit.steps) for visit in done) / max(len(done), 1)
        print(
            f"  buyers: {len(done)} completed of {len(tokens)} ({len(visits)} started) in "
            f"{elapsed:.1f} s: {len(done) / elapsed:.1f} completed surveys/s; "
            f"{per_buyer:.1f} requests per buyer, {requests / elapsed:.0f} requests/s; "
            f"errors {sum(errors.values())} {errors.most_common(5)}; "
            f"load average {load_average()}"
        )
        print(f"    {cpu_per(spent, len(done), 'completed buyer')}")
        print(f"    {cpu_per(spent, requests, 'request')}")
        rows = [(label, sql.get(label, "?"), times) for label, times in crowd.by_step().items()]
        totals = [sum(step.seconds for step in visit.steps) for visit in done]
        rows.append(("a completed buyer's requests added up", sum(sql.values()), totals))
        heading = "requests, in a buyer's order"
        print(f"    {heading:<48} SQL      n")
        for label, count, times in rows:
            print(f"    {label:<48} {count:>3} {len(times):>6}  {latencies(times)}")

        cpu = meter.snapshot()
        rate, detail = healthz_load(server.port, args.baseline_count, **bound)
        spent = meter.spent(cpu)
        print(f"  baseline GET /healthz, after: {rate:.0f} requests/s; {detail}")
        print(f"    {cpu_per(spent, args.baseline_count, 'request')}")
        health_rates.append(rate)
        health = sum(health_rates) / len(health_rates)
        print(
            f"  ratio to /healthz ({health:.0f} requests/s, mean of before and after): "
            f"requests/s {requests / elapsed / health:.2f}; completed surveys/s "
            f"{len(done) / elapsed / health:.4f} (one survey per "
            f"{health * elapsed / max(len(done), 1):.1f} /healthz requests)"
        )

        # Every buyer who saw the thank-you page has a submitted response and an answered
        # invitation; the answers stored are exactly those whose POST the server accepted.
        completed_pks = [pks[n] for n, visit in crowd.visits.items() if visit.completed]
        submitted = Response.objects.filter(
            invitation_id__in=completed_pks, submitted_at__isnull=False
        ).count()
        all_submitted = Response.objects.filter(survey=survey, submitted_at__isnull=False).count()
        partial = Response.objects.filter(survey=survey, submitted_at__isnull=True).count()
        answered = Invitation.objects.filter(survey=survey, status="answered").count()
        expected: Counter[str] = Counter()
        for visit in visits:
            expected.update(visit.answers)
        stored = Counter(
            {
                f"q{row['question_id']}": row["answers"]
                for row in Answer.objects.filter(response__survey=survey)
                .values("question_id")
                .annotate(answers=Count("id"))
            }
        )
        # A buyer stopped by an error after a step was saved leaves a partial response.
        stopped = sum(1 for visit in visits if not visit.completed and visit.saved)
        whole = (
            submitted == all_submitted == answered == len(done)
            and stored == expected
            and partial == stopped
        )
        print(
            f"  database: submitted responses of the {len(done)} who completed {submitted} "
            f"(of the survey {all_submitted}), invitations answered {answered}, partial "
            f"responses {partial} (expected {stopped}); answers {stored.total()} "
            f"(accepted {expected.total()}; per question {dict(sorted(stored.items()))}"
            + ("" if stored == expected else f", accepted {dict(sorted(expected.items()))}")
            + "): "
            + ("nothing lost" if whole else "MISMATCH")
        )
    finally:
        if meter is not None:
            meter.stop()
        if server is not None:
            server.stop()
        organisation.delete()  # type: ignore[attr-defined]


if __name__ == "__main__":
    main()
