"""Removing a store's events, customers and keys in batches (a deleted store, an erased
contact), never through Django's cascade over millions of rows."""

from __future__ import annotations

from django.db import connection, transaction

from accounts.models import Store
from core import clock
from events import blocks, ingest
from events.signals import events_ingested


def _delete_in_batches(sql: str, params: list, *, batch_size: int) -> int:
    total = 0
    while True:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [*params, batch_size])
            deleted = cursor.rowcount
        total += deleted
        if deleted < batch_size:
            return total


def store_events_purge(*, store_id: int, batch_size: int) -> None:
    """Every event of the store, customer by customer (the (store, customer, occurred_at)
    index finds them), then its idempotency keys, recompute marks, customers and names.
    Idempotent: a second run finds less or nothing."""
    # The Shopify webhook's rows first: its address stops answering, and nothing it maps
    # outlives the customers.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM events_shopifywebhook WHERE store_id = %s", [store_id])
    for table in ("events_shopifyorder", "events_webhookdelivery"):
        _delete_in_batches(
            f"DELETE FROM {table} WHERE ctid IN "  # noqa: S608 - table names are constants
            f"(SELECT ctid FROM {table} WHERE store_id = %s LIMIT %s)",
            [store_id],
            batch_size=batch_size,
        )
    # One batch: the events of up to batch_size / 20 customers (a customer has tens of events
    # on average; a heavy one makes that batch longer, not unbounded in memory: nothing is
    # loaded into Python).
    customers_per_batch = max(1, batch_size // 20)
    while True:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "SELECT id FROM events_customer WHERE store_id = %s ORDER BY id LIMIT %s",
                [store_id, customers_per_batch],
            )
            ids = [row[0] for row in cursor.fetchall()]
            if not ids:
                break
            cursor.execute(
                "DELETE FROM events_event WHERE store_id = %s AND customer_id = ANY(%s)",
                [store_id, ids],
            )
            # Anonymous ids identified as one of these customers lose the link first.
            cursor.execute(
                "UPDATE events_customer SET identified_as_id = NULL "
                "WHERE store_id = %s AND identified_as_id = ANY(%s)",
                [store_id, ids],
            )
            cursor.execute(
                "DELETE FROM events_customer WHERE store_id = %s AND id = ANY(%s)", [store_id, ids]
            )
    for table in ("events_eventkey", "events_recomputemark", "events_eventblock"):
        _delete_in_batches(
            f"DELETE FROM {table} WHERE ctid IN "  # noqa: S608 - table names are constants
            f"(SELECT ctid FROM {table} WHERE store_id = %s LIMIT %s)",
            [store_id],
            batch_size=batch_size,
        )
    # Events whose customer row is gone (none should be): the store's rows, in time order.
    _delete_in_batches(
        "DELETE FROM events_event WHERE store_id = %s AND (occurred_at, seq) IN "
        "(SELECT occurred_at, seq FROM events_event WHERE store_id = %s LIMIT %s)",
        [store_id, store_id],
        batch_size=batch_size,
    )
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM events_eventname WHERE store_id = %s", [store_id])


def customers_erase(*, store_id: int, customer_ids: list[int]) -> int:
    """Erase customers with their events (a contact's erasure), and forget which of the
    store's orders were theirs (a later shipment of such an order is then an unknown order's,
    not stored). Their idempotency keys stay: a hash of the sender's event id, nothing about
    the person, and a resend stays a duplicate. Returns the number of events removed."""
    if not customer_ids:
        return 0
    with transaction.atomic(), connection.cursor() as cursor:
        blocks.blocks_rewrite(store_id=store_id, drop_customers=customer_ids)
        cursor.execute(
            "DELETE FROM events_event WHERE store_id = %s AND customer_id = ANY(%s)",
            [store_id, customer_ids],
        )
        removed = cursor.rowcount
        cursor.execute(
            "DELETE FROM events_shopifyorder WHERE store_id = %s AND customer_id = ANY(%s)",
            [store_id, customer_ids],
        )
        cursor.execute(
            "UPDATE events_customer SET identified_as_id = NULL "
            "WHERE store_id = %s AND identified_as_id = ANY(%s)",
            [store_id, customer_ids],
        )
        cursor.execute(
            "DELETE FROM events_customer WHERE store_id = %s AND id = ANY(%s)",
            [store_id, customer_ids],
        )
        # The stored figures drop them at the next recompute, queued once this commits.
        today = clock.now().date()
        ingest.days_mark(cursor, store_id, {today}, clock.now())
        transaction.on_commit(
            lambda: events_ingested.send(sender=Store, store_id=store_id, days=[today]),
            robust=True,
        )
    return removed
