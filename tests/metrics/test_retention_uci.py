"""Retention and the repeat-purchase funnel on real data: the UCI online retail file imported
as orders, and the API's figures equal to those counted from the CSV itself with plain Python.

The importer (events/imports.py) makes one `purchase` per invoice with a customer, at the
invoice's earliest line, and one `order_cancelled` per cancelled (C...) invoice, which is no
purchase; the file's times are Europe/London wall-clock times, as is the store's day."""

from __future__ import annotations

import csv
import gzip
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from accounts.services import SYSTEM
from events import imports
from tests.metrics.conftest import figures, funnel, journey_for, retention, store_metrics

pytestmark = pytest.mark.django_db

UCI = Path("/work/shared/data/online_retail/online_retail.csv.gz")
LONDON = ZoneInfo("Europe/London")


def purchases_from_the_file() -> dict[str, list[datetime]]:
    """Customer → the UTC instants of their invoices that are purchases, ascending: an
    invoice's time is its earliest line's; cancelled invoices and lines without a customer
    are left out."""
    invoices: dict[str, tuple[str, str]] = {}  # invoice → (customer, earliest local time)
    with gzip.open(UCI, "rt", encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            customer = row["CustomerID"].strip().removesuffix(".0")
            if not customer or row["InvoiceNo"].startswith("C"):
                continue
            known = invoices.get(row["InvoiceNo"])
            if known is None or row["InvoiceDate"] < known[1]:
                invoices[row["InvoiceNo"]] = (customer, row["InvoiceDate"])
    purchases: dict[str, list[datetime]] = defaultdict(list)
    for customer, local in invoices.values():
        wall = datetime.fromisoformat(local).replace(tzinfo=LONDON)
        purchases[customer].append(wall.astimezone(UTC))
    return {customer: sorted(times) for customer, times in purchases.items()}


def local_day(moment: datetime) -> date:
    return moment.astimezone(LONDON).date()


def expected_retention(
    purchases: dict[str, list[datetime]], start: date, end: date, days: int
) -> tuple[int, int]:
    """Customers whose first purchase ever is on a day of the period, and of them those who
    bought again strictly later, within `days` × 24 h."""
    window = timedelta(days=days)
    first_buyers = [times for times in purchases.values() if start <= local_day(times[0]) <= end]
    came_back = [
        times for times in first_buyers if any(times[0] < t <= times[0] + window for t in times)
    ]
    return len(came_back), len(first_buyers)


def percentile(values: list[int], share: float) -> float:
    """Linear interpolation between the closest ranks (PostgreSQL's percentile_cont)."""
    ordered = sorted(values)
    rank = share * (len(ordered) - 1)
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def expected_funnel(
    purchases: dict[str, list[datetime]], start: date, end: date, days: int
) -> dict[str, Any]:
    """The funnel purchase → repeat_purchase: a customer enters at a purchase on a day of the
    period and converts on another purchase after their first ever, at or after the entry and
    within `days` × 24 h of it; seconds from the earliest entry that converts."""
    window = timedelta(days=days)
    entered = converted = repeaters = 0
    seconds: list[int] = []
    for times in purchases.values():
        first = times[0]
        entries = [i for i, t in enumerate(times) if start <= local_day(t) <= end]
        if not entries:
            continue
        entered += 1
        if any(times[i] > first for i in entries):
            repeaters += 1
        for i in entries:
            step = next(
                (
                    t
                    for j, t in enumerate(times)
                    if j != i and t > first and times[i] <= t <= times[i] + window
                ),
                None,
            )
            if step is not None:
                converted += 1
                seconds.append(int((step - times[i]).total_seconds()))
                break
    return {
        "entered": entered,
        "repeaters": repeaters,
        "converted": converted,
        "median": percentile(seconds, 0.5),
        "p90": percentile(seconds, 0.9),
    }


@pytest.mark.skipif(not UCI.exists(), reason="the UCI online retail file is not on this machine")
def test_retention_and_the_repeat_purchase_funnel_equal_the_files_own_counts(
    store: Any, api_as: Any, on_commit: Any, now: datetime
) -> None:
    store.time_zone = "Europe/London"
    store.event_retention_months = None  # the file is from 2010-2011
    store.save()
    journey_for(store, [("SMOT", ["purchase"]), ("UMOT", ["repeat_purchase"])])
    with UCI.open("rb") as handle:
        event_import = imports.event_import_upload(
            store=store, actor=SYSTEM, file=handle, file_name=UCI.name, shape="orders"
        )
    assert event_import.cancelled_prefix == "C"
    with on_commit(execute=True):
        task = imports.event_import_start(
            event_import=event_import,
            actor=SYSTEM,
            mapping=imports.mapping_of(event_import),
            time_zone="Europe/London",
            day_first=event_import.day_first,
            cancelled_prefix="C",
        )
    task.refresh_from_db()
    assert task.state == "done", task.error
    purchases = purchases_from_the_file()
    viewer = api_as("viewer")

    # The first quarter of 2011, 90 days; and autumn 2011, 30 days, across the change of
    # 2011-10-30 (the file ends on 2011-12-09, so later purchases are simply not there).
    for start, end, days, pinned in [
        (date(2011, 1, 1), date(2011, 3, 31), 90, (559, 1249)),
        (date(2011, 9, 1), date(2011, 11, 30), 30, (215, 981)),
    ]:
        query = {"start": start.isoformat(), "end": end.isoformat()}
        expected = expected_retention(purchases, start, end, days)
        assert expected == pinned  # the data's own, so that a change to the file shows
        body = store_metrics(viewer, store, **query, retention_days=days)
        assert retention(body) == expected
        assert (body["retention"]["days"], body["retention"]["complete"]) == (days, True)

        plain = expected_funnel(purchases, start, end, days)
        smot, umot = figures(funnel(viewer, store, **query, window_days=days))
        assert smot == ("SMOT", True, plain["entered"], plain["entered"], None, None, None)
        assert umot[:5] == (
            "UMOT",
            True,
            plain["repeaters"],
            plain["converted"],
            (plain["converted"], plain["entered"]),
        )
        # Interpolated seconds: equal but for the last bits of a float.
        assert umot[5:] == pytest.approx((plain["median"], plain["p90"]), rel=0, abs=1e-6)
