"""The metrics engine on a seeded store: a full recompute beside a bare count of the raw events,
the compact form rebuilt from the raw events, a worker's peak memory, the recompute after a
1,000-event batch and how soon the funnel API shows it, and the funnel API's latency.

    .venv/bin/python bench/metrics_bench.py [--events 10000000] [--days 150] [--batches 3]
                                            [--requests 50] [--custom-requests 50]
                                            [--seed metrics-bench]

The store: one of a throw-away organisation, retention off, time zone Europe/Vilnius, its
active journey the "ecommerce-delivery" template (ZMOT, FMOT, SMOT, TMOT, UMOT, with
repeat_purchase) and the demo's seeded journeys (events/demo.py, JourneyGenerator) of the
last --days days for the names that journey maps, as the demo loads them: about --events
events (the generator's rate is set for that many; the whole period is kept, so the count
is near it, not exact). Loaded the fast way a store's owner could: the buyers' browsers
identified ahead (as the demo does), the rows COPYed into events_event with their customers
and names resolved in this process, then the customers (their first purchase, their links)
COPYed, the idempotency keys made in one INSERT ... SELECT, VACUUM ANALYZE, and the compact
form built from the raw rows by events.blocks.blocks_rebuild (timed: figure 2).

Then, each printed with its target (the metrics issue):
1. The full recompute (metrics.recompute.results_recompute: all 71 standard periods) in a
   process of its own, as a worker runs it, twice, beside `SELECT count(*)` of the store's
   raw events, timed before and after; the ratio (target <= 2x). The recompute's time split:
   compaction, the journey's mapping (the first purchases among it), reading the blocks (the
   SQL fetch among it), the numpy work, writing the results.
2. events.blocks.blocks_rebuild's time (no target: a repair, not a routine path).
3. The peak RSS of that process (its VmHWM; ru_maxrss from wait4 too, which also counts the
   bench's own pages between fork and exec), beside its RSS with Django loaded before the
   recompute (target < 500 MB).
4. A batch of 1,000 new events of the last day through the ingestion service as the batch
   view runs it (events.ingest.batch_decode_typed, events.services.events_typed_ingest),
   then the recompute that follows, in a process of its own with its time split (target
   <= 2 s). Then --batches more batches, each timed from its commit until
   GET /api/v1/stores/{id}/funnel/ (the store's secret key, Django's test client in this
   process, polled every 0.25 s) shows the new figures (target <= 5 s,
   METRICS_DEBOUNCE_SECONDS included). With REDIS_URL set a real Celery worker
   (`celery -A config.worker worker -Q metrics`, one pool process) runs the recompute and its
   log gives the task's time; without it the task runs eagerly in this process as the batch
   commits (no debounce, no queue: said so in the output).
5. The funnel API's latency, p50 / p95 / max: --requests requests of the last 30 days (a
   standard period: the stored result) and --custom-requests of 20-day ranges that are no
   standard period, each a different one (computed on request; above METRICS_SYNC_EVENTS
   the API answers 202 with a task: then the time until the task is done and the range is
   served, the 202's own latency apart).

Last, the organisation is removed as a deleted one is (accounts.purges.organisation_purge:
its store's events in batches by events.purges), timed.
Figures only; see bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from itertools import islice
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._setup import ROOT, bench_store, django_setup

# Events per prospect of the generator for the journey's names over a long period (measured:
# 4.5-4.6), so that the period holds about the count asked for.
EVENTS_PER_PROSPECT = 4.55
BATCH = 1000
POLL_SECONDS = 0.25
COPY_CHUNK = 500_000  # rows per COPY transaction while seeding
TEMPLATE = "ecommerce-delivery"


def mb(kilobytes: float) -> str:
    return f"{kilobytes / 1024:,.0f} MB"


def proc_status(pid: int | str, field: str) -> int:
    """A /proc/<pid>/status figure in kB (VmRSS, VmHWM)."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def percentiles(values: list[float]) -> str:
    ordered = sorted(values)

    def at(share: float) -> float:
        return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))] * 1000

    return f"p50 {at(0.5):,.0f} ms, p95 {at(0.95):,.0f} ms, max {ordered[-1] * 1000:,.0f} ms"


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


# --- The recompute in a process of its own, its time split


