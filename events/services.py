"""Events in: a batch as the API, the browser snippet and the webhooks hand it over, identify,
and what a committed batch sets off (surveys triggered, metrics marked for recompute)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction

from accounts.models import Store
from core import clock
from core.errors import DomainError
from events import blocks, ingest
from events.ingest import EventIn, ItemError, Window
from events.models import Customer, EventSource
from events.signals import events_ingested
from surveys import services as survey_services

logger = logging.getLogger(__name__)

# Sources whose events may email a buyer: live ones. CSV imports and demo data are history.
TRIGGERING_SOURCES = frozenset({EventSource.API, EventSource.BROWSER, EventSource.SHOPIFY})


@dataclass
class BatchResult:
    accepted: int = 0
    duplicates: list[int] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"accepted": self.accepted, "duplicates": self.duplicates, "errors": self.errors}


def events_batch_ingest(
    *, store: Store, raw_items: Sequence[Any], source: EventSource = EventSource.API
) -> BatchResult:
    """Check each item, write the good ones (events_write), and once they commit, trigger
    surveys and tell the metrics. Bad items are reported by index; the rest go in."""
    good, errors = ingest.items_check(raw_items, window=Window.for_store(store))
    return events_ingest(store=store, items=good, source=source, errors=errors)


def events_typed_ingest(
    *, store: Store, items: list[ingest.RawItem], source: EventSource = EventSource.API
) -> BatchResult:
    """events_batch_ingest for a body that decoded straight into typed items (the fast path:
    ingest.batch_decode_typed); the same rules and answers."""
    good, errors = ingest.typed_items_check(items, window=Window.for_store(store))
    return events_ingest(store=store, items=good, source=source, errors=errors)


def events_ingest(
    *,
    store: Store,
    items: list[EventIn],
    source: EventSource,
    errors: list[dict[str, Any]] | None = None,
    emails: dict[str, str] | None = None,
) -> BatchResult:
    """Write checked events and set off what follows their commit. `emails`: customer key →
    email, for the survey trigger of customers whose contact does not exist yet (orders)."""
    written = ingest.events_write(store=store, items=items, source=source)
    if written.accepted:
        accepted = written.accepted
        transaction.on_commit(
            lambda: _after_commit(store=store, items=accepted, source=source, emails=emails or {}),
            robust=True,
        )
    return BatchResult(
        accepted=len(written.accepted), duplicates=written.duplicates, errors=errors or []
    )


def _after_commit(
    *, store: Store, items: list[EventIn], source: EventSource, emails: dict[str, str]
) -> None:
    events_ingested.send(
        sender=Store, store_id=store.pk, days=sorted({i.occurred_at.date() for i in items})
    )
    if source not in TRIGGERING_SOURCES:
        return
    triggers = survey_services.trigger_event_names(store=store)
    for item in items:
        if item.name not in triggers or item.is_anonymous:
            continue
        survey_services.event_trigger(
            store=store,
            event_name=item.name,
            occurred_at=item.occurred_at,
            customer_key=item.customer_key,
            email=emails.get(item.customer_key, ""),
            recent_only=True,
        )


# An anonymous id's events, moved to its customer in the raw rows and added again to the compact
# form under the customer; answers the UTC days they fall on.
_MOVE_TO_CUSTOMER = f"""
WITH moved AS (
    UPDATE events_event SET customer_id = %(customer)s
    WHERE store_id = %(store)s AND customer_id = %(anonymous)s
    RETURNING customer_id, occurred_at, event_name_id, session_id
), block AS ({blocks.DELTA_FROM_SQL})
SELECT DISTINCT (occurred_at AT TIME ZONE 'UTC')::date FROM moved
"""  # noqa: S608 - built from constants


class IdentifyConflict(DomainError):
    code = "identify_conflict"


@transaction.atomic
def customer_identify(*, store: Store, anonymous_id: str, customer_key: str) -> Customer:
    """Link a browser's anonymous id to the store's customer: its earlier events now count
    for that customer, and so will later ones. Repeating the same link changes nothing; a
    second, different customer for the same anonymous id is refused (the first link wins)."""
    try:
        anonymous_key = ingest.customer_key_clean(anonymous_id, label="anonymous_id")
        key = ingest.customer_key_clean(customer_key)
    except ItemError as exc:
        raise ValidationError(str(exc)) from None
    now = clock.now()
    with connection.cursor() as cursor:
        ids = ingest.customer_ids(cursor, store.pk, {(True, anonymous_key), (False, key)}, now)
    customer = Customer.objects.get(pk=ids[(False, key)])
    anonymous = Customer.objects.select_for_update().get(
        store=store, is_anonymous=True, key=anonymous_key
    )
    if anonymous.identified_as_id is not None:
        if anonymous.identified_as_id != customer.pk:
            raise IdentifyConflict(
                "This anonymous id is already identified as another customer; the first link "
                "stands."
            )
        return customer
    anonymous.identified_as = customer
    anonymous.save(update_fields=["identified_as"])
    with connection.cursor() as cursor:
        # The anonymous id's events move to the customer (the index on (store, customer,
        # occurred_at) finds them), and again into the compact form under the customer; their
        # days are marked for recompute.
        cursor.execute(
            _MOVE_TO_CUSTOMER,
            {"customer": customer.pk, "store": store.pk, "anonymous": anonymous.pk},
        )
        moved = cursor.fetchall()
        if moved:
            ingest.days_mark(cursor, store.pk, {row[0] for row in moved}, now, full=True)
            cursor.execute(
                "SELECT min(e.occurred_at) FROM events_event e JOIN events_eventname n "
                "ON n.id = e.event_name_id WHERE e.store_id = %s AND e.customer_id = %s "
                "AND n.name = 'purchase'",
                [store.pk, customer.pk],
            )
            first = cursor.fetchone()[0]
            if first is not None:
                ingest.first_purchases_note(cursor, {customer.pk: first})
    if moved:
        days = sorted({row[0] for row in moved})
        transaction.on_commit(
            lambda: events_ingested.send(sender=Store, store_id=store.pk, days=days), robust=True
        )
    customer.refresh_from_db()
    return customer
