"""Parsing and checking one batch of events: DRF serializers against msgspec.

    .venv/bin/python bench/validate_bench.py [--events 1000] [--repeat 30]

One body of --events items (the demo's journey generator, seeded: page views, purchases with
properties, anonymous ids and customer keys, as bench/ingest_bench.py sends them), parsed
and checked both ways, in this process, alternating run by run:

- DRF: the API's parser (core.api.JSONParser: json plus its depth, list and NUL checks),
  then events.serializers.BatchSerializer(data=...).is_valid();
- msgspec, what POST /api/v1/events/batch/ runs: msgspec.json.decode, events.api.batch_items
  and events.ingest.items_check (every rule of the batch API: ids, names, the customer,
  the time and the store's window, properties' size and depth).

Prints µs per event of each (best and median of --repeat runs) and the ratio. Needs no
database. Figures only; see bench/README.md.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._setup import django_setup


def timed(work: Callable[[], Any]) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=1000, help="events in the body (1000)")
    parser.add_argument("--repeat", type=int, default=30, help="runs of each (30)")
    parser.add_argument("--seed", default="validate-bench", help="the generator's seed")
    args = parser.parse_args()
    django_setup(database=False)

    import msgspec

    from bench._events import bodies, demo_events
    from core.api import JSONParser
    from events import api, ingest
    from events.serializers import BatchSerializer

    body = next(bodies(demo_events(args.events, seed=args.seed), args.events))
    window = ingest.Window(earliest=None, latest=datetime.now(UTC) + timedelta(days=1))

    def drf() -> None:
        data = JSONParser().parse(io.BytesIO(body))
        serializer = BatchSerializer(data=data)
        if not serializer.is_valid():
            raise RuntimeError(f"DRF refused the batch: {str(serializer.errors)[:300]}")

    def fast() -> None:
        items = api.batch_items(msgspec.json.decode(body))
        good, errors = ingest.items_check(items, window=window)
        if errors or len(good) != args.events:
            raise RuntimeError(f"items_check refused items: {errors[:3]}")

    print(
        f"one body of {args.events:,} events, {len(body) / 1e3:,.0f} KB "
        f"({len(body) / args.events:.0f} bytes an event), {args.repeat} runs each, alternating"
    )
    times: dict[str, list[float]] = {"DRF": [], "msgspec": []}
    drf(), fast()  # warm-up: imports, regex compilation
    for _ in range(args.repeat):
        times["DRF"].append(timed(drf))
        times["msgspec"].append(timed(fast))
    per_event = {}
    for label, values in times.items():
        best, median = min(values), statistics.median(values)
        per_event[label] = median / args.events * 1e6
        print(
            f"  {label:<8} best {best / args.events * 1e6:6.1f} µs/event, median "
            f"{per_event[label]:6.1f} µs/event ({median * 1e3:.1f} ms a batch)"
        )
    print(
        f"  DRF ÷ msgspec (medians): {per_event['DRF'] / per_event['msgspec']:.1f}×; msgspec "
        f"parses and checks {1e6 / per_event['msgspec']:,.0f} events/s on one core"
    )


if __name__ == "__main__":
    main()