def child_recompute(store_id: int, full: bool) -> None:
    """Runs in the child: results_recompute with timers around its parts; prints JSON."""
    django_setup(database=False)  # DATABASE_URL comes from the parent; nothing to migrate
    from events import blocks
    from metrics import incremental, mapping, recompute, rollups
    from metrics.models import FunnelResult

    timers: Counter[str] = Counter()
    reading = [False]
    rss: list[int] = []
    held: Counter[str] = Counter()  # what the families keep from bucket to bucket, in bytes

    def timed(label: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                timers[label] += time.perf_counter() - started

        return wrapper

    def fetch(function: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                if reading[0]:
                    timers["read: SQL fetch"] += time.perf_counter() - started

        return wrapper

    def buckets(function: Callable[..., Iterator[Any]]) -> Callable[..., Iterator[Any]]:
        def wrapper(*args: Any, **kwargs: Any) -> Iterator[Any]:
            iterator = function(*args, **kwargs)
            while True:
                rss.append(proc_status("self", "VmRSS"))  # after the previous bucket's work
                started = time.perf_counter()
                reading[0] = True
                try:
                    item = next(iterator)
                except StopIteration:
                    return
                finally:
                    reading[0] = False
                    timers["read"] += time.perf_counter() - started
                yield item

        return wrapper

    blocks.compact_taking = timed("compaction", blocks.compact_taking)  # type: ignore[assignment]
    blocks.session_customers = timed("touched: sessions", blocks.session_customers)  # type: ignore[assignment]
    blocks.customers_columns = timed("touched: raw events", blocks.customers_columns)  # type: ignore[assignment]
    incremental.contributions = timed("touched: computed", incremental.contributions)  # type: ignore[assignment]
    incremental.results_apply = timed("touched: applied", incremental.results_apply)  # type: ignore[assignment]
    blocks._blocks = fetch(blocks._blocks)  # type: ignore[assignment]
    blocks.store_buckets = buckets(blocks.store_buckets)  # type: ignore[assignment]
    recompute.store_mapping = timed("mapping", recompute.store_mapping)  # type: ignore[assignment]
    recompute.with_first_purchases = timed("mapping", recompute.with_first_purchases)  # type: ignore[assignment]
    mapping._first_purchases = timed("mapping: first purchases", mapping._first_purchases)  # type: ignore[assignment]
    mapping._has_repeat_purchase = timed(  # type: ignore[assignment]
        "mapping: any repeat purchase", mapping._has_repeat_purchase
    )
    recompute.families_compute = timed("families", recompute.families_compute)  # type: ignore[assignment]
    rollups.funnel_families = timed("numpy: funnels", rollups.funnel_families)  # type: ignore[assignment]
    rollups._returned = timed("numpy: retention", rollups._returned)  # type: ignore[assignment]
    rollups._family_results = timed("numpy: results", rollups._family_results)  # type: ignore[assignment]
    sessions = rollups._Sessions
    sessions.add = timed("numpy: sessions", sessions.add)  # type: ignore[method-assign]
    close = timed("numpy: sessions", sessions.close)
    families: list[Any] = []
    family_init = rollups._Family.__init__

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        families.append(self)
        family_init(self, *args, **kwargs)

    def sessions_close(self: Any, *args: Any, **kwargs: Any) -> Any:
        # Called once every bucket is read: what the sessions and the families hold then.
        held["sessions"] += sum(a.nbytes for part in self.parts for a in part)
        for family in families:
            for name in ("entered", "seconds"):
                held[name] += sum(a.nbytes for part in getattr(family, name) for a in part)
        families.clear()
        return close(self, *args, **kwargs)

    rollups._Family.__init__ = init  # type: ignore[method-assign]
    sessions.close = sessions_close  # type: ignore[method-assign]
    manager = FunnelResult.objects
    manager.bulk_create = timed("write: insert", manager.bulk_create)  # type: ignore[method-assign]

    rss_before = proc_status("self", "VmRSS")
    started = time.perf_counter()
    result = recompute.results_recompute(store_id=store_id, full=full)
    seconds = time.perf_counter() - started
    print(
        json.dumps(
            {
                "seconds": seconds,
                "timers": dict(timers),
                "rss_before_kb": rss_before,
                "vm_hwm_kb": proc_status("self", "VmHWM"),
                "rss_by_bucket_kb": rss[1:],
                "held_bytes": dict(held),
                "result": result,
            }
        )
    )


def recompute_in_child(store_id: int, *, full: bool) -> dict[str, Any]:
    """The child's figures, with its ru_maxrss as the parent sees it (wait4)."""
    process = subprocess.Popen(
        [
            sys.executable,
            __file__,
            "--child-recompute",
            str(store_id),
            *(["--child-full"] if full else []),
        ],
        stdout=subprocess.PIPE,
        cwd=ROOT,
    )
    assert process.stdout is not None
    output = process.stdout.read()
    _pid, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode:
        raise RuntimeError(f"the recompute process failed ({process.returncode})")
    figures: dict[str, Any] = json.loads(output.decode().strip().splitlines()[-1])
    figures["ru_maxrss_kb"] = usage.ru_maxrss  # Linux: kilobytes
    return figures


def print_split(figures: dict[str, Any]) -> None:
    timers = Counter(figures["timers"])
    total = figures["seconds"]
    if figures["result"].get("mode") == "incremental":
        result = figures["result"]
        print(
            f"      incremental: {result['events_added']:,} events added, "
            f"{result['customers']:,} customers touched (theirs and their sessions'), "
            f"{result['changed']} of {result['results']} results changed"
        )
        contributions = timers["touched: computed"]
        inside = timers["touched: raw events"]
        rows = [
            ("compaction of pending deltas (the batch's events taken)", timers["compaction"]),
            ("the journey's mapping (no first purchases)", timers["mapping"]),
            ("customers sharing the batch's sessions (raw, by hash)", timers["touched: sessions"]),
            ("the touched customers' events (raw, by customer)", inside),
            ("their share before and after (numpy)", contributions - inside),
            ("applied to the stored results (entered, seconds)", timers["touched: applied"]),
            (
                "writing the changed results and the rest",
                total
                - timers["compaction"]
                - timers["mapping"]
                - timers["touched: sessions"]
                - contributions
                - timers["touched: applied"],
            ),
        ]
        for label, seconds in rows:
            print(f"      {label:<58} {seconds:7.2f} s  {seconds / total:5.1%}")
        return
    numpy = timers["families"] - timers["read"]
    write = total - timers["compaction"] - timers["mapping"] - timers["families"]
    rows = [
        ("compaction of pending deltas", timers["compaction"]),
        ("the journey's mapping", timers["mapping"]),
        ("  of which the first purchases", timers["mapping: first purchases"]),
        ("  of which 'any repeat purchase?' (raw events)", timers["mapping: any repeat purchase"]),
        ("reading the blocks (16 buckets)", timers["read"]),
        ("  of which the SQL fetch", timers["read: SQL fetch"]),
        (
            "  of which unpacking, merging deltas, sorting",
            timers["read"] - timers["read: SQL fetch"],
        ),
        ("the numpy work", numpy),
        ("  of which the funnels (funnel_families)", timers["numpy: funnels"]),
        ("  of which the sessions (bounce rate)", timers["numpy: sessions"]),
        ("  of which the repeat purchases (retention)", timers["numpy: retention"]),
        ("  of which the results' rows (entered customers packed)", timers["numpy: results"]),
        ("writing the results and the rest", write),
        ("  of which the INSERT of the results", timers["write: insert"]),
    ]
    for label, seconds in rows:
        print(f"      {label:<58} {seconds:7.2f} s  {seconds / total:5.1%}")


# --- Seeding the store

_EVENT_TYPES = [
    "bigint", "timestamptz", "bigint", "integer", "timestamptz", "text", "text", "jsonb",
    "smallint",
]  # fmt: skip


def _as_is(text: str) -> str:
    return text


def store_seed(store: Any, *, count: int, days: int, seed: str) -> dict[str, Any]:
    """The demo's journeys of the last `days` days, COPYed in (see the module's docstring)."""
    from django.db import connection, transaction
    from psycopg.types.json import Jsonb

    from core import clock
    from events import partitions
    from events.demo import DERIVED, EVENT_STAGE, JourneyGenerator, mapped_names
    from events.models import EventName, EventSource

    end = clock.now()
    start = end - timedelta(days=days)
    names = sorted((mapped_names(store) or set()) & (set(EVENT_STAGE) - DERIVED))
    generator = JourneyGenerator(
        seed=seed,
        start=start,
        end=end,
        time_zone=store.time_zone,
        prospects_per_day=count / EVENTS_PER_PROSPECT / days,
        languages={"lt": 80, "en": 10, "lv": 5, "et": 5},
        key_prefix="MB",
        names=names,
    )
    EventName.objects.bulk_create(
        EventName(store=store, name=name, first_seen_at=start) for name in names
    )
    name_ids = dict(EventName.objects.filter(store=store).values_list("name", "pk"))
    month = partitions.month_of(start)
    months = set()
    while month <= partitions.month_of(end):
        months.add(month)
        month = partitions.add_months(month, 1)
    partitions.partitions_ensure(months)

    # Customer ids taken from the table's sequence in advance (no query can run while a COPY
    # is under way on the connection): a range that more than covers the customers.
    reserve = count * 2 + 1000
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT setval(s, nextval(s) + %s) FROM pg_get_serial_sequence('events_customer', "
            "'id') AS s",
            [reserve],
        )
        last = cursor.fetchone()[0]
    ids = iter(range(last - reserve, last + 1))

    # (is_anonymous, key) -> [id, first seen, identified as]; first purchase per customer id.
    customers: dict[tuple[bool, str], list[Any]] = {}
    first_purchase: dict[int, datetime] = {}
    linked: dict[str, int] = {}  # identified anonymous id -> the customer's id
    identifications = 0

    def customer(anonymous: bool, key: str, at: datetime) -> list[Any]:
        row = customers.get((anonymous, key))
        if row is None:
            row = customers[(anonymous, key)] = [next(ids), at, None]
        return row

    events = generator.events()
    received = datetime.now(UTC)
    phases: dict[str, float] = {}
    began = time.perf_counter()
    written = 0
    purchase = "purchase"
    source = int(EventSource.DEMO)
    while True:
        with (
            transaction.atomic(),
            connection.cursor() as cursor,
            cursor.copy(
                "COPY events_event (store_id, occurred_at, customer_id, event_name_id, "
                "received_at, session_id, client_id, properties, source) FROM STDIN "
                "(FORMAT BINARY)"
            ) as copy,
        ):
            copy.set_types(_EVENT_TYPES)
            rows = 0
            for event in islice(events, COPY_CHUNK):
                # A prospect's identifications are known before its events come out.
                while identifications < len(generator.identifications):
                    link = generator.identifications[identifications]
                    identifications += 1
                    buyer = customer(False, link.customer_key, link.at)
                    browser = customer(True, link.anonymous_id, link.at)
                    if browser[2] is None:
                        browser[2] = buyer[0]
                        linked[link.anonymous_id] = buyer[0]
                if event.is_anonymous and event.customer_key in linked:
                    customer_id = linked[event.customer_key]
                else:
                    customer_id = customer(
                        event.is_anonymous, event.customer_key, event.occurred_at
                    )[0]
                if event.name == purchase:
                    earliest = first_purchase.get(customer_id)
                    if earliest is None or event.occurred_at < earliest:
                        first_purchase[customer_id] = event.occurred_at
                copy.write_row(
                    (
                        store.pk,
                        event.occurred_at,
                        customer_id,
                        name_ids[event.name],
                        received,
                        event.session_id,
                        event.client_id,
                        Jsonb(event.properties, dumps=_as_is),  # JSON text already
                        source,
                    )
                )
                rows += 1
        written += rows
        if rows < COPY_CHUNK:
            break
        print(f"    {written:,} events copied", flush=True)
    phases["the journeys made and COPYed"] = time.perf_counter() - began
    began = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        with cursor.copy(
            "COPY events_customer (id, store_id, key, is_anonymous, identified_as_id, "
            "first_seen_at, first_purchase_at) FROM STDIN"
        ) as copy:
            for (anonymous, key), (pk, seen, identified_as) in customers.items():
                copy.write_row(
                    (pk, store.pk, key, anonymous, identified_as, seen, first_purchase.get(pk))
                )
        phases["customers"] = time.perf_counter() - began
        began = time.perf_counter()
        # events.ingest.key_hash in SQL (as events/demo.py's removal writes it).
        cursor.execute(
            "INSERT INTO events_eventkey (store_id, key_hash) "
            "SELECT %s, encode(substring(sha256(convert_to(client_id, 'UTF8')) FROM 1 FOR 16), "
            "'hex')::uuid FROM events_event WHERE store_id = %s",
            [store.pk, store.pk],
        )
    phases["idempotency keys"] = time.perf_counter() - began
    began = time.perf_counter()
    with connection.cursor() as cursor:
        for table in ("events_event", "events_customer", "events_eventkey"):
            cursor.execute(f"VACUUM (ANALYZE) {table}")
    phases["VACUUM ANALYZE"] = time.perf_counter() - began
    return {
        "phases": phases,
        "events": written,
        "customers": sum(1 for row in customers.values() if row[2] is None),
        "identified": len(linked),
        "buyers": len(first_purchase),
        "names": names,
        "start": start,
        "end": end,
    }


def new_batch(store: Any, *, seed: str, prefix: str) -> bytes:
    """1,000 events of new prospects over the last day, as a batch API body."""
    from bench._events import bodies
    from core import clock
    from events.demo import JourneyGenerator, mapped_names

    end = clock.now()
    generator = JourneyGenerator(
        seed=seed,
        start=end - timedelta(days=1),
        end=end,
        time_zone=store.time_zone,
        prospects_per_day=BATCH / EVENTS_PER_PROSPECT * 1.5,
        languages={"lt": 80, "en": 20},
        key_prefix=prefix,
        names=mapped_names(store),
    )
    events = list(islice(generator.events(), BATCH))
    if len(events) < BATCH:
        raise RuntimeError(f"the generator made {len(events)} events, fewer than {BATCH}")
    return next(bodies(events, BATCH))


# --- The worker and the API


class Worker:
    """`celery -A config.worker worker -Q metrics`, one pool process, its log in a file."""

    def __init__(self) -> None:
        log, self.log = tempfile.mkstemp(prefix="metrics-bench-worker-", suffix=".log")
        self.process = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "celery"),
                "-A",
                "config.worker",
                "worker",
                "-Q",
                "metrics",
                "--concurrency",
                "1",
                "--loglevel",
                "INFO",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        os.close(log)  # the worker has its own
        self.read = 0
        self.wait_for(re.compile(r"ready\."), 120)

    def text(self) -> str:
        return Path(self.log).read_text(errors="replace")

    def wait_for(self, pattern: re.Pattern[str], seconds: float) -> re.Match[str]:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            found = pattern.search(self.text(), self.read)
            if found:
                self.read = found.end()
                return found
            if self.process.poll() is not None:
                raise RuntimeError(f"the worker stopped:\n{self.text()[-3000:]}")
            time.sleep(0.05)
        raise RuntimeError(f"no {pattern.pattern!r} in the worker's log:\n{self.text()[-3000:]}")

    def task_seconds(self) -> float:
        found = self.wait_for(
            re.compile(r"Task metrics\.tasks\.store_recompute\[[^\]]+\] succeeded in ([\d.]+)s"),
            300,
        )
        return float(found.group(1))

    def pool_peak_kb(self) -> int:
        """The VmHWM of the pool process that runs the tasks."""
        pid = self.process.pid
        with open(f"/proc/{pid}/task/{pid}/children") as children:
            pids = children.read().split()
        return max((proc_status(child, "VmHWM") for child in pids), default=0)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        os.unlink(self.log)


def funnel_get(client: Any, store_id: int, **query: Any) -> tuple[int, Any]:
    answer = client.get(f"/api/v1/stores/{store_id}/funnel/", query, secure=True)
    return answer.status_code, answer.json()


def custom_get(client: Any, store_id: int, start: date, end: date) -> tuple[float, float, str]:
    """A range's funnel as a client gets it: (seconds to the figures, seconds of the first
    answer, how it was served)."""
    query = {"start": start.isoformat(), "end": end.isoformat()}
    began = time.perf_counter()
    status, body = funnel_get(client, store_id, **query)
    first = time.perf_counter() - began
    if status == 200:
        return first, first, "computed in the request"
    if status != 202:
        raise RuntimeError(f"the funnel API answered {status}: {body}")
    while True:
        time.sleep(POLL_SECONDS)
        task = client.get(body["task_url"], secure=True).json()
        if task["state"] == "failed":
            raise RuntimeError(f"the range's task failed: {task}")
        if task["state"] == "done":
            break
    status, body = funnel_get(client, store_id, **query)
    if status != 200:
        raise RuntimeError(f"the funnel API answered {status} after the task: {body}")
    return time.perf_counter() - began, first, "202, a task, then the stored range"


# --- The bench


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=10_000_000, help="about this many (10M)")
    parser.add_argument("--days", type=int, default=150, help="the events' period (150)")
    parser.add_argument("--batches", type=int, default=3, help="batches timed to the API (3)")
    parser.add_argument("--requests", type=int, default=50, help="standard-period requests")
    parser.add_argument("--custom-requests", type=int, default=50, help="custom-range requests")
    parser.add_argument("--seed", default="metrics-bench", help="the generator's seed")
    parser.add_argument(
        "--keep", action="store_true", help="keep the organisation and its store at the end"
    )
    parser.add_argument(
        "--store",
        type=int,
        help="reuse this store, kept by an earlier run with --keep, instead of seeding one "
        "(--events, --days and --seed then only name the batches)",
    )
    parser.add_argument("--child-recompute", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--child-full", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_recompute:
        child_recompute(args.child_recompute, args.child_full)
        return

    with_worker = bool(os.environ.get("REDIS_URL"))
    if not with_worker:
        os.environ["CELERY_TASK_ALWAYS_EAGER"] = "true"  # no broker: tasks run as they are sent
    django_setup(static_files=True)  # WhiteNoise, in the middleware, wants the manifest
    from django.conf import settings
    from django.core.cache import cache
    from django.db import connection, transaction
    from django.test import Client

    from accounts.models import Organisation
    from accounts.purges import organisation_purge
    from accounts.services import SYSTEM, api_key_create
    from config.celery import app
    from core import clock
    from events import blocks
    from events.ingest import batch_decode_typed
    from events.services import events_typed_ingest
    from journeys.services import journey_activate, journey_create_from_template
    from metrics import tasks

    if args.store:
        from accounts.models import Store

        store = Store.objects.get(pk=args.store)
        organisation = store.organisation
    else:
        organisation, store, _survey = bench_store(languages=["lt", "en"])
        store.event_retention_months = None  # type: ignore[attr-defined]
        store.save()  # type: ignore[attr-defined]
    # Each run's batches are new events, also on a reused store (the same ids would be
    # dropped as duplicates).
    run_stamp = f"{time.time():.0f}"
    worker: Worker | None = None
    try:
        if not args.store:
            journey = journey_create_from_template(
                organisation=organisation, actor=SYSTEM, template=TEMPLATE, store=store
            )
            journey_activate(journey=journey, actor=SYSTEM, version=journey.version)
        _key, secret = api_key_create(store=store, kind="secret", name="bench", actor=SYSTEM)
        client = Client(HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=f"Bearer {secret}")
        store_id = store.pk  # type: ignore[attr-defined]
        print(
            f"Machine: {os.cpu_count()} CPUs, load average "
            f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}; PostgreSQL "
            f"{connection.cursor().connection.info.server_version}; "
            f"{'REDIS_URL set: a Celery worker' if with_worker else 'no REDIS_URL: eager tasks'}"
        )

        if args.store:
            with connection.cursor() as cursor:
                cursor.execute("SELECT count(*) FROM events_event WHERE store_id = %s", [store_id])
                seeded = {"events": cursor.fetchone()[0]}
            print(f"Store {store_id} kept by an earlier run: {seeded['events']:,} events")
        else:
            started = time.perf_counter()
            seeded = store_seed(store, count=args.events, days=args.days, seed=args.seed)
            seconds = time.perf_counter() - started
            print(f"Store {store_id}")
            print(
                f"Seeded {seeded['events']:,} events (seed {args.seed!r}, {args.days} days from "
                f"{seeded['start']:%Y-%m-%d}) of {seeded['customers']:,} customers and browsers "
                f"({seeded['buyers']:,} buyers, {seeded['identified']:,} browsers identified), "
                f"{len(seeded['names'])} names, journey {TEMPLATE!r}: {seconds:,.0f} s "
                f"({seeded['events'] / seconds:,.0f} events/s): "
                + ", ".join(f"{k} {v:,.0f} s" for k, v in seeded["phases"].items())
            )

        # 2. The compact form from the raw events.
        started = time.perf_counter()
        rebuilt = blocks.blocks_rebuild(store_id=store_id)
        seconds = time.perf_counter() - started
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*), sum(octet_length(customers) + octet_length(times) + "
                "octet_length(names) + octet_length(sessions)) FROM events_eventblock "
                "WHERE store_id = %s",
                [store_id],
            )
            block_count, block_bytes = cursor.fetchone()
        print(
            f"\n2. blocks_rebuild: {rebuilt:,} events into {block_count} blocks "
            f"({block_bytes / 1e6:,.0f} MB) in {seconds:.1f} s "
            f"({rebuilt / seconds:,.0f} events/s); "
            f"{'equal to' if rebuilt == seeded['events'] else 'MISMATCH with'} the raw count"
        )

        # 1 and 3. The full recompute in a process of its own, beside a bare count.
        def count_seconds() -> float:
            with connection.cursor() as cursor:
                began = time.perf_counter()
                cursor.execute("SELECT count(*) FROM events_event WHERE store_id = %s", [store_id])
                cursor.fetchone()
                return time.perf_counter() - began

        print("\n1. Full recompute (71 standard periods) in a process of its own")
        counts = [count_seconds() for _ in range(2)]
        print(f"   SELECT count(*) of the store's raw events: {counts[0]:.2f} s, {counts[1]:.2f} s")
        full = []
        for run in (1, 2):
            figures = recompute_in_child(store_id, full=True)
            full.append(figures)
            print(
                f"   run {run}: {figures['seconds']:.2f} s, {figures['result']['results']} "
                f"results, {figures['result']['events_read']:,} events read"
            )
            print_split(figures)
        counts.append(count_seconds())
        count = statistics.median(counts)
        best = min(f["seconds"] for f in full)
        print(
            f"   SELECT count(*) after: {counts[-1]:.2f} s. Recompute {best:.2f} s (the "
            f"faster run) / count {count:.2f} s (median of 3) = {best / count:.2f}x; "
            f"target <= 2x: {verdict(best / count <= 2)}"
        )

        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*), sum(octet_length(entered)), sum(pg_column_size(stages)) "
                "FROM metrics_funnelresult WHERE store_id = %s",
                [store_id],
            )
            results, entered, stages = cursor.fetchone()
            fetch = (
                "SELECT customers, times, names, sessions FROM events_eventblock "
                "WHERE store_id = %s"
            )
            began = time.perf_counter()
            cursor.execute(fetch, [store_id])
            cursor.fetchall()
            as_text = time.perf_counter() - began
            began = time.perf_counter()
            cursor.cursor.execute(fetch, [store_id], binary=True)
            cursor.cursor.fetchall()
            as_binary = time.perf_counter() - began
        print(
            f"   What the time goes to, beside the split above: the {results} results stored "
            f"take {(entered or 0) / 1e6:,.0f} MB of entered customers (25 bytes each, per "
            f"period) and {(stages or 0) / 1e6:,.1f} MB of stage figures; fetching every "
            f"block of the store ({block_bytes / 1e6:,.0f} MB): {as_text:.2f} s as Django's "
            f"cursor does (text: bytea as hex), {as_binary:.2f} s in binary"
        )

        # VmHWM is the process's own peak since exec; ru_maxrss (wait4) also counts the
        # bench's pages that the child shared between fork and exec.
        peak = max(f["vm_hwm_kb"] for f in full)
        print(
            f"\n3. The recompute process's peak RSS (VmHWM): "
            f"{' / '.join(mb(f['vm_hwm_kb']) for f in full)} (runs 1 / 2); with Django loaded, "
            f"before the recompute: {mb(full[0]['rss_before_kb'])}; target < 500 MB: "
            f"{verdict(peak < 500 * 1024)}. (ru_maxrss from wait4: "
            f"{' / '.join(mb(f['ru_maxrss_kb']) for f in full)}, which also counts this "
            f"process's pages between fork and exec.)"
        )
        first = full[0]
        steps = first["rss_by_bucket_kb"]
        held = Counter(first["held_bytes"])
        print(
            f"   What the memory goes to (run 1): RSS after bucket 1, 8 and 16: "
            f"{', '.join(mb(steps[i]) for i in (0, 7, 15) if i < len(steps))} (+"
            f"{(steps[-1] - steps[0]) / max(len(steps) - 1, 1) / 1024:,.0f} MB a bucket); the "
            f"families keep from bucket to bucket, for all 71 periods: sessions for the bounce "
            f"rate {held['sessions'] / 2**20:,.0f} MB, entered customers "
            f"{held['entered'] / 2**20:,.0f} MB, seconds to convert "
            f"{held['seconds'] / 2**20:,.0f} MB"
        )

        # 4. A 1,000-event batch: the recompute that follows, then freshness.
        print(f"\n4. Batches of {BATCH:,} new events of the last day (events_typed_ingest)")

        def ingest(number: int) -> float:
            """The batch's commit time (perf_counter), taken by the first after-commit hook."""
            body = new_batch(
                store,
                seed=f"{args.seed}-{run_stamp}-batch-{number}",
                prefix=f"N{run_stamp}-{number}",
            )
            committed = [0.0]
            with transaction.atomic():
                transaction.on_commit(lambda: committed.__setitem__(0, time.perf_counter()))
                # As the batch view runs it (events/api.py: the typed fast path).
                items = batch_decode_typed(body)
                assert items is not None
                result = events_typed_ingest(store=store, items=items)
            if result.accepted != BATCH:
                raise RuntimeError(f"{result.accepted} of {BATCH} accepted: {result.errors[:3]}")
            return committed[0]

        if with_worker:
            ingest(0)
            figures = recompute_in_child(store_id, full=False)
            print(
                f"   the recompute after batch 0, in a process of its own: "
                f"{figures['seconds']:.2f} s; target <= 2 s: {verdict(figures['seconds'] <= 2)}"
            )
            print_split(figures)
            # What the journey's activation and batch 0 queued waits in Redis: dropped, so
            # that the worker starts idle and each batch below queues its own recompute.
            app.control.purge()
            cache.delete(tasks.soon_key(store_id))
            worker = Worker()
        status, before = funnel_get(client, store_id)
        assert status == 200, before
        task_seconds, fresh = [], []
        for number in range(1, args.batches + 1):
            committed = ingest(number)
            returned = time.perf_counter()
            while True:
                status, body = funnel_get(client, store_id)
                if status == 200 and body["events_counted"] != before["events_counted"]:
                    break
                if time.perf_counter() - committed > 300:
                    raise RuntimeError("the funnel did not change within 300 s of the commit")
                time.sleep(POLL_SECONDS)
            seen = time.perf_counter() - committed
            before = body
            fresh.append(seen)
            if worker is not None:
                task_seconds.append(worker.task_seconds())
                print(
                    f"   batch {number}: the worker's recompute {task_seconds[-1]:.2f} s; the "
                    f"API shows it {seen:.2f} s after the commit (debounce "
                    f"{settings.METRICS_DEBOUNCE_SECONDS:g} s)"
                )
            else:
                task_seconds.append(returned - committed)
                print(
                    f"   batch {number}: recomputed eagerly in this process as it committed "
                    f"({task_seconds[-1]:.2f} s, no debounce, no queue); the API shows it "
                    f"{seen:.2f} s after the commit"
                )
        print(
            f"   recompute after a batch: median {statistics.median(task_seconds):.2f} s; target "
            f"<= 2 s: {verdict(statistics.median(task_seconds) <= 2)}. Freshness: median "
            f"{statistics.median(fresh):.2f} s, worst {max(fresh):.2f} s (polled every "
            f"{POLL_SECONDS:g} s); target <= 5 s: {verdict(max(fresh) <= 5)}"
        )
        if worker is not None:
            print(f"   the worker's pool process: peak RSS (VmHWM) {mb(worker.pool_peak_kb())}")

        # 5. The funnel API's latency.
        print("\n5. GET /api/v1/stores/{id}/funnel/ (Django's test client, in this process)")
        times = []
        for _ in range(args.requests):
            began = time.perf_counter()
            status, body = funnel_get(client, store_id)
            times.append(time.perf_counter() - began)
            assert status == 200, body
        print(f"   the last 30 days (stored), {args.requests} requests: {percentiles(times)}")
        today = clock.now().astimezone(ZoneInfo(store.time_zone)).date()  # type: ignore[attr-defined]
        times, firsts, ways = [], [], Counter()
        for number in range(args.custom_requests):
            end = today - timedelta(days=11 + number)
            seconds, first, way = custom_get(client, store_id, end - timedelta(days=19), end)
            times.append(seconds)
            firsts.append(first)
            ways[way] += 1
        print(
            f"   20-day ranges, each a new one, {args.custom_requests} requests "
            f"({', '.join(f'{n} {w}' for w, n in ways.items())}; METRICS_SYNC_EVENTS "
            f"{settings.METRICS_SYNC_EVENTS:,}): {percentiles(times)}"
        )
        if ways.get("202, a task, then the stored range"):
            print(f"   of which the first answer (202): {percentiles(firsts)}")
    finally:
        if worker is not None:
            worker.stop()
        if args.keep:
            print(f"\nKept: rerun with --store {store.pk}")  # type: ignore[attr-defined]
        else:
            # As a deleted organisation goes: its stores' events in batches (events.purges), then
            # its rows.
            started = time.perf_counter()
            Organisation.objects.filter(pk=organisation.pk).update(  # type: ignore[attr-defined]
                deletion_requested_at=clock.now()
            )
            organisation_purge(organisation_id=organisation.pk)  # type: ignore[attr-defined]
            print(
                f"\nThe organisation and its events removed: {time.perf_counter() - started:.0f} s"
            )
        print(f"Bench process peak RSS: {mb(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)}")


if __name__ == "__main__":
    main()
