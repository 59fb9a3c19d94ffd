"""Sustained ingest: the batch API on gunicorn, beside a raw COPY of the same rows.

    .venv/bin/python bench/ingest_bench.py [--events 1000000] [--clients 4] [--workers 2]
                                           [--batch 1000] [--rounds 4] [--days 90]
                                           [--profile-batches 20] [--seed ingest-bench]

The rows: --events events of the demo's journey generator (events/demo.py, seeded: page
views, searches, carts, purchases, deliveries, reviews; anonymous ids and customer keys,
sessions, properties) over the last --days days, as `POST /api/v1/events/batch/` bodies of
--batch events, written to a temporary file first so that the clients only read and send.
Two stores of one throw-away organisation, both with retention off: one takes the API's
batches, the other the raw COPY of the same rows.

- The API: gunicorn as the Dockerfile runs it (--workers sync workers, production settings:
  bench/settings.py), the store's secret key, --clients client threads (plain sockets, a new
  connection per request, as gunicorn's sync workers close each), every answer checked
  (200, every event accepted). Before the timed phase, --workers x 2 warm-up batches of
  other events go through, untimed.
- The raw COPY: --clients processes, each with its own psycopg connection, reading the same
  bodies, and per batch, in one transaction: COPY of the ids' hashes into events_eventkey
  (the dedupe table; its primary key is the dedupe) and COPY of the rows into events_event
  (its primary key and the covering index), with the customers and event names resolved in
  advance (created before the timer). What a Python client that owns the database does at
  best; the API adds HTTP, the key, parsing and checking, the dedupe's RETURNING, the
  customers' and names' upserts, the first purchases and the recompute marks.

The data is split into --rounds parts; each round runs the API on its part, then the COPY on
the same part, so that both meet the machine at the same moments. Prints, per path: events/s,
p50/p99 per request (per batch), CPU milliseconds per 1,000 events (gunicorn, PostgreSQL's
backends, the clients), gunicorn's RSS at the start, the end and its peak, and the ratio of the
two rates; then, in-process on --profile-batches batches of a third store, what one API batch
spends on each of its SQL statements (the dedupe's INSERT ... RETURNING among them). Then it
checks the row counts and removes both stores' events (events.purges, timed).

Figures only; see bench/README.md. Target (issue 14): >= 30,000 events/s through the API on
the 2-core machine, with flat memory; the raw COPY's rate is the ceiling.
"""

from __future__ import annotations

import argparse
import hashlib
import multiprocessing
import os
import socket
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import msgspec

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._setup import bench_store, django_setup


class Item(msgspec.Struct):
    """A batch item as the COPY client reads it: properties stay raw JSON text."""

    id: str
    name: str
    occurred_at: str
    customer_key: str | None = None
    anonymous_id: str | None = None
    session_id: str | None = None
    properties: msgspec.Raw = msgspec.Raw(b"{}")


class Body(msgspec.Struct):
    events: list[Item]


def key_hash(client_id: str) -> uuid.UUID:
    """events.ingest.key_hash (checked equal at start), without importing Django."""
    return uuid.UUID(bytes=hashlib.sha256(client_id.encode()).digest()[:16])


# --- The raw COPY clients, in processes of their own


def copy_client(
    number: int,
    url: str,
    path: str,
    store_id: int,
    customers: dict[tuple[bool, str], int],
    names: dict[str, int],
    tasks: Any,
    results: Any,
) -> None:
    """Waits for a list of (offset, length) of bodies, copies them batch by batch, answers
    (number, seconds per batch, seconds of the keys' COPY per batch, rows); None stops it."""
    import psycopg

    decoder = msgspec.json.Decoder(Body)
    with psycopg.connect(url) as connection, open(path, "rb") as source:
        results.put((number, [], [], 0))  # connected
        while (spans := tasks.get()) is not None:
            seconds, keys_seconds, rows = [], [], 0
            for offset, length in spans:
                started = time.perf_counter()
                items = decoder.decode(os.pread(source.fileno(), length, offset)).events
                received = datetime.now(UTC)
                with connection.transaction(), connection.cursor() as cursor:
                    with cursor.copy(
                        "COPY events_eventkey (store_id, key_hash) FROM STDIN"
                    ) as copy:
                        for item in items:
                            copy.write_row((store_id, key_hash(item.id)))
                    keyed = time.perf_counter()
                    with cursor.copy(
                        "COPY events_event (store_id, occurred_at, customer_id, event_name_id, "
                        "received_at, session_id, client_id, properties, source) FROM STDIN"
                    ) as copy:
                        for item in items:
                            anonymous = item.anonymous_id is not None
                            key = item.anonymous_id if anonymous else item.customer_key
                            copy.write_row(
                                (
                                    store_id,
                                    item.occurred_at,
                                    customers[(anonymous, key or "")],
                                    names[item.name],
                                    received,
                                    item.session_id or "",
                                    item.id,
                                    bytes(item.properties).decode(),
                                    1,
                                )
                            )
                seconds.append(time.perf_counter() - started)
                keys_seconds.append(keyed - started)
                rows += len(items)
            results.put((number, seconds, keys_seconds, rows))


