"""Answering surveys: the public answer page under load, on a real server.

    .venv/bin/python bench/answer_bench.py [--count 3000] [--concurrency 8] [--workers 2]
                                           [--threads 1] [--max-seconds 180]

Prepares --count sent invitations of one CSAT survey (rating, multiple choice, free text),
starts gunicorn with the project's WSGI app on a free port of 127.0.0.1, and drives it from
this process with --concurrency threads (plain sockets, stdlib only), in two timed phases:

- phase A, page views: a GET of /s/<token>/ for every token (this marks the invitation
  opened); the CSRF cookie and form token of each buyer are kept for phase B;
- phase B, submissions: for every token one POST with every answer and action=submit, which
  must answer 303 to the thank-you page. Its rate is the issue's figure.

Each buyer comes from its own loopback address (127.77.x.y; Linux routes all of 127/8 to lo),
as real buyers do, so the page's per-address rate limit (600 a minute) applies as in
production and is not tripped.

Prints the SQL statements of one GET and one final POST (counted in-process on one extra
invitation, then deleted), the baseline (GET /healthz, one SELECT 1, same server and
concurrency), each phase's rate, latency percentiles, errors and ratio to the baseline, the
CPU time per request of gunicorn, of PostgreSQL's backends and of this load generator (from
/proc), and then counts in the database the submitted responses and their answers against
what the server accepted: nothing may be lost. Each phase is bounded by --max-seconds;
loopback only. Target: >= 300 submits/s with POST p99 < 250 ms. See bench/README.md.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._setup import ROOT, bench_invitations, bench_store, django_setup

TARGET = 300  # submissions/s
TARGET_P99 = 0.25  # seconds
CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
CSRF_COOKIE = re.compile(r"csrftoken=([^;]+)")
TEXTS = [
    "Prekė atkeliavo greičiau nei tikėjausi, ačiū!",
    "Arrived a day earlier than promised, thanks!",
    "Coletul a ajuns mai repede decât mă așteptam.",
    "",
]


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
) -> tuple[int, str, dict[str, str]]:
    """One HTTP/1.1 request on a new connection, as a buyer's browser opens one: (status, body,
    headers by lower-case name; repeated ones joined with a newline).

    Plain sockets rather than http.client: the load generator shares the two cores with the
    server, and http.client's parsing cost it about twice the CPU (a lighter client measures
    the server, not the client). The server closes the connection after the response
    (`Connection: close`), so the response is read to the end of the stream."""
    payload = body.encode() if body is not None else b""
    # X-Forwarded-Proto: what the TLS-terminating proxy in front of production adds.
    lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Connection: close"]
    lines.append("X-Forwarded-Proto: https")
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
    return int(status_line.split()[1]), content.decode(), found


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

    def per_request(self, before: dict[tuple[str, int], float], requests: int) -> str:
        """Since `before` (a process started meanwhile counts from 0)."""
        spent: dict[str, float] = {}
        for (role, pid), seconds in self.snapshot().items():
            spent[role] = spent.get(role, 0.0) + seconds - before.get((role, pid), 0.0)
        parts = [f"{role} {total / max(requests, 1) * 1000:.2f}" for role, total in spent.items()]
        return "CPU ms per request: " + ", ".join(parts)


def run_load(
    jobs: list[int], work: Callable[[int], None], *, concurrency: int, max_seconds: float
) -> float:
    """Run work(job) for every job on `concurrency` threads; return the elapsed time."""
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


def submission(questions: list[Any], n: int) -> tuple[list[tuple[str, str]], int]:
    """Every question answered at once, as the last step's submit would carry them:
    (form fields, the number of answers that must be stored)."""
    fields = [("step", str(len(questions))), ("action", "submit")]
    stored = 0
    for question in questions:
        name = f"q{question.pk}"
        if question.scale is not None:
            fields.append((name, str(question.scale[1] - n % 3)))
        elif question.type == "multiple_choice":
            fields += [(name, str(n % 3)), (name, "4")]
        elif question.type == "single_choice":
            fields.append((name, str(n % 2)))
        else:
            text = TEXTS[n % len(TEXTS)]  # some buyers leave the comment empty
            fields.append((name, text))
            if not text:
                continue
        stored += 1
    return fields, stored


class Buyers:
    """One buyer per token. Phase A, `view(n)`: GET the page, keep its CSRF cookie and form
    token. Phase B, `submit(n)`: one POST with every answer and action=submit."""

    def __init__(self, port: int, tokens: list[str], questions: list[Any]) -> None:
        self.port, self.tokens, self.questions = port, tokens, questions
        self.csrf: dict[int, tuple[str, str]] = {}  # n: (cookie, form field)
        self.gets: list[float] = []
        self.posts: list[float] = []
        self.get_errors: list[str] = []
        self.post_errors: list[str] = []
        self.submitted = 0
        self.answers_posted = 0
        self.lock = threading.Lock()

    def view(self, n: int) -> None:
        try:
            started = time.perf_counter()
            status, body, headers = request(
                "GET", self.port, f"/s/{self.tokens[n]}/", source=source_address(n)
            )
            self.gets.append(time.perf_counter() - started)
        except OSError as exc:
            self.get_errors.append(type(exc).__name__)
            return
        cookie = CSRF_COOKIE.search(headers.get("set-cookie", ""))
        field = CSRF_INPUT.search(body)
        if status != 200 or not cookie or not field:
            self.get_errors.append(f"GET {status}")
            return
        self.csrf[n] = (cookie.group(1), field.group(1))

    def submit(self, n: int) -> None:
        cookie, field = self.csrf[n]
        fields, stored = submission(self.questions, n)
        try:
            started = time.perf_counter()
            status, _body, headers = request(
                "POST",
                self.port,
                f"/s/{self.tokens[n]}/",
                body=urlencode([("csrfmiddlewaretoken", field), *fields]),
                headers={
                    "Content-Type": "application/x-www-form-urlencoded",
                    "Cookie": f"csrftoken={cookie}",
                    # Over HTTPS Django's CSRF check wants the browser's Origin (or Referer).
                    "Origin": f"https://127.0.0.1:{self.port}",
                },
                source=source_address(n),
            )
            self.posts.append(time.perf_counter() - started)
        except OSError as exc:
            self.post_errors.append(type(exc).__name__)
            return
        if status != 303 or not headers.get("location", "").endswith("/thanks/"):
            self.post_errors.append(f"POST {status}")
            return
        with self.lock:
            self.submitted += 1
            self.answers_posted += stored


def queries_per_request(token: str, questions: list[Any]) -> tuple[int, int]:
    """The SQL statements of one GET and of one final POST, in this process (Django's test
    client, CSRF not enforced), for a token the load does not use. CONN_HEALTH_CHECKS adds a
    `SELECT 1` per request on a reused connection, on the driver's cursor: not counted here."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST="127.0.0.1", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_PROTO="https")
    path = f"/s/{token}/"
    with CaptureQueriesContext(connection) as get:
        assert client.get(path).status_code == 200
    fields, _stored = submission(questions, 0)
    data: dict[str, list[str]] = {}
    for name, value in fields:
        data.setdefault(name, []).append(value)
    with CaptureQueriesContext(connection) as post:
        assert client.post(path, data).status_code == 303
    return len(get.captured_queries), len(post.captured_queries)


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=3000, help="invitations (default 3000)")
    parser.add_argument("--concurrency", type=int, default=8, help="client threads (8)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (2)")
    parser.add_argument("--threads", type=int, default=1, help="threads per worker (1: sync)")
    parser.add_argument("--max-seconds", type=float, default=180, help="time bound per phase")
    parser.add_argument("--baseline-count", type=int, default=3000, help="GET /healthz (3000)")
    args = parser.parse_args()

    django_setup(static_files=True)
    from surveys.models import Answer, Invitation, Question, Response

    organisation, store, survey = bench_store(languages=["lt", "en", "ro"])
    server = meter = None
    try:
        invitations = bench_invitations(
            store=store, survey=survey, count=args.count + 1, status="sent", sent=True
        )
        tokens = [token for _pk, token in invitations[:-1]]
        probe_pk, probe_token = invitations[-1]
        questions = list(Question.objects.filter(survey=survey).order_by("position", "id"))
        get_queries, post_queries = queries_per_request(probe_token, questions)
        Invitation.objects.filter(pk=probe_pk).delete()  # its response and answers with it
        server_label = f"gunicorn --workers {args.workers}" + (
            f" --threads {args.threads}" if args.threads > 1 else ""
        )
        print(
            f"{args.count} invitations of a survey with {[q.type for q in questions]}; "
            f"{server_label}; {args.concurrency} client threads; {os.cpu_count()} CPUs; "
            f"load average {load_average()}"
        )
        print(
            f"  SQL per request (in-process, + 1 SELECT 1 of CONN_HEALTH_CHECKS each): "
            f"GET {get_queries}, final POST {post_queries}"
        )
        server = Server(workers=args.workers, threads=args.threads)
        port = server.port

        # Baseline: the cheapest page that still touches the database.
        health: list[float] = []
        health_errors: list[str] = []

        def healthz(n: int) -> None:
            started = time.perf_counter()
            try:
                status, _body, _headers = request("GET", port, "/healthz", source=source_address(n))
                if status != 200:
                    health_errors.append(str(status))
            except OSError as exc:
                health_errors.append(type(exc).__name__)
            health.append(time.perf_counter() - started)

        meter = CpuMeter(server)
        cpu = meter.snapshot()
        health_time = run_load(
            list(range(args.baseline_count)),
            healthz,
            concurrency=args.concurrency,
            max_seconds=args.max_seconds,
        )
        health_rate = len(health) / health_time
        print(
            f"  baseline GET /healthz: {health_rate:.0f} requests/s; "
            f"{latencies(health)}; errors {len(health_errors)}"
        )
        print(f"    {meter.per_request(cpu, len(health))}")

        buyers = Buyers(port, tokens, questions)
        cpu = meter.snapshot()
        view_time = run_load(
            list(range(len(tokens))),
            buyers.view,
            concurrency=args.concurrency,
            max_seconds=args.max_seconds,
        )
        view_rate = len(buyers.gets) / view_time
        print(
            f"  phase A, page views (GET /s/<token>/): {view_rate:.0f} pages/s "
            f"({len(buyers.gets)} in {view_time:.1f} s, {view_rate / health_rate:.2f} of "
            f"/healthz); {latencies(buyers.gets)}; errors {len(buyers.get_errors)} "
            f"{sorted(set(buyers.get_errors))[:5]}; load average {load_average()}"
        )
        print(f"    {meter.per_request(cpu, len(buyers.gets))}")

        cpu = meter.snapshot()

        submit_time = run_load(
            sorted(buyers.csrf),
            buyers.submit,
            concurrency=args.concurrency,
            max_seconds=args.max_seconds,
        )
        rate = buyers.submitted / submit_time
        p99 = percentile(buyers.posts, 0.99)
        print(
            f"  phase B, submissions (POST /s/<token>/, every answer, action=submit): "
            f"{rate:.0f} submits/s ({buyers.submitted} in {submit_time:.1f} s, "
            f"{rate / health_rate:.2f} of /healthz); {latencies(buyers.posts)}; "
            f"errors {len(buyers.post_errors)} {sorted(set(buyers.post_errors))[:5]}; "
            f"load average {load_average()}"
        )
        print(f"    {meter.per_request(cpu, len(buyers.posts))}")
        visit = 1 / (1 / view_rate + 1 / rate) if view_rate and rate else 0.0
        print(f"    a whole visit (one page view and one submission): {visit:.0f}/s")
        met = rate >= TARGET and p99 < TARGET_P99
        print(
            f"    target >= {TARGET} submits/s with POST p99 < {TARGET_P99 * 1000:.0f} ms: "
            f"{'met' if met else 'MISSED'}"
        )

        responses = Response.objects.filter(survey=survey, submitted_at__isnull=False).count()
        partial = Response.objects.filter(survey=survey, submitted_at__isnull=True).count()
        answers = Answer.objects.filter(response__survey=survey).count()
        answered = Invitation.objects.filter(survey=survey, status="answered").count()
        lost = (buyers.submitted - responses) + (buyers.answers_posted - answers)
        print(
            f"  database: submitted responses {responses} (expected {buyers.submitted}), "
            f"answers {answers} (expected {buyers.answers_posted}), invitations answered "
            f"{answered}, partial responses {partial}: "
            + ("nothing lost" if lost == 0 and answered == responses else f"LOST {lost}")
        )
    finally:
        if meter is not None:
            meter.stop()
        if server is not None:
            server.stop()
        organisation.delete()  # type: ignore[attr-defined]


if __name__ == "__main__":
    main()
