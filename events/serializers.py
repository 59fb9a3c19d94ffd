"""The events API's shapes, for the OpenAPI schema. The batch and identify bodies are read
with msgspec, not with these serializers (bench/validate_bench.py measures both on the same
1,000 events); the CSV import's multipart form is read with ImportSerializer."""

from __future__ import annotations

import json
from typing import Any

from drf_spectacular.utils import inline_serializer
from rest_framework import serializers

from events import browser, ingest


class BatchItemSerializer(serializers.Serializer):
    id = serializers.CharField(
        max_length=ingest.MAX_ID_LENGTH,
        help_text="Your idempotency id, unique in the store for all time: a resend is reported "
        "as a duplicate and stored once.",
    )
    name = serializers.RegexField(
        r"^[A-Za-z0-9_.:\-]{1,64}$", help_text="The event's name, e.g. `purchase`."
    )
    customer_key = serializers.CharField(
        max_length=ingest.MAX_CUSTOMER_KEY_LENGTH,
        required=False,
        help_text="Your id of the customer (an email address is stored only as a keyed hash).",
    )
    anonymous_id = serializers.CharField(
        max_length=ingest.MAX_CUSTOMER_KEY_LENGTH,
        required=False,
        help_text="A visitor not known yet (give this or customer_key).",
    )
    session_id = serializers.CharField(max_length=64, required=False)
    occurred_at = serializers.DateTimeField(
        help_text="ISO 8601 with a UTC offset or Z; at most a day ahead, and not before the "
        "store's retention horizon."
    )
    properties = serializers.DictField(
        required=False, help_text="Anything else, up to 8 KB of JSON per event."
    )

    def validate(self, attrs: dict) -> dict:
        if ("customer_key" in attrs) == ("anonymous_id" in attrs):
            raise serializers.ValidationError("Give customer_key or anonymous_id.")
        return attrs


class BatchSerializer(serializers.Serializer):
    events = BatchItemSerializer(many=True, help_text="Up to 1,000 events (and 1 MB).")


class BrowserItemSerializer(serializers.Serializer):
    """An item from a browser: an anonymous visitor only (no customer_key)."""

    id = serializers.CharField(
        max_length=browser.MAX_BROWSER_ID_LENGTH,
        help_text="A new UUID per event (the snippet makes one); stored as `browser:<id>`, so "
        "that it never clashes with the ids your server sends.",
    )
    name = serializers.RegexField(
        r"^[A-Za-z0-9_.:\-]{1,64}$", help_text="The event's name, e.g. `page_view`."
    )
    anonymous_id = serializers.CharField(
        max_length=ingest.MAX_CUSTOMER_KEY_LENGTH,
        help_text="The visitor's id in the store's first-party storage "
        "(`momentmap.anonymousId()`); a `customer_key` is refused from a browser.",
    )
    session_id = serializers.CharField(
        max_length=64, required=False, help_text="Renewed after 30 minutes without events."
    )
    occurred_at = serializers.DateTimeField(
        help_text="The browser's clock, ISO 8601 with Z or an offset; the batch API's limits."
    )
    properties = serializers.DictField(
        required=False, help_text="Anything else, up to 8 KB of JSON per event."
    )


class BrowserBatchSerializer(serializers.Serializer):
    key = serializers.CharField(help_text="The store's publishable key (`mm_pk_…`).")
    events = BrowserItemSerializer(
        many=True,
        help_text=f"Up to {browser.MAX_BROWSER_ITEMS} events "
        f"({browser.MAX_BROWSER_BYTES // 1024} KB).",
    )


class ItemErrorSerializer(serializers.Serializer):
    index = serializers.IntegerField(help_text="The item's position in `events`, from 0.")
    message = serializers.CharField()


# A serializer cannot have a field called `errors` (its own attribute): built inline.
BatchResultSerializer = inline_serializer(
    name="BatchResult",
    fields={
        "accepted": serializers.IntegerField(help_text="Events stored by this request."),
        "duplicates": serializers.ListField(
            child=serializers.IntegerField(),
            help_text="Indexes of items whose id the store had already sent (or sent twice here).",
        ),
        "errors": ItemErrorSerializer(many=True, help_text="Items refused, with the reason."),
    },
)


