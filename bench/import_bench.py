"""Importing contacts: surveys.imports.contacts_import_csv on a 50,000-row file.

    .venv/bin/python bench/import_bench.py [--rows 50000]

A Windows-1257, semicolon-separated file with Lithuanian headers and names (the slowest
path: the code page is guessed by reading the whole file three times), imported into an
empty store (all inserts), then again with every row changed (all updates). Prints the
time of each; the requirement is well under a minute for 50,000 contacts.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._setup import bench_store, django_setup


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=50_000, help="contacts (default 50000)")
    args = parser.parse_args()
    django_setup()
    from accounts.services import SYSTEM
    from surveys.imports import contacts_import_csv

    lines = ["El. paštas;Vardas;Pavardė;Kalba;Kliento ID"] + [
        f"pirkejas{n}@example.lt;Žygimantas;Petrauskas-{n};lt-LT;{n}.0" for n in range(args.rows)
    ]
    data = "\r\n".join(lines).encode("cp1257")
    organisation, store, _survey = bench_store(languages=["lt"])
    try:
        print(f"{args.rows} rows, {len(data) / 1e6:.1f} MB, Windows-1257, semicolons")
        for label, payload in (
            ("new contacts", data),
            ("every row changed", data.replace(b"lt-LT", b"en")),
        ):
            started = time.perf_counter()
            report = contacts_import_csv(store=store, actor=SYSTEM, file_bytes=payload)
            elapsed = time.perf_counter() - started
            print(
                f"  {label}: {elapsed:.2f} s ({args.rows / elapsed:,.0f} rows/s); created "
                f"{report.created}, updated {report.updated}, errors {report.error_count}, "
                f"encoding {report.encoding}{', FATAL ' + report.fatal if report.fatal else ''}"
            )
    finally:
        organisation.delete()  # type: ignore[attr-defined]


if __name__ == "__main__":
    main()
