"""The events API's shapes, for the OpenAPI schema. Bodies are read with msgspec, not with
these serializers: bench/validate_bench.py measures both on the same 1,000 events."""

from __future__ import annotations

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
