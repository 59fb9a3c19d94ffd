"""A store's events, in compact rows built for a hundred million on one server.

Every table keeps `store_id` first in its keys and indexes and every query filters by store,
so that the tables can later be distributed by store (Citus) without a rewrite.

`Event` lives in a table range-partitioned by month on `occurred_at` (migration 0001 creates
it in SQL: Django cannot declare PARTITION BY). Its primary key must include the partition
key, so it is (store, occurred_at, seq), declared to the ORM as a CompositePrimaryKey on an
unmanaged model: the ORM reads events, while writes go through COPY (events/ingest.py).
For the same reason no unique constraint on the partitioned table can hold the client's
idempotency id across months: `EventKey` does, in a plain table keyed by a 16-byte hash.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.crypto import EncryptedTextField
from accounts.models import Store
from surveys.models import Contact


class EventSource(models.IntegerChoices):
    API = 1, _("Batch API")
    BROWSER = 2, _("Browser snippet")
    SHOPIFY = 3, _("Shopify webhook")
    CSV = 4, _("CSV import")
    DEMO = 5, _("Demo data")


class EventName(models.Model):
    """A name a store's events carry, as the small integer the events rows hold."""

    id = models.AutoField(primary_key=True)  # 4 bytes in each event row
    store = models.ForeignKey(
        Store, on_delete=models.CASCADE, db_index=False, related_name="+"
    )  # the unique constraint, store first, serves it
    name = models.CharField(max_length=64)
    first_seen_at = models.DateTimeField()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["store", "name"], name="event_name_unique_in_store")
        ]

    def __str__(self) -> str:
        return self.name