# --- The API clients: threads of this process


def post_batch(port: int, body: bytes, api_key: str) -> tuple[int, bytes]:
    """One POST on a new connection; the server closes it after the answer."""
    head = (
        f"POST /api/v1/events/batch/ HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Connection: close\r\nAuthorization: Bearer {api_key}\r\n"
        "Content-Type: application/json\r\nX-Forwarded-Proto: https\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", port), timeout=60) as connection:
        connection.sendall(head + body)
        chunks = []
        while chunk := connection.recv(65536):
            chunks.append(chunk)
    response = b"".join(chunks)
    status_line, _, rest = response.partition(b"\r\n")
    _headers, _, content = rest.partition(b"\r\n\r\n")
    return int(status_line.split()[1]), content


class ApiRun:
    """Bodies sent by `clients` threads, one after another each, every answer checked."""

    def __init__(self, *, port: int, api_key: str, path: str, clients: int) -> None:
        self.port, self.api_key, self.path, self.clients = port, api_key, path, clients
        self.seconds: list[float] = []
        self.accepted = 0
        self.errors: Counter[str] = Counter()
        self.lock = threading.Lock()

    def run(self, spans: list[tuple[int, int, int]]) -> float:
        """spans: (offset, length, events); returns the elapsed time."""
        position = [0]
        source = os.open(self.path, os.O_RDONLY)

        def client() -> None:
            while True:
                with self.lock:
                    if position[0] >= len(spans):
                        return
                    offset, length, count = spans[position[0]]
                    position[0] += 1
                body = os.pread(source, length, offset)
                started = time.perf_counter()
                try:
                    status, content = post_batch(self.port, body, self.api_key)
                except OSError as exc:
                    with self.lock:
                        self.errors[type(exc).__name__] += 1
                    continue
                took = time.perf_counter() - started
                problem, accepted = "", 0
                if status == 200:
                    answer = msgspec.json.decode(content)
                    accepted = answer["accepted"]
                    if accepted != count or answer["errors"] or answer["duplicates"]:
                        problem = f"200 with {accepted} of {count} accepted"
                else:
                    problem = f"{status} {content[:120]!r}"
                with self.lock:
                    self.seconds.append(took)
                    self.accepted += accepted
                    if problem:
                        self.errors[problem] += 1

        threads = [threading.Thread(target=client) for _ in range(self.clients)]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
        os.close(source)
        return elapsed


# --- Measuring


def client_answer(results: Any, workers: list[tuple[Any, Any]]) -> Any:
    """The next COPY client's answer; a client that died stops the bench."""
    import queue

    while True:
        try:
            return results.get(timeout=1)
        except queue.Empty:
            dead = [p.pid for p, _tasks in workers if not p.is_alive()]
            if dead:
                raise RuntimeError(f"COPY client processes {dead} stopped; see above") from None


