"""The store dashboard under load at 10M events: p50/p95/p99 of its pages beside /healthz.

Seeds a store as bench/metrics_bench.py does (the demo's seeded journeys, about a million
customers, COPYed in), builds its compact form and recomputes its standard periods, then starts
gunicorn with production settings (bench/settings.py, as bench/answer_bench.py does) and asks,
signed in as the store's viewer, from --concurrency threads: the dashboard of the last 30 days
(the morning's page), a calendar month, the trends by month, a stage's detail, the organisation
view, and /healthz (a page that touches the database and nothing else) in the same run. Target:
dashboard p95 < 150 ms on this machine.

    .venv/bin/python bench/dashboard_bench.py [--events 10000000] [--days 150]
                                              [--requests 200] [--concurrency 2] [--workers 2]
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from importlib import import_module
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._setup import bench_store, django_setup
from bench.answer_bench import Server, latencies, percentile, request
from bench.metrics_bench import TEMPLATE, store_seed

TARGET_P95_MS = 150.0


def timed(port: int, path: str, cookie: str, count: int, concurrency: int) -> list[float]:
    """`count` GETs of `path` from `concurrency` threads; every answer must be a 200."""
    times: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    todo = iter(range(count))

    def worker() -> None:
        while True:
            with lock:
                if next(todo, None) is None:
                    return
            started = time.perf_counter()
            status, _body, _headers = request(
                "GET", port, path, headers={"X-Forwarded-Proto": "https", "Cookie": cookie}
            )
            seconds = time.perf_counter() - started
            with lock:
                times.append(seconds)
                if status != 200:
                    errors.append(str(status))

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise RuntimeError(f"{path}: {len(errors)} answers were not 200 ({errors[:3]})")
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=10_000_000, help="about this many (10M)")
    parser.add_argument("--days", type=int, default=150, help="the events' period (150)")
    parser.add_argument("--requests", type=int, default=200, help="requests per page (200)")
    parser.add_argument("--concurrency", type=int, default=2, help="client threads (2)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (2)")
    parser.add_argument("--seed", default="dashboard-bench", help="the generator's seed")
    args = parser.parse_args()

    os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "true")
    django_setup(static_files=True)
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.db import connection

    from accounts.models import Membership, Role, User
    from accounts.services import SYSTEM
    from events import blocks
    from journeys.models import Stage
    from journeys.services import journey_activate, journey_create_from_template
    from metrics import recompute

    organisation, store, _survey = bench_store(languages=["lt", "en"])
    store.event_retention_months = None  # type: ignore[attr-defined]
    store.save()  # type: ignore[attr-defined]
    server: Server | None = None
    try:
        journey = journey_create_from_template(
            organisation=organisation, actor=SYSTEM, template=TEMPLATE, store=store
        )
        journey_activate(journey=journey, actor=SYSTEM, version=journey.version)
        store_id = store.pk  # type: ignore[attr-defined]
        print(
            f"Machine: {os.cpu_count()} CPUs, load average "
            f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}; PostgreSQL "
            f"{connection.cursor().connection.info.server_version}"
        )
        started = time.perf_counter()
        seeded = store_seed(store, count=args.events, days=args.days, seed=args.seed)
        blocks.blocks_rebuild(store_id=store_id)
        result = recompute.results_recompute(store_id=store_id)
        print(
            f"Seeded {seeded['events']:,} events of {seeded['customers']:,} customers, compact "
            f"form built and {result['results']} standard periods stored in "
            f"{time.perf_counter() - started:,.0f} s"
        )

        # A viewer's session, as the log-in page would leave it.
        user = User.objects.create_user(  # type: ignore[attr-defined]
            email=f"viewer-{store_id}@bench.example", password=None, name="Bench viewer"
        )
        Membership.objects.create(organisation=organisation, user=user, role=Role.VIEWER)
        session = import_module(settings.SESSION_ENGINE).SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.save()
        cookie = f"{settings.SESSION_COOKIE_NAME}={session.session_key}"

        month = f"/stores/{store_id}/dashboard/?period=month%3A{time.strftime('%Y-%m')}"
        stage = Stage.objects.filter(journey=journey).order_by("position")[1]
        pages = [
            ("/healthz", "/healthz"),
            ("dashboard, last 30 days", f"/stores/{store_id}/dashboard/"),
            ("dashboard, this month", month),
            ("dashboard, trends by month", f"/stores/{store_id}/dashboard/?trend=month"),
            ("a stage in detail", f"/stores/{store_id}/dashboard/stages/{stage.pk}/"),
            ("organisation view", "/dashboard/organisation/"),
        ]
        server = Server(workers=args.workers, threads=1)
        for _label, path in pages:  # warm each worker's connections and caches
            timed(server.port, path, cookie, 2 * args.workers, args.concurrency)
        print(
            f"\n{args.requests} requests per page from {args.concurrency} threads, gunicorn "
            f"--workers {args.workers}, production settings"
        )
        figures: dict[str, list[float]] = {}
        for label, path in pages:
            figures[label] = timed(server.port, path, cookie, args.requests, args.concurrency)
            print(f"   {label:28} {latencies(figures[label])}")
        base = percentile(figures["/healthz"], 0.95)
        p95 = percentile(figures["dashboard, last 30 days"], 0.95) * 1000
        print(
            f"\nDashboard p95 {p95:.1f} ms (target < {TARGET_P95_MS:.0f} ms: "
            f"{'met' if p95 < TARGET_P95_MS else 'MISSED'}); "
            f"{p95 / (base * 1000):.1f}× /healthz's p95 in the same run"
        )
    finally:
        if server is not None:
            server.stop()
        # As a deleted organisation goes: its stores' events in batches, then its rows.
        from accounts.models import Organisation
        from accounts.purges import organisation_purge
        from core import clock

        Organisation.objects.filter(pk=organisation.pk).update(  # type: ignore[attr-defined]
            deletion_requested_at=clock.now()
        )
        organisation_purge(organisation_id=organisation.pk)  # type: ignore[attr-defined]


if __name__ == "__main__":
    main()