class IdentifySerializer(serializers.Serializer):
    anonymous_id = serializers.CharField(max_length=ingest.MAX_CUSTOMER_KEY_LENGTH)
    customer_key = serializers.CharField(max_length=ingest.MAX_CUSTOMER_KEY_LENGTH)


class IdentifyResultSerializer(serializers.Serializer):
    anonymous_id = serializers.CharField()
    customer_key = serializers.CharField()
    events_moved = serializers.BooleanField(required=False)


class ImportSerializer(serializers.Serializer):
    """`POST /api/v1/events/imports/`, multipart/form-data."""

    file = serializers.FileField(
        help_text="The CSV file (any delimiter and encoding a spreadsheet writes), or the same "
        "gzip-compressed (.csv.gz); up to 256 MB as sent."
    )
    shape = serializers.ChoiceField(
        choices=["events", "orders"],
        help_text="`events`: one event per row (name, customer, time; optional id and "
        "properties). `orders`: rows of orders with a column of dates per event; an order's "
        "rows give one event per date column, at the earliest time.",
    )
    store = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text="The store to import into. A store's secret key imports into its own store "
        "and may leave this out.",
    )
    mapping = serializers.JSONField(
        required=False,
        help_text='What each column holds, by header: events {"Event": "name", "Customer": '
        '"customer_key", "When": "occurred_at", "Id": "id", "Props": "properties", "Session": '
        '"session_id"}; orders {"InvoiceNo": "order_id", "CustomerID": "customer_key", '
        '"InvoiceDate": "purchase", "Shipped": "shipped"} (a date column maps to its event '
        "name), and optionally the buyer's details, which create or update the store's "
        'contacts: {"Email": "email", "Billing Name": "customer_name" (or "first_name" and '
        '"last_name"), "Customer locale": "language" (lt-LT is lt; a language that is not a '
        "survey language is left out)}; an orders file needs customer_key, email or both (a "
        "row without a customer id counts for its email's keyed hash). A JSON object, as text "
        "in the form. Left out: recognised from the headers.",
    )
    time_zone = serializers.CharField(
        required=False,
        max_length=64,
        help_text="IANA zone of times written without an offset; the store's by default.",
    )
    date_order = serializers.ChoiceField(
        choices=["day_first", "month_first"],
        required=False,
        help_text="How 03/04/2026 reads; detected from the first rows by default (day first "
        "when they do not tell).",
    )
    cancelled_prefix = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=8,
        help_text="Orders: order numbers of cancellations start with this (the `purchase` "
        "date of such an order gives `order_cancelled`). Default: `C` when the first rows "
        "number orders with digits and some with C + digits (the UCI retail file), else none.",
    )

    def validate_mapping(self, value: Any) -> dict[str, str]:
        if isinstance(value, str):  # a multipart form sends it as text
            try:
                value = json.loads(value)
            except ValueError:
                raise serializers.ValidationError("Must be a JSON object.") from None
        if not isinstance(value, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in value.items()
        ):
            raise serializers.ValidationError(
                'Must be a JSON object of column header to target, e.g. {"Date": "purchase"}.'
            )
        if len(value) > 1000 or any("\x00" in k or "\x00" in v for k, v in value.items()):
            raise serializers.ValidationError("At most 1,000 columns, without NUL characters.")
        return value


class ImportStartedSerializer(serializers.Serializer):
    task = serializers.IntegerField(
        help_text="Poll `GET /api/v1/tasks/{task}/` until its state is done (the report is its "
        "`result`) or failed."
    )
    task_url = serializers.CharField(help_text="That URL.")
    encoding = serializers.CharField(help_text="The text encoding the file is read with.")
    delimiter = serializers.CharField()
    columns = serializers.DictField(
        child=serializers.CharField(), help_text="Column header → what it is imported as."
    )
    time_zone = serializers.CharField()
    date_order = serializers.ChoiceField(choices=["day_first", "month_first"])
    cancelled_prefix = serializers.CharField(allow_blank=True)