def rss_bytes(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        except OSError:
            continue
    return total


class RssWatch:
    """gunicorn's resident memory (master and workers), sampled every half second."""

    def __init__(self, server: Any) -> None:
        self.server = server
        self.peak = 0
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self.thread.start()

    def now(self) -> int:
        from bench.answer_bench import CpuMeter

        master = self.server.process.pid
        return rss_bytes([master, *CpuMeter._children(master)])

    def _sample(self) -> None:
        while not self.stopped.wait(0.5):
            self.peak = max(self.peak, self.now())

    def stop(self) -> None:
        self.stopped.set()
        self.thread.join()


def cpu_seconds(pids: list[int]) -> float:
    from bench.answer_bench import CpuMeter

    return sum(CpuMeter._seconds(pid) or 0.0 for pid in pids)


def ms(values: list[float], share: float) -> str:
    from bench.answer_bench import percentile

    return f"{percentile(values, share) * 1000:.1f}"


def mb(value: int) -> str:
    return f"{value / 2**20:.0f} MB"


# --- Preparing


def months_between(first: datetime, last: datetime) -> set[date]:
    from events import partitions

    months, month = set(), partitions.month_of(first)
    while month <= partitions.month_of(last):
        months.add(month)
        month = partitions.add_months(month, 1)
    return months


def write_bodies(
    path: str, events: Any, batch: int
) -> tuple[list[tuple[int, int, int]], set[tuple[bool, str]], set[str], datetime, datetime]:
    """The bodies, one after another in one file: their (offset, length, events), and the
    customers, names and time range they hold."""
    from bench._events import api_item

    spans: list[tuple[int, int, int]] = []
    customers: set[tuple[bool, str]] = set()
    names: set[str] = set()
    first = last = None
    chunk: list[Any] = []
    with open(path, "wb") as out:

        def flush() -> None:
            body = msgspec.json.encode({"events": [api_item(e) for e in chunk]})
            spans.append((out.tell(), len(body), len(chunk)))
            out.write(body)
            chunk.clear()

        for event in events:
            chunk.append(event)
            customers.add((event.is_anonymous, event.customer_key))
            names.add(event.name)
            first = min(first or event.occurred_at, event.occurred_at)
            last = max(last or event.occurred_at, event.occurred_at)
            if len(chunk) == batch:
                flush()
        if chunk:
            flush()
    assert first is not None and last is not None
    return spans, customers, names, first, last


def copy_store_prepare(
    store: Any, customers: set[tuple[bool, str]], names: set[str]
) -> tuple[dict[tuple[bool, str], int], dict[str, int]]:
    """The COPY store's customers and event names, made before the timer."""
    from django.db import connection, transaction

    from events import ingest

    now = datetime.now(UTC)
    ids: dict[tuple[bool, str], int] = {}
    ordered = sorted(customers)
    with transaction.atomic(), connection.cursor() as cursor:
        for start in range(0, len(ordered), 50_000):
            ids.update(
                ingest.customer_ids(cursor, store.pk, set(ordered[start : start + 50_000]), now)
            )
        cursor.execute(
            "INSERT INTO events_eventname (store_id, name, first_seen_at) "
            "SELECT %s, unnest(%s::text[]), %s RETURNING name, id",
            [store.pk, sorted(names), now],
        )
        return ids, dict(cursor.fetchall())


def statement_profile(store: Any, events: Any, batch: int) -> None:
    """In this process, the events in batches through what the API view runs (decode,
    items_check, events_ingest): milliseconds per batch of each step and of each SQL
    statement, as Django times them (the COPY of the rows is timed as it opens: its rows go
    in the rest)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from bench._events import bodies
    from events import api, ingest, services

    by_statement: Counter[str] = Counter()
    steps: Counter[str] = Counter()
    count = 0
    for body in bodies(events, batch):
        started = time.perf_counter()
        items = api.batch_items(msgspec.json.decode(body))
        decoded = time.perf_counter()
        good, errors = ingest.items_check(items, window=ingest.Window.for_store(store))
        checked = time.perf_counter()
        with CaptureQueriesContext(connection) as queries:
            result = services.events_ingest(store=store, items=good, source=1, errors=errors)
        written = time.perf_counter()
        if result.accepted != len(items):
            raise RuntimeError(f"profile batch: {result.as_dict()}")
        for query in queries.captured_queries:
            by_statement[" ".join(query["sql"].split()[:4])[:60]] += float(query["time"])
        steps.update(
            {"decode": decoded - started, "check": checked - decoded, "write": written - checked}
        )
        count += 1

    def each(seconds: float) -> str:
        return f"{seconds / count * 1000:6.2f} ms"

    total, decode, check, write = (
        each(x).strip()
        for x in (sum(steps.values()), steps["decode"], steps["check"], steps["write"])
    )
    print(
        f"  in-process, {count} batches of {batch} as the API view runs them: {total} a batch: "
        f"msgspec decode {decode}, items_check {check}, events_ingest {write}, of which:"
    )
    for words, seconds in by_statement.most_common():
        print(f"    {each(seconds)}  {words} …")
    rest = steps["write"] - sum(by_statement.values())
    print(f"    {each(rest)}  the rest: the rows' COPY, the first purchases, Python")


# --- The run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000, help="events (1,000,000)")
    parser.add_argument("--clients", type=int, default=4, help="concurrent clients (4)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (2)")
    parser.add_argument("--batch", type=int, default=1000, help="events a request (1000)")
    parser.add_argument("--rounds", type=int, default=4, help="API then COPY, in turns (4)")
    parser.add_argument("--days", type=int, default=90, help="the events' period (90)")
    parser.add_argument("--profile-batches", type=int, default=20, help="in-process (20)")
    parser.add_argument("--seed", default="ingest-bench", help="the generator's seed")
    args = parser.parse_args()

    url = django_setup(static_files=True)  # WhiteNoise serves from the manifest
    from django.conf import settings
    from django.db import connection

    from accounts.models import Store
    from accounts.services import SYSTEM, api_key_create
    from bench._events import bodies, demo_events
    from bench.answer_bench import CpuMeter, Server, load_average
    from events import ingest, partitions, purges
    from events.models import Event, EventKey

    assert key_hash("x") == ingest.key_hash("x")
    organisation, api_store, _survey = bench_store(languages=["lt", "en"])
    stores = [api_store]
    folder = tempfile.mkdtemp(prefix="momentmap-ingest-bench-")
    path = str(Path(folder) / "bodies.jsonl")
    server = meter = rss = None
    workers: list[Any] = []
    try:
        for name in ("Bench COPY store", "Bench profile store"):
            stores.append(
                Store.objects.create(
                    organisation=organisation,
                    name=name,
                    domain=f"{name.split()[1].lower()}-{api_store.domain}",
                    currency="EUR",
                    time_zone="Europe/Vilnius",
                    default_language="lt",
                )
            )
        Store.objects.filter(pk__in=[s.pk for s in stores]).update(event_retention_months=None)
        _api_store, copy_store, profile_store = stores
        _key, raw_key = api_key_create(
            store=api_store, kind="secret", name="ingest bench", actor=SYSTEM
        )

        started = time.perf_counter()
        spans, customers, names, first, last = write_bodies(
            path, demo_events(args.events, seed=args.seed, days=args.days), args.batch
        )
        warm = list(
            bodies(demo_events(args.workers * 2 * args.batch, seed=f"{args.seed}-warm-up",
                               days=args.days, prefix="W"), args.batch)
        )  # fmt: skip
        print(
            f"{args.events:,} events (seed {args.seed!r}) from {first:%Y-%m-%d} to "
            f"{last:%Y-%m-%d}, {len(spans):,} bodies of {args.batch:,} "
            f"({Path(path).stat().st_size / args.events:.0f} bytes an event), "
            f"{len(customers):,} customers, {len(names)} event names; made in "
            f"{time.perf_counter() - started:.1f} s"
        )
        started = time.perf_counter()
        customer_ids, name_ids = copy_store_prepare(copy_store, customers, names)
        partitions.partitions_ensure(months_between(first, last))
        print(
            f"  COPY store's customers and names, partitions: {time.perf_counter() - started:.1f} s"
        )

        server = Server(workers=args.workers, threads=1)
        meter = CpuMeter(server)
        context = multiprocessing.get_context("spawn")
        results = context.Queue()
        for number in range(args.clients):
            tasks = context.Queue()
            process = context.Process(
                target=copy_client,
                args=(number, url, path, copy_store.pk, customer_ids, name_ids, tasks, results),
                daemon=True,
            )
            process.start()
            workers.append((process, tasks))
        for _ in workers:
            client_answer(results, workers)  # each connected

        print(
            f"  gunicorn --workers {args.workers} (production settings, REDIS_URL "
            f"{'set' if settings.REDIS_URL else 'unset'}), {args.clients} clients each way, "
            f"{args.rounds} rounds; {os.cpu_count()} CPUs; load average {load_average()}"
        )
        api = ApiRun(port=server.port, api_key=raw_key, path=path, clients=args.clients)
        with open(path + ".warm", "wb") as out:
            warm_spans = []
            for body in warm:
                warm_spans.append((out.tell(), len(body), args.batch))
                out.write(body)
        warm_up = ApiRun(
            port=server.port, api_key=raw_key, path=path + ".warm", clients=args.clients
        )
        warm_up.run(warm_spans)
        if warm_up.errors:
            raise RuntimeError(f"warm-up failed: {warm_up.errors.most_common(3)}")
        rss = RssWatch(server)
        rss_start = rss.now()

        api_time = copy_time = 0.0
        api_cpu: Counter[str] = Counter()
        copy_cpu: Counter[str] = Counter()
        copy_seconds: list[float] = []
        copy_keys: list[float] = []
        copied = 0
        client_pids = [process.pid for process, _tasks in workers]
        print("  round   API events/s   COPY events/s   ratio   load average")
        for number in range(args.rounds):
            part = spans[
                number * len(spans) // args.rounds : (number + 1) * len(spans) // args.rounds
            ]
            events_in_part = sum(count for _o, _l, count in part)
            before, accepted_before = meter.snapshot(), api.accepted
            elapsed = api.run(part)
            api_time += elapsed
            api_cpu.update(meter.spent(before))
            api_rate = (api.accepted - accepted_before) / elapsed

            before, clients_before = meter.snapshot(), cpu_seconds(client_pids)
            started = time.perf_counter()
            for client, (_process, tasks) in enumerate(workers):
                tasks.put([(o, length) for o, length, _c in part[client :: args.clients]])
            rows = 0
            for _ in workers:
                _n, seconds, keys_seconds, count = client_answer(results, workers)
                copy_seconds.extend(seconds)
                copy_keys.extend(keys_seconds)
                rows += count
            elapsed = time.perf_counter() - started
            copy_time += elapsed
            copied += rows
            copy_cpu.update(meter.spent(before))
            copy_cpu["COPY clients"] += cpu_seconds(client_pids) - clients_before
            print(
                f"  {number + 1:>5}   {api_rate:>12,.0f}   {rows / elapsed:>13,.0f}   "
                f"{api_rate / (rows / elapsed):>5.2f}   {load_average()}"
                + ("" if rows == events_in_part else f"   (COPY {rows} of {events_in_part})")
            )
        rss.stop()
        rss_end = rss.now()

        api_rate, copy_rate = api.accepted / api_time, copied / copy_time
        per = 1000 / max(api.accepted, 1)
        print(
            f"  API: {api.accepted:,} events in {api_time:.1f} s: **{api_rate:,.0f} events/s**; "
            f"{len(api.seconds):,} requests, p50 {ms(api.seconds, 0.5)} ms, p99 "
            f"{ms(api.seconds, 0.99)} ms; errors {sum(api.errors.values())} "
            f"{api.errors.most_common(3)}"
        )
        print(
            "    CPU ms per 1,000 events: "
            + ", ".join(f"{role} {seconds * 1000 * per:.1f}" for role, seconds in api_cpu.items())
        )
        print(
            f"    gunicorn RSS (master and workers): start {mb(rss_start)}, end {mb(rss_end)}, "
            f"peak {mb(rss.peak)}"
        )
        per = 1000 / max(copied, 1)
        print(
            f"  raw COPY: {copied:,} events in {copy_time:.1f} s: **{copy_rate:,.0f} events/s**; "
            f"p50 {ms(copy_seconds, 0.5)} ms, p99 {ms(copy_seconds, 0.99)} ms a batch, of which "
            f"the keys' COPY p50 {ms(copy_keys, 0.5)} ms"
        )
        print(
            "    CPU ms per 1,000 events: "
            + ", ".join(
                f"{role} {copy_cpu[role] * 1000 * per:.1f}"
                for role in ("PostgreSQL", "COPY clients")
            )
        )
        print(f"  **ratio API ÷ raw COPY: {api_rate / copy_rate:.2f}**")

        statement_profile(
            profile_store,
            demo_events(
                args.profile_batches * args.batch, seed=f"{args.seed}-profile", days=args.days
            ),
            args.batch,
        )

        stored = Event.objects.filter(store=api_store).count()
        keys = EventKey.objects.filter(store=api_store).count()
        copied_rows = Event.objects.filter(store=copy_store).count()
        expected = api.accepted + len(warm) * args.batch
        print(
            f"  database: API store {stored:,} events, {keys:,} keys (expected {expected:,}); "
            f"COPY store {copied_rows:,} events (expected {copied:,}): "
            + ("all there" if stored == keys == expected and copied_rows == copied else "MISMATCH")
        )
    finally:
        for process, tasks in workers:
            tasks.put(None)
            process.join(10)
            if process.is_alive():
                process.kill()
        if rss is not None and not rss.stopped.is_set():
            rss.stop()
        if meter is not None:
            meter.stop()
        if server is not None:
            server.stop()
        connection.close()
        started = time.perf_counter()
        for store in stores:
            purges.store_events_purge(store_id=store.pk, batch_size=10_000)
        print(
            f"  removed the stores' events (events.purges) in {time.perf_counter() - started:.1f} s"
        )
        organisation.delete()  # type: ignore[attr-defined]
        for leftover in Path(folder).iterdir():
            leftover.unlink()
        Path(folder).rmdir()


if __name__ == "__main__":
    main()