class Customer(models.Model):
    """A store's customer as the bigint the events rows hold: the store's own customer key,
    or a browser's anonymous id until identify links it to one (`identified_as`)."""

    store = models.ForeignKey(
        Store, on_delete=models.CASCADE, db_index=False, related_name="+"
    )  # the unique constraint, store first, serves it
    key = models.CharField(max_length=128)
    is_anonymous = models.BooleanField(default=False)
    identified_as = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="anonymous_ids"
    )
    contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    first_seen_at = models.DateTimeField()
    # The first `purchase` ever (retention counts customers whose first purchase is in a period).
    first_purchase_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["store", "is_anonymous", "key"], name="customer_key_unique_in_store"
            )
        ]
        indexes = [
            # Partial: a lookup by (store, is_anonymous, key) must never take this index for a
            # scan of the store's customers (it did, on stale statistics: 1.6 s a batch).
            models.Index(
                fields=["store", "contact"],
                name="customer_contact",
                condition=models.Q(contact__isnull=False),
            ),
            # The anonymous ids linked to a customer, which every compaction leaves out (a scan
            # of the store's customers without it: 0.3 s at 2 million).
            models.Index(
                fields=["store", "id"],
                name="customer_linked",
                condition=models.Q(identified_as__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return self.key


class Event(models.Model):
    """One event. Read through the ORM; written by events/ingest.py with COPY."""

    pk = models.CompositePrimaryKey("store_id", "occurred_at", "seq")
    # No database constraints: 30,000 rows a second are not checked one by one, and a store's
    # events are removed in batches before the store (events/purges.py), never by cascade.
    store = models.ForeignKey(
        Store, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    occurred_at = models.DateTimeField()
    seq = models.BigIntegerField()
    customer = models.ForeignKey(
        Customer, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    event_name = models.ForeignKey(
        EventName, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    received_at = models.DateTimeField()
    session_id = models.CharField(max_length=64, blank=True)
    client_id = models.CharField(max_length=64)  # the sender's idempotency id
    properties = models.JSONField(default=dict)
    source = models.PositiveSmallIntegerField(choices=EventSource.choices)

    class Meta:
        managed = False
        db_table = "events_event"
        ordering = ["-occurred_at", "-seq"]

    def __str__(self) -> str:
        return f"{self.client_id} at {self.occurred_at:%Y-%m-%d %H:%M}"


class EventKey(models.Model):
    """The idempotency ids a store has sent, for all time (a resend is a duplicate even after
    its month's partition is dropped): the first 16 bytes of SHA-256 of the id, as a uuid."""

    pk = models.CompositePrimaryKey("store_id", "key_hash")
    store = models.ForeignKey(
        Store, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+"
    )
    key_hash = models.UUIDField()

    class Meta:
        db_table = "events_eventkey"

    def __str__(self) -> str:
        return str(self.key_hash)


class RecomputeMark(models.Model):
    """A day (UTC) of a store whose events changed since the metrics last looked: set in the
    transaction that writes the events, so that nothing is missed when Redis is down; the
    metrics' periodic sweep consumes them. `full`: events were moved or removed (identify,
    erasure, retention), not only added, so that the metrics recompute everything instead of
    just the customers that new events touched."""

    pk = models.CompositePrimaryKey("store_id", "day")
    store = models.ForeignKey(
        Store, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+"
    )
    day = models.DateField()
    marked_at = models.DateTimeField()
    full_recompute = models.BooleanField(default=False, db_default=False)

    class Meta:
        db_table = "events_recomputemark"

    def __str__(self) -> str:
        return f"{self.store_id} {self.day}"


class EventBlock(models.Model):
    """The compact form of a store's events that the metrics engine reads (events/blocks.py):
    columns of (customer, time in ms, name id, session hash) as packed big-endian integers.

    A batch adds one delta block (`bucket` DELTA, rows in arrival order) in the transaction that
    writes its events; compaction merges deltas into the store's BUCKETS blocks, bucket =
    customer id mod BUCKETS, each sorted by (customer, time), so that a customer's events are
    in one bucket and the engine reads a bucket at a time. Keyed by event name, not by stage:
    editing a journey's mapping needs a recompute, never a rebuild."""

    DELTA = -1

    pk = models.CompositePrimaryKey("store_id", "bucket", "seq")
    store = models.ForeignKey(
        Store, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+"
    )
    bucket = models.SmallIntegerField()
    seq = models.BigIntegerField()  # from a sequence: deltas are merged in their order
    events = models.IntegerField()
    first_at = models.DateTimeField()
    last_at = models.DateTimeField()
    customers = models.BinaryField()
    times = models.BinaryField()
    names = models.BinaryField()
    sessions = models.BinaryField()

    class Meta:
        db_table = "events_eventblock"
        managed = False

    def __str__(self) -> str:
        return f"{self.store_id}/{self.bucket}/{self.seq}"


# --- Shopify-compatible webhooks (events/shopify.py)


class ShopifyWebhook(models.Model):
    """A store's webhook address and signing secret. Looked up by its webhook id alone (the URL
    names no store): one small row per store, so that lookup does not need store_id first."""

    store = models.OneToOneField(Store, on_delete=models.CASCADE, related_name="+")
    # Random and unguessable: the URL is /hooks/shopify/<webhook_id>/ (secrets.token_urlsafe).
    webhook_id = models.CharField(max_length=64, unique=True)
    # Read back to verify each delivery's HMAC, so encrypted (FIELD_ENCRYPTION_KEYS), not hashed.
    secret = EncryptedTextField()
    # True when an admin pasted the secret the sender signs with (Shopify's own), not ours.
    secret_is_pasted = models.BooleanField(default=False)
    created_at = models.DateTimeField()
    rotated_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Shopify webhook of store {self.store_id}"


class WebhookDelivery(models.Model):
    """One request to a store's webhook URL and what came of it, for the store's developer
    (the events page lists the latest). Its X-Shopify-Webhook-Id, the same on every retry of
    a delivery, is unique per store: a retry is counted here (`repeats`) and changes nothing
    else. Rows with a bad signature, or without the header, take no part in that (whoever sent
    them could otherwise take a real delivery's id). Kept WEBHOOK_DELIVERY_DAYS days
    (events.shopify.webhook_deliveries_prune)."""

    class Result(models.TextChoices):
        STORED = "stored", _("Stored")
        DUPLICATE = "duplicate", _("Already stored")
        UNKNOWN_ORDER = "unknown_order", _("Order never received")
        UNMAPPED_TOPIC = "unmapped_topic", _("Topic not mapped")
        IGNORED = "ignored", _("Nothing to store")
        INVALID = "invalid", _("Not understood")
        BAD_SIGNATURE = "bad_signature", _("Bad signature")

    # No database constraint and no cascade: a deleted store's rows go in batches
    # (events/purges.py), like its events.
    store = models.ForeignKey(
        Store, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+"
    )
    webhook_id = models.CharField(max_length=64)  # X-Shopify-Webhook-Id, as sent
    topic = models.CharField(max_length=64)  # X-Shopify-Topic, as sent
    received_at = models.DateTimeField()
    result = models.CharField(max_length=16, choices=Result.choices)
    resource_id = models.CharField(max_length=64, blank=True)  # the order, fulfillment… id
    events_stored = models.PositiveSmallIntegerField(default=0)
    events_duplicate = models.PositiveSmallIntegerField(default=0)
    repeats = models.PositiveIntegerField(default=0)  # the same webhook id received again
    last_repeat_at = models.DateTimeField(null=True, blank=True)
    detail = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["store", "webhook_id"],
                condition=~models.Q(result="bad_signature") & ~models.Q(webhook_id=""),
                name="webhook_delivery_once_per_store",
            )
        ]
        indexes = [
            models.Index(fields=["store", "-received_at", "-id"], name="webhook_delivery_recent")
        ]
        verbose_name_plural = "webhook deliveries"

    def __str__(self) -> str:
        return f"{self.topic} {self.webhook_id}: {self.result}"


class ShopifyOrder(models.Model):
    """Which customer placed an order, from the order webhooks received: fulfillments and
    refunds name only the order. The order id is kept as the text of its digits, exactly
    (Shopify's ids exceed 2^53, where JSON numbers read as doubles lose digits)."""

    pk = models.CompositePrimaryKey("store_id", "order_id")
    store = models.ForeignKey(
        Store, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+"
    )
    order_id = models.CharField(max_length=64)
    customer = models.ForeignKey(
        Customer, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+"
    )  # the (store, customer) index serves an erasure's lookup
    received_at = models.DateTimeField()

    class Meta:
        db_table = "events_shopifyorder"
        indexes = [models.Index(fields=["store", "customer"], name="shopify_order_customer")]

    def __str__(self) -> str:
        return self.order_id


class EventImport(models.Model):
    """A CSV file of a store's history, uploaded to be imported (events/imports.py): what was
    detected in it, and the choices the import runs with. Its `task` follows the run.

    The file itself waits in EventImportChunk rows until the run has read it, then they are
    deleted: the web process and the worker share no disk, only the database."""

    class Shape(models.TextChoices):
        EVENTS = "events", _("Events: one event per row")
        ORDERS = "orders", _("Orders: dates of an order's steps in columns")

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="+")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    task = models.OneToOneField(
        "core.Task", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    file_name = models.CharField(max_length=255)
    file_size = models.BigIntegerField()  # bytes as uploaded (compressed, for a .gz)
    compressed = models.BooleanField(default=False)  # gzip
    shape = models.CharField(max_length=8, choices=Shape.choices)
    # Detected at upload: how the file's text is read, and its header row.
    encoding = models.CharField(max_length=16)
    delimiter = models.CharField(max_length=1)
    header = models.JSONField(default=list)
    # Chosen (or detected, then confirmed) before the run.
    mapping = models.JSONField(default=dict)  # column index (as text) -> target
    time_zone = models.CharField(max_length=64)  # of naive timestamps
    day_first = models.BooleanField(default=True)  # 03/04/2026 is 3 April
    cancelled_prefix = models.CharField(max_length=8, blank=True)  # orders: "C" in C536379
    # The language of the person who started it: the report's messages are in it.
    language = models.CharField(max_length=8, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.file_name


class EventImportChunk(models.Model):
    """One piece (up to 1 MB) of an uploaded file, in order, until the import has read it."""

    event_import = models.ForeignKey(
        EventImport, on_delete=models.CASCADE, db_index=False, related_name="chunks"
    )  # the unique constraint, import first, serves it
    number = models.PositiveIntegerField()
    data = models.BinaryField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["event_import", "number"], name="event_import_chunk_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.event_import_id}#{self.number}"
