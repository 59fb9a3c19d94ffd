"""Sending survey invitations: services.invitations_send_batch to a local SMTP sink.

    .venv/bin/python bench/send_bench.py [--count 2000] [--batch 100]

One worker process (this one) sends N queued invitations in batches of --batch, each batch
over one SMTP connection, as the Celery `email` queue does. The sink is aiosmtpd on
127.0.0.1, in a process of its own, and only counts messages. The baseline, in the same run
and to the same sink, is Django's own send_messages of N pre-rendered messages in the same
batches: the cost of SMTP itself, so the ratio shows what claiming, rendering and the
bookkeeping add. The two alternate batch by batch, so that both meet the machine at the same
speed.
Prints figures only; a benchmark never fails a test run. Target: >= 300 emails/s.
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import socket
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._setup import bench_invitations, bench_store, django_setup

TARGET = 300  # emails/s


class CountingHandler:
    """An SMTP sink that accepts every message and counts it."""

    def __init__(self, counter: Any) -> None:
        self.counter = counter

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        with self.counter.get_lock():
            self.counter.value += 1
        return "250 OK"


def run_sink(port: int, counter: Any, ready: Any, stop: Any) -> None:
    """The sink, in its own process: it must not share this process's interpreter lock."""
    from aiosmtpd.controller import Controller

    logging.getLogger("mail.log").setLevel(logging.WARNING)  # one line per SMTP command
    controller = Controller(CountingHandler(counter), hostname="127.0.0.1", port=port)
    controller.start()
    ready.set()
    stop.wait()
    controller.stop()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=2000, help="invitations (default 2000)")
    parser.add_argument("--batch", type=int, default=100, help="per SMTP connection (100)")
    args = parser.parse_args()

    port = free_port()
    counter = multiprocessing.Value("i", 0)
    ready, stop = multiprocessing.Event(), multiprocessing.Event()
    sink = multiprocessing.Process(target=run_sink, args=(port, counter, ready, stop), daemon=True)
    sink.start()
    ready.wait(10)

    django_setup()
    from django.conf import settings
    from django.core.mail import get_connection
    from django.db import connection
    from django.db.models import Count
    from django.test.utils import CaptureQueriesContext

    from surveys import services
    from surveys.emails import invitation_message
    from surveys.models import Invitation

    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""

    def received() -> int:
        with counter.get_lock():
            value, counter.value = counter.value, 0
        return int(value)

    def states(ids: list[int]) -> dict[str, int]:
        rows = Invitation.objects.filter(pk__in=ids).values_list("status").annotate(n=Count("id"))
        return dict(rows.order_by())

    languages = ["lt", "en", "lv", "et", "cs", "ro"]
    organisation, store, survey = bench_store(languages=languages)
    try:
        ids = [
            pk
            for pk, _t in bench_invitations(
                store=store, survey=survey, count=args.count, status="queued", sent=False
            )
        ]
        print(f"{args.count} invitations, batches of {args.batch}, SMTP sink 127.0.0.1:{port}")

        # Baseline: the same number of messages, rendered beforehand, sent by Django alone.
        invitations = list(
            Invitation.objects.select_related("survey__store", "contact").filter(pk__in=ids)
        )
        messages = [invitation_message(i, reminder=False) for i in invitations]
        batches = [ids[i : i + args.batch] for i in range(0, len(ids), args.batch)]
        pre_rendered = [messages[i : i + args.batch] for i in range(0, len(ids), args.batch)]

        # The two alternate batch by batch, so that both meet the same machine: on a shared
        # machine the speed drifts within seconds, and two phases one after the other would
        # compare two machines. The first batch of each warms up (connections, templates)
        # and counts the product's queries; it is not timed.
        with get_connection() as smtp:
            smtp.send_messages(pre_rendered[0])
        with CaptureQueriesContext(connection) as queries:
            services.invitations_send_batch(invitation_ids=batches[0])
        per_email = len(queries) / len(batches[0])
        spent = {"product": 0.0, "baseline": 0.0}
        for batch, rendered in zip(batches[1:], pre_rendered[1:], strict=True):
            started = time.perf_counter()
            with get_connection() as smtp:
                smtp.send_messages(rendered)
            spent["baseline"] += time.perf_counter() - started
            started = time.perf_counter()
            services.invitations_send_batch(invitation_ids=batch)
            spent["product"] += time.perf_counter() - started
        timed = len(ids) - len(batches[0])
        rate, baseline = timed / spent["product"], timed / spent["baseline"]
        got, final = received(), states(ids)  # the sink counts both senders' messages
        ok = got == 2 * args.count and final == {"sent": args.count}
        print(
            f"  services.invitations_send_batch: {rate:5.0f} emails/s, "
            f"{per_email:.1f} SQL queries per email"
        )
        print(f"  baseline, Django send_messages: {baseline:5.0f} emails/s")
        print(
            f"  ratio {rate / baseline:.2f} of the baseline; target >= {TARGET} emails/s "
            f"{'met' if rate >= TARGET else 'MISSED'}"
        )
        print(
            f"  sink received {got} of {2 * args.count} (baseline and product); "
            f"invitations {final}: {'OK' if ok else 'MISMATCH'}"
        )

    finally:
        stop.set()
        sink.join(10)
        organisation.delete()  # type: ignore[attr-defined]


if __name__ == "__main__":
    main()
