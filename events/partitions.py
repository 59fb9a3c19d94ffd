"""Monthly partitions of events_event (UTC months): created ahead of time by beat, on demand
for history a store imports, and dropped once every store's retention has passed them.

A month's partition is `events_event_pYYYYMM`. The default partition catches only what
should never happen (an insert raced a partition's creation): partitions_maintain moves such
rows into their month and reports how many there were.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from django.db import connection, transaction

from accounts.models import Store
from core import clock
from events import blocks
from events.models import EventBlock

logger = logging.getLogger(__name__)

# Months created ahead of the current one, so that beat missing a run or two loses nothing.
MONTHS_AHEAD = 3
# A fixed number for pg_advisory_xact_lock: one partition change at a time, across processes.
_LOCK_ID = 7_214_003

# Months known to have a partition, per process: ingestion asks for every batch, the
# database only when a month is new to this process.
_known: set[date] = set()


def month_of(moment: datetime) -> date:
    moment = moment.astimezone(UTC)
    return date(moment.year, moment.month, 1)


def add_months(month: date, months: int) -> date:
    index = month.year * 12 + month.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def partition_name(month: date) -> str:
    return f"events_event_p{month:%Y%m}"


def _bounds(month: date) -> tuple[str, str]:
    return f"{month:%Y-%m-%d} 00:00:00+00", f"{add_months(month, 1):%Y-%m-%d} 00:00:00+00"


def partitions_existing() -> set[date]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = 'events_event'::regclass"
        )
        names = [row[0] for row in cursor.fetchall()]
    months = set()
    for name in names:
        suffix = name.removeprefix("events_event_p")
        if suffix != name and suffix.isdigit() and len(suffix) == 6:
            months.add(date(int(suffix[:4]), int(suffix[4:]), 1))
    return months


def _create(cursor: Any, month: date) -> int:
    """Create the month's partition; rows of that month already in the default partition
    (which would make a plain CREATE ... PARTITION OF fail) are moved into it. Returns how
    many were moved."""
    name = partition_name(month)
    low, high = _bounds(month)
    cursor.execute(f"CREATE TABLE {name} (LIKE events_event INCLUDING DEFAULTS)")
    cursor.execute(
        f"WITH moved AS (DELETE FROM events_event_default "  # noqa: S608 - constants only
        f"WHERE occurred_at >= %s::timestamptz AND occurred_at < %s::timestamptz RETURNING *) "
        f"INSERT INTO {name} SELECT * FROM moved",
        [low, high],
    )
    moved = cursor.rowcount
    # DDL takes no parameters: the bounds are formatted from dates, never from input.
    cursor.execute(
        f"ALTER TABLE events_event ATTACH PARTITION {name} FOR VALUES FROM ('{low}') TO ('{high}')"
    )
    return moved


def partitions_ensure(months: Iterable[date]) -> int:
    """Make sure each month has its partition; returns how many were created. Runs in its own
    transaction when called outside one (creating a partition locks the parent table briefly,
    so it is never left waiting inside a long ingestion transaction)."""
    missing = set(months) - _known
    if not missing:
        return 0
    _known.update(partitions_existing())
    missing -= _known
    if not missing:
        return 0
    created = 0
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_ID])
        existing = partitions_existing()
        for month in sorted(missing - existing):
            moved = _create(cursor, month)
            if moved:
                logger.warning("Moved %d events of %s out of the default partition", moved, month)
            created += 1
    _known.update(missing)
    return created


def forget_known() -> None:
    """Forget the process's cache of partitions (tests that drop partitions)."""
    _known.clear()


def retention_horizon(store: Store, now: datetime | None = None) -> datetime | None:
    """The oldest moment of an event the store keeps: the start of the month `months` back
    (a whole month is kept or dropped). None when the store keeps everything."""
    months = store.event_retention_months
    if months is None:
        return None
    start = add_months(month_of(now or clock.now()), -months)
    return datetime(start.year, start.month, 1, tzinfo=UTC)


@dataclass
class Maintenance:
    created: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    expired_events_deleted: int = 0
    default_partition_rows: int = 0


# Expired rows deleted per statement, where a partition cannot be dropped whole.
RETENTION_BATCH = 10_000


def partitions_maintain() -> Maintenance:
    """Beat's daily care: partitions from the earliest retention horizon to MONTHS_AHEAD
    months ahead; a partition every store's retention has passed is dropped whole, one that
    a store still keeps (retention off, or longer) loses only the expired stores' rows; rows
    in the default partition are moved to their month and reported. Horizons fall on month
    starts, so a partition is wholly kept or wholly expired for each store."""
    report = Maintenance()
    now = clock.now()
    stores = list(Store.objects.only("pk", "event_retention_months"))
    horizons = {store.pk: retention_horizon(store, now) for store in stores}
    current = month_of(now)
    kept = [h for h in horizons.values() if h is not None]
    # Stores that keep everything get their history's months on demand (partitions_ensure).
    first = min(month_of(min(kept)), current) if kept else current
    wanted = set()
    month = first
    while month <= add_months(current, MONTHS_AHEAD):
        wanted.add(month)
        month = add_months(month, 1)
    before = partitions_existing()
    report.default_partition_rows = _default_rows()
    forget_known()
    partitions_ensure(wanted | _default_months())
    report.created = [partition_name(m) for m in sorted(partitions_existing() - before)]
    for month in sorted(partitions_existing()):
        end = datetime.combine(add_months(month, 1), datetime.min.time(), tzinfo=UTC)
        expired = [pk for pk, h in horizons.items() if h is not None and h >= end]
        keeping = [pk for pk in horizons if pk not in expired]
        name = partition_name(month)
        with connection.cursor() as cursor:
            if not expired:
                continue
            cursor.execute(
                f"SELECT EXISTS (SELECT 1 FROM {name} WHERE store_id = ANY(%s))",  # noqa: S608
                [keeping],
            )
            if not cursor.fetchone()[0]:
                with transaction.atomic():
                    cursor.execute(f"ALTER TABLE events_event DETACH PARTITION {name}")
                    cursor.execute(f"DROP TABLE {name}")
                report.dropped.append(name)
                continue
            while True:
                cursor.execute(
                    f"DELETE FROM {name} WHERE ctid IN (SELECT ctid FROM {name} "  # noqa: S608
                    "WHERE store_id = ANY(%s) LIMIT %s)",
                    [expired, RETENTION_BATCH],
                )
                report.expired_events_deleted += cursor.rowcount
                if cursor.rowcount < RETENTION_BATCH:
                    break
    forget_known()
    # The compact form loses what the raw rows lost.
    for pk, horizon in horizons.items():
        if (
            horizon is not None
            and EventBlock.objects.filter(store_id=pk, first_at__lt=horizon).exists()
        ):
            with transaction.atomic():
                blocks.blocks_rewrite(store_id=pk, before_ms=int(horizon.timestamp() * 1000))
    if report.default_partition_rows:
        logger.error(
            "%d events were in the default partition and have been moved to their month",
            report.default_partition_rows,
        )
    return report


def _default_months() -> set[date]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT date_trunc('month', occurred_at AT TIME ZONE 'UTC')::date "
            "FROM events_event_default"
        )
        return {row[0] for row in cursor.fetchall()}


def _default_rows() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM events_event_default")
        return int(cursor.fetchone()[0])
