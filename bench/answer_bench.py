"""Answering surveys: the public answer page under load, on a real server.

    .venv/bin/python bench/answer_bench.py [--count 3000] [--concurrency 8] [--workers 2]

Prepares --count sent invitations of one CSAT survey (rating, multiple choice, free text),
starts gunicorn with the project's WSGI app on a free port of 127.0.0.1, and drives it from
this process with --concurrency threads (http.client, stdlib only): for each link token a GET
of /s/<token>/ (the CSRF cookie and token come from it), then one POST with every answer and
action=submit, which must answer 303 to the thank-you page. Each buyer comes from its own
loopback address (127.77.x.y; Linux routes all of 127/8 to lo), as real buyers do, so the
page's per-address rate limit (600 a minute) applies as in production and is not tripped.

Prints submissions/s, GET and POST latency percentiles, errors, and then counts in the
database the submitted responses and their answers against what was posted: nothing may be
lost. Baseline, same server and concurrency: GET /healthz (one SELECT 1). Bounded by
--count and --max-seconds; loopback only. Target: >= 300 submissions/s, p99 < 250 ms.
"""

from __future__ import annotations

import argparse
import http.client
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
            "--log-level=warning",
        ]
        if threads > 1:
            command += ["--worker-class=gthread", f"--threads={threads}"]
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "bench.settings",
            # WhiteNoise warns once per worker that collectstatic has not run; not measured.
            "PYTHONWARNINGS": "ignore:No directory at",
        }
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
) -> tuple[int, str, http.client.HTTPMessage]:
    connection = http.client.HTTPConnection(
        "127.0.0.1", port, timeout=30, source_address=(source, 0) if source else None
    )
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.read().decode(), response.headers
    finally:
        connection.close()


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


class Flow:
    """One buyer per token: GET the page, then POST the whole submission."""

    def __init__(self, port: int, tokens: list[str], questions: list[Any]) -> None:
        self.port, self.tokens, self.questions = port, tokens, questions
        self.gets: list[float] = []
        self.posts: list[float] = []
        self.errors: list[str] = []
        self.submitted = 0
        self.answers_posted = 0
        self.lock = threading.Lock()

    def __call__(self, n: int) -> None:
        path, source = f"/s/{self.tokens[n]}/", source_address(n)
        try:
            started = time.perf_counter()
            status, body, headers = request("GET", self.port, path, source=source)
            self.gets.append(time.perf_counter() - started)
            cookie = CSRF_COOKIE.search(headers.get("Set-Cookie", "") or "")
            field = CSRF_INPUT.search(body)
            if status != 200 or not cookie or not field:
                self.errors.append(f"GET {status}")
                return
            fields, stored = submission(self.questions, n)
            started = time.perf_counter()
            status, _body, headers = request(
                "POST",
                self.port,
                path,
                body=urlencode([("csrfmiddlewaretoken", field.group(1)), *fields]),
                headers={
                    "Content-Type": "application/x-www-form-urlencoded",
                    "Cookie": f"csrftoken={cookie.group(1)}",
                },
                source=source,
            )
            self.posts.append(time.perf_counter() - started)
            if status != 303 or not headers.get("Location", "").endswith("/thanks/"):
                self.errors.append(f"POST {status}")
                return
            with self.lock:
                self.submitted += 1
                self.answers_posted += stored
        except OSError as exc:
            self.errors.append(type(exc).__name__)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=3000, help="invitations (default 3000)")
    parser.add_argument("--concurrency", type=int, default=8, help="client threads (8)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (2)")
    parser.add_argument("--threads", type=int, default=1, help="threads per worker (1: sync)")
    parser.add_argument("--max-seconds", type=float, default=180, help="time bound (180)")
    parser.add_argument("--baseline-count", type=int, default=3000, help="GET /healthz (3000)")
    args = parser.parse_args()

    django_setup()
    from surveys.models import Answer, Invitation, Question, Response

    organisation, store, survey = bench_store(languages=["lt", "en", "ro"])
    server = None
    try:
        tokens = [
            token
            for _pk, token in bench_invitations(
                store=store, survey=survey, count=args.count, status="sent", sent=True
            )
        ]
        questions = list(Question.objects.filter(survey=survey).order_by("position", "id"))
        server_label = f"gunicorn --workers {args.workers}" + (
            f" --threads {args.threads}" if args.threads > 1 else ""
        )
        print(
            f"{args.count} invitations of a survey with {[q.type for q in questions]}; "
            f"{server_label}; {args.concurrency} client threads; {os.cpu_count()} CPUs"
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

        health_time = run_load(
            list(range(args.baseline_count)),
            healthz,
            concurrency=args.concurrency,
            max_seconds=args.max_seconds,
        )
        flow = Flow(port, tokens, questions)
        elapsed = run_load(
            list(range(args.count)),
            flow,
            concurrency=args.concurrency,
            max_seconds=args.max_seconds,
        )

        responses = Response.objects.filter(survey=survey, submitted_at__isnull=False).count()
        partial = Response.objects.filter(survey=survey, submitted_at__isnull=True).count()
        answers = Answer.objects.filter(response__survey=survey).count()
        answered = Invitation.objects.filter(survey=survey, status="answered").count()
        rate = flow.submitted / elapsed
        met = rate >= TARGET and percentile(flow.posts, 0.99) < TARGET_P99
        print(
            f"  baseline GET /healthz: {len(health) / health_time:.0f} requests/s; "
            f"{latencies(health)}; errors {len(health_errors)}"
        )
        print(
            f"  answering: {rate:.0f} submissions/s ({flow.submitted} in {elapsed:.1f} s, "
            f"each a GET and a POST: {2 * flow.submitted / elapsed:.0f} requests/s)"
        )
        print(f"    GET  /s/<token>/: {latencies(flow.gets)}")
        print(f"    POST /s/<token>/: {latencies(flow.posts)}")
        print(f"    errors: {len(flow.errors)} {sorted(set(flow.errors))[:5]}")
        print(
            f"    target >= {TARGET} submissions/s, POST p99 < {TARGET_P99 * 1000:.0f} ms: "
            f"{'met' if met else 'MISSED'}"
        )
        lost = (flow.submitted - responses) + (flow.answers_posted - answers)
        print(
            f"  database: submitted responses {responses} (expected {flow.submitted}), answers "
            f"{answers} (expected {flow.answers_posted}), invitations answered {answered}, "
            f"partial responses {partial}: "
            + ("nothing lost" if lost == 0 and answered == responses else f"LOST {lost}")
        )
    finally:
        if server is not None:
            server.stop()
        organisation.delete()  # type: ignore[attr-defined]


if __name__ == "__main__":
    main()
