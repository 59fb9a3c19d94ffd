"""The UCI online retail file imported end to end: events.imports, upload to last row committed.

    .venv/bin/python bench/csv_import_bench.py [--copies 1] [--plain]

The file (../shared/data/online_retail/online_retail.csv.gz, 541,909 lines) is uploaded as the
page and the API do (into the database in 1 MB pieces while its encoding is decided), then
the import runs in this process as a worker runs it (read and stage, then write through the
shared write path). Prints the time of each step, the process's peak memory (RSS) above what
it used before the import, and the counts. A second run of the same file (every event a
duplicate) follows. `--copies N` imports a file N times as long (the invoices renumbered per
copy) to show that memory does not grow with the file; `--plain` uploads the uncompressed
CSV. The target: the UCI file in under 60 s, in memory that does not grow with the file.
"""

from __future__ import annotations

import argparse
import gzip
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._setup import ROOT, bench_store, django_setup

UCI = ROOT.parent / "shared" / "data" / "online_retail" / "online_retail.csv.gz"


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes


def _file(copies: int, plain: bool, folder: Path) -> Path:
    if copies == 1 and not plain:
        return UCI
    target = folder / ("online_retail.csv" if plain else "online_retail.csv.gz")
    opener = open if plain else gzip.open
    with opener(target, "wb") as out:  # type: ignore[operator]
        for copy in range(copies):
            # Each copy's invoices renumbered (536365 -> 1536365), so that it holds new orders;
            # line by line, so that making the file does not raise this process's peak memory.
            prefix = str(copy).encode() if copy else b""
            with gzip.open(UCI, "rb") as source:
                header = source.readline()
                if not copy:
                    out.write(header)
                for line in source:
                    if prefix and line[:1] == b"C":
                        line = b"C" + prefix + line[1:]
                    elif prefix:
                        line = prefix + line
                    out.write(line)
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--copies", type=int, default=1, help="the file this many times over")
    parser.add_argument("--plain", action="store_true", help="upload the CSV uncompressed")
    args = parser.parse_args()
    django_setup()
    from accounts.services import SYSTEM
    from core.models import Task
    from events import import_run, imports

    organisation, store, _survey = bench_store(languages=["en"])
    store.event_retention_months = None  # type: ignore[attr-defined]
    store.save()  # type: ignore[attr-defined]
    with tempfile.TemporaryDirectory() as folder:
        path = _file(args.copies, args.plain, Path(folder))
        print(f"{path.name}: {path.stat().st_size / 1e6:.1f} MB, {args.copies} cop(y/ies)")
        try:
            for label in ("first import", "same file again"):
                before = _peak_mb()
                started = time.perf_counter()
                with path.open("rb") as handle:
                    event_import = imports.event_import_upload(
                        store=store, actor=SYSTEM, file=handle, file_name=path.name, shape="orders"
                    )
                uploaded = time.perf_counter()
                task = imports.event_import_start(
                    event_import=event_import,
                    actor=SYSTEM,
                    mapping=imports.mapping_of(event_import),
                    time_zone="Europe/London",
                    day_first=event_import.day_first,
                    cancelled_prefix=event_import.cancelled_prefix,
                )
                import_run.event_import_run(task_id=task.pk)  # as the worker does
                finished = time.perf_counter()
                task = Task.objects.get(pk=task.pk)
                result = task.result or {}
                print(
                    f"  {label}: {finished - started:.1f} s (upload {uploaded - started:.1f} s, "
                    f"run {finished - uploaded:.1f} s); {task.state}; rows {result.get('rows'):,}, "
                    f"events stored {result.get('events_stored'):,}, duplicates "
                    f"{result.get('duplicates'):,}, rows skipped {result.get('rows_skipped'):,}; "
                    f"peak RSS {_peak_mb():.0f} MB (before: {before:.0f} MB)"
                )
        finally:
            from events.purges import store_events_purge

            store_events_purge(store_id=store.pk, batch_size=5000)  # type: ignore[attr-defined]
            organisation.delete()  # type: ignore[attr-defined]


if __name__ == "__main__":
    main()
