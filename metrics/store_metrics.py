"""A store's bounce rate, repeat-purchase retention and survey response rate for a period,
computed on request (the compact form of its events for the first two, the invitations for
the third). Definitions: ../shared/docs/domain.md.

- Bounce rate: sessions whose only event in the period is a single page view (`page_view` or
  `product_view`) / all sessions (distinct session ids among the store's events in the
  period). A session's events may sit in several customer buckets (a visitor who bought
  under their customer key mid-session), so each bucket's sessions are gathered first.
- Retention: customers whose first purchase ever falls in the period and who purchase again,
  strictly later, within N days of it / customers whose first purchase ever falls in the
  period; incomplete while the period's end plus N days is in the future.
- Response rate: invitations answered / invitations delivered (sent, opened or answered) in
  the period.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

import numpy as np
from django.db import connection

from accounts.models import Store
from core import clock
from core.stats import Proportion
from events import blocks
from events.models import EventName
from metrics.funnel import period_bounds
from metrics.models import FunnelResult
from metrics.rollups import PAGE_VIEWS
from surveys.models import Invitation

DEFAULT_RETENTION_DAYS = 90
DAY_MS = 24 * 60 * 60 * 1000


@dataclass
class StoreMetrics:
    bounce_rate: Proportion
    retention: Proportion
    retention_days: int
    retention_complete: bool
    response_rate: Proportion


def _first_purchases_in(store: Store, first: int, last: int) -> dict[int, int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, (floor(extract(epoch from first_purchase_at) * 1000))::bigint "
            "FROM events_customer WHERE store_id = %s AND first_purchase_at IS NOT NULL "
            # An anonymous id linked to a customer is that customer now (its events count
            # under the customer, whose first purchase takes the earlier of theirs).
            "AND identified_as_id IS NULL "
            "AND first_purchase_at >= to_timestamp(%s / 1000.0) "
            "AND first_purchase_at <= to_timestamp(%s / 1000.0)",
            [store.pk, first, last],
        )
        return dict(cursor.fetchall())


def store_metrics(
    *,
    store: Store,
    start: date,
    end: date,
    retention_days: int = DEFAULT_RETENTION_DAYS,
    stored: bool = True,
) -> StoreMetrics:
    """Read from the stored result of a standard period (with these retention days) when
    there is one (`stored`), else computed now; the response rate is always read now."""
    first, last = period_bounds(store, start, end)
    delivered = Invitation.objects.filter(
        survey__store=store,
        status__in=Invitation.DELIVERED,
        sent_at__gte=datetime.fromtimestamp(first / 1000, tz=UTC),
        sent_at__lte=datetime.fromtimestamp(last / 1000, tz=UTC),
    )
    response_rate = Proportion(
        delivered.filter(status=Invitation.Status.ANSWERED).count(), delivered.count()
    )
    complete = (
        datetime.fromtimestamp((last + 1 + retention_days * DAY_MS) / 1000, tz=UTC) <= clock.now()
    )
    result = (
        FunnelResult.objects.filter(
            store=store, start=start, end=end, retention_days=retention_days
        )
        .exclude(kind=FunnelResult.Kind.CUSTOM)
        .only("sessions", "bounced", "first_buyers", "returned")
        .first()
        if stored
        else None
    )
    if result is not None:
        return StoreMetrics(
            bounce_rate=Proportion(result.bounced, result.sessions),
            retention=Proportion(result.returned, result.first_buyers),
            retention_days=retention_days,
            retention_complete=complete,
            response_rate=response_rate,
        )
    ids = dict(EventName.objects.filter(store=store).values_list("name", "pk"))
    page_ids = np.array([ids[n] for n in PAGE_VIEWS if n in ids], dtype=np.int32)
    purchase = ids.get("purchase")
    buyers = _first_purchases_in(store, first, last)
    buyer_ids = np.array(sorted(buyers), dtype=np.int64)
    buyer_first = np.array([buyers[c] for c in sorted(buyers)], dtype=np.int64)
    came_back: set[int] = set()
    session_parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    for columns in blocks.store_buckets(store_id=store.pk):
        if not len(columns):
            continue
        in_period = (columns.times >= first) & (columns.times <= last) & (columns.sessions != 0)
        sessions = columns.sessions[in_period]
        if sessions.size:
            unique, index, counts = np.unique(sessions, return_index=True, return_counts=True)
            page = np.isin(columns.names[in_period][index], page_ids)
            session_parts.append((unique, counts, page))
        if purchase is not None and buyer_ids.size:
            bought = columns.names == purchase
            customers, times = columns.customers[bought], columns.times[bought]
            where = np.minimum(np.searchsorted(buyer_ids, customers), buyer_ids.size - 1)
            known = buyer_ids[where] == customers
            again = (
                known
                & (times > buyer_first[where])
                & (times <= buyer_first[where] + retention_days * DAY_MS)
            )
            came_back.update(int(c) for c in np.unique(customers[again]))
    bounced = total = 0
    if session_parts:
        unique = np.concatenate([p[0] for p in session_parts])
        counts = np.concatenate([p[1] for p in session_parts])
        page = np.concatenate([p[2] for p in session_parts])
        order = np.argsort(unique, kind="stable")
        unique, counts, page = unique[order], counts[order], page[order]
        starts = np.ones(unique.size, dtype=bool)
        starts[1:] = unique[1:] != unique[:-1]
        at = np.flatnonzero(starts)
        per_session = np.add.reduceat(counts, at)
        # A session split over buckets has more than one part: never a single event.
        single_page = (per_session == 1) & page[at]
        total, bounced = int(at.size), int(single_page.sum())
    return StoreMetrics(
        bounce_rate=Proportion(bounced, total),
        retention=Proportion(len(came_back), len(buyers)),
        retention_days=retention_days,
        retention_complete=complete,
        response_rate=response_rate,
    )
