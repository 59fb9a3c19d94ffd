"""Reads of stored results: the customers behind a stage's figure, from the same result as the
counts (so that the list's length is the figure on the card)."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import numpy.typing as npt
from django.db import connection

from core.errors import DomainError
from metrics.models import FunnelResult
from metrics.rollups import Entered


class BadListQuery(DomainError):
    status = 400
    code = "invalid"


class Outcome:
    CONVERTED = "converted"  # reached the stage: funnel[k] customers
    DROPPED = "dropped"  # reached the previous tracked stage and not this one


@dataclass
class CustomerRow:
    customer_id: int
    key: str
    entered_at: datetime
    level: int  # tracked stages reached, 1 = the first
    last_step_at: datetime


@dataclass
class CustomerPage:
    count: int
    rows: list[CustomerRow]
    next: str | None
    previous: str | None


def _instant(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def _stage_index(result: FunnelResult, stage_id: int) -> int:
    """The stage's place among the tracked stages (0 = the first)."""
    tracked = [s["id"] for s in result.stages if s["tracked"]]
    if stage_id not in tracked:
        known = any(s["id"] == stage_id for s in result.stages)
        raise BadListQuery(
            "This stage is not tracked: map event names to it first."
            if known
            else "No such stage in the store's active journey.",
            details={"stage": ["Choose a tracked stage of the active journey."]},
        )
    return tracked.index(stage_id)


def _selection(
    result: FunnelResult, stage_id: int, outcome: str
) -> tuple[Entered, npt.NDArray[np.int64]]:
    k = _stage_index(result, stage_id)
    if outcome == Outcome.DROPPED and k == 0:
        raise BadListQuery(
            "Nobody drops off at the first stage: customers enter the funnel there.",
            details={"outcome": ["Use 'converted' for the first stage."]},
        )
    entered = Entered.unpack(bytes(result.entered))
    levels = entered.levels.astype(np.int64)
    mask = levels >= k + 1 if outcome == Outcome.CONVERTED else levels == k
    return entered, np.flatnonzero(mask)


def _keys(customer_ids: list[int]) -> dict[int, str]:
    if not customer_ids:
        return {}
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, key FROM events_customer WHERE id = ANY(%s)", [customer_ids])
        return dict(cursor.fetchall())


def _rows(entered: Entered, rows: npt.NDArray[np.int64]) -> list[CustomerRow]:
    ids = [int(c) for c in entered.customers[rows]]
    keys = _keys(ids)
    return [
        CustomerRow(
            customer_id=int(entered.customers[i]),
            key=keys.get(int(entered.customers[i]), ""),  # "" once erased
            entered_at=_instant(int(entered.entries[i])),
            level=int(entered.levels[i]),
            last_step_at=_instant(int(entered.lasts[i])),
        )
        for i in rows
    ]


def encode_cursor(entry_ms: int, customer_id: int, *, backwards: bool) -> str:
    raw = json.dumps([entry_ms, customer_id, int(backwards)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[int, int, bool]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        entry_ms, customer_id, backwards = json.loads(raw)
        return int(entry_ms), int(customer_id), bool(backwards)
    except (ValueError, TypeError) as error:
        raise BadListQuery(
            "The cursor is not one this list gave out.", details={"cursor": ["Invalid cursor."]}
        ) from error


def funnel_customers(
    *, result: FunnelResult, stage_id: int, outcome: str, cursor: str | None, page_size: int
) -> CustomerPage:
    """A page of the customers who converted at the stage or dropped off before it, in order
    of entry (then customer id); keyset cursors, stable while the result is."""
    entered, rows = _selection(result, stage_id, outcome)
    entries, customers = entered.entries[rows], entered.customers[rows]
    start = 0
    if cursor:
        entry_ms, customer_id, backwards = _decode_cursor(cursor)
        after = (entries > entry_ms) | ((entries == entry_ms) & (customers > customer_id))
        first_after = int(np.argmax(after)) if after.any() else rows.size
        if backwards:
            # The page that ends just before the cursor's row.
            before = (entries < entry_ms) | ((entries == entry_ms) & (customers < customer_id))
            end = int(before.sum())
            start = max(end - page_size, 0)
        else:
            start = first_after
    page = rows[start : start + page_size]
    has_next = start + page_size < rows.size
    has_previous = start > 0
    return CustomerPage(
        count=int(rows.size),
        rows=_rows(entered, page),
        next=encode_cursor(
            int(entered.entries[page[-1]]), int(entered.customers[page[-1]]), backwards=False
        )
        if has_next and page.size
        else None,
        previous=encode_cursor(
            int(entered.entries[page[0]]), int(entered.customers[page[0]]), backwards=True
        )
        if has_previous and page.size
        else None,
    )


def funnel_customer_ids(*, result: FunnelResult, stage_id: int, outcome: str) -> list[int]:
    """The customer ids of the selection, in list order: what a server-side action over the
    list (asking the ones who dropped off) reads, never a list posted by a page."""
    entered, rows = _selection(result, stage_id, outcome)
    return [int(c) for c in entered.customers[rows]]


def funnel_customers_all(
    *, result: FunnelResult, stage_id: int, outcome: str, chunk: int = 2000
) -> Iterator[CustomerRow]:
    """Every customer of the selection, in list order, a chunk of keys at a time (the export)."""
    entered, rows = _selection(result, stage_id, outcome)
    for offset in range(0, rows.size, chunk):
        yield from _rows(entered, rows[offset : offset + chunk])
