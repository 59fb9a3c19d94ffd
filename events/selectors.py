"""Reads of a store's events for the events page: the latest events by keyset, counts per
event name and per mapped stage, and the names no touchpoint maps yet."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Count, Q, QuerySet

from accounts.models import Store
from events.ingest import ItemError, customer_key_clean
from events.models import Customer, Event, EventName, ShopifyWebhook, WebhookDelivery
from journeys import blueprints
from journeys.models import Journey, Stage

# Events on one page of the list.
PAGE_SIZE = 50


def usual_moments() -> dict[str, str]:
    """The stage an event name usually signals (the journey templates' mapping, after the
    domain brief): where "map to a touchpoint" opens the editor for a name no map lists."""
    stages: tuple[dict[str, Any], ...] = (
        blueprints.LZMOT,
        blueprints.ZMOT,
        blueprints.FMOT,
        blueprints.SMOT,
        blueprints.TMOT,
        blueprints.UMOT,
    )
    return {
        name: stage["moment"]
        for stage in stages
        for touchpoint in stage["touchpoints"]
        for name in touchpoint["event_names"]
    }


@dataclass
class Cursor:
    """Where a page of the list ends: the last event's time and sequence number."""

    occurred_at: datetime
    seq: int

    def token(self) -> str:
        return f"{self.occurred_at.isoformat()}~{self.seq}"

    @classmethod
    def parse(cls, token: str) -> Cursor | None:
        moment, _sep, seq = token.partition("~")
        try:
            parsed = datetime.fromisoformat(moment)
            number = int(seq)
        except ValueError:
            return None
        if parsed.tzinfo is None:
            return None
        return cls(parsed, number)


def customer_ids_for_key(*, store: Store, key: str) -> list[int]:
    """The customers a filter's key means: the customer (a known key, or an email's keyed
    hash) and an anonymous id, with the anonymous ids identified as that customer."""
    try:
        clean = customer_key_clean(key)
    except ItemError:
        return []
    direct = Customer.objects.filter(store=store, key__in={clean, key.strip()})
    return list(
        Customer.objects.filter(
            Q(pk__in=direct.values("pk")) | Q(identified_as__in=direct.values("pk")), store=store
        ).values_list("pk", flat=True)
    )


def event_page(
    *,
    store: Store,
    name: str = "",
    customer_key: str = "",
    start: datetime | None = None,
    end: datetime | None = None,
    after: Cursor | None = None,
    limit: int = PAGE_SIZE,
) -> tuple[list[Event], Cursor | None]:
    """The newest events first, a page at a time by keyset on the primary key (store,
    occurred_at, seq): page 1,000 costs what page 1 does, unlike OFFSET. Returns the page and
    the cursor of the next one (None on the last page)."""
    events: QuerySet[Event] = Event.objects.filter(store=store)
    if name:
        name_id = EventName.objects.filter(store=store, name=name).values_list("pk", flat=True)
        events = events.filter(event_name_id__in=list(name_id))
    if customer_key:
        events = events.filter(customer_id__in=customer_ids_for_key(store=store, key=customer_key))
    if start is not None:
        events = events.filter(occurred_at__gte=start)
    if end is not None:
        events = events.filter(occurred_at__lt=end)
    if after is not None:
        events = events.filter(
            Q(occurred_at__lt=after.occurred_at)
            | Q(occurred_at=after.occurred_at, seq__lt=after.seq)
        )
    rows = list(
        events.select_related("event_name", "customer__identified_as").order_by(
            "-occurred_at", "-seq"
        )[: limit + 1]
    )
    more = len(rows) > limit
    rows = rows[:limit]
    cursor = Cursor(rows[-1].occurred_at, rows[-1].seq) if more and rows else None
    return rows, cursor


def active_journey(*, store: Store) -> Journey | None:
    return (
        Journey.objects.filter(store=store, status=Journey.Status.ACTIVE)
        .prefetch_related("stages__touchpoints")
        .first()
    )


def stage_of_names(journey: Journey | None) -> dict[str, Stage]:
    """Event name → the stage of the journey that maps it (an event name signals one stage)."""
    if journey is None:
        return {}
    return {
        name: stage
        for stage in journey.stages.all()
        for touchpoint in stage.touchpoints.all()
        for name in touchpoint.event_names
    }


def event_counts(
    *, store: Store, start: datetime, end: datetime, journey: Journey | None
) -> dict[str, Any]:
    """Events per name in [start, end), and per stage of the store's active journey (names no
    stage maps are counted under no stage)."""
    per_name = dict(
        Event.objects.filter(store=store, occurred_at__gte=start, occurred_at__lt=end)
        .values_list("event_name__name")
        .annotate(n=Count("*"))
        .values_list("event_name__name", "n")
    )
    mapped = stage_of_names(journey)
    stages: list[dict[str, Any]] = []
    if journey is not None:
        for stage in journey.stages.all():
            names = sorted(n for n, s in mapped.items() if s.pk == stage.pk)
            stages.append(
                {
                    "stage": stage,
                    "names": names,
                    "count": sum(per_name.get(n, 0) for n in names),
                }
            )
    return {
        "names": sorted(per_name.items(), key=lambda kv: (-kv[1], kv[0])),
        "stages": stages,
        "unmapped_count": sum(c for n, c in per_name.items() if n not in mapped),
    }


def unmapped_names(*, store: Store, journey: Journey | None) -> list[dict[str, Any]]:
    """The store's event names that no stage of its active journey maps, each with the stage
    where it usually belongs (when the journey has a stage of that moment)."""
    mapped = stage_of_names(journey)
    usual = usual_moments()
    by_moment = {}
    if journey is not None:
        for stage in journey.stages.all():
            if stage.moment and stage.moment not in by_moment:
                by_moment[stage.moment] = stage
    return [
        {
            "name": row.name,
            "first_seen_at": row.first_seen_at,
            "stage": by_moment.get(usual.get(row.name, "")),
        }
        for row in EventName.objects.filter(store=store).order_by("name")
        if row.name not in mapped
    ]


# --- Shopify-compatible webhooks


def shopify_webhook_by_id(*, webhook_id: str) -> ShopifyWebhook | None:
    """The endpoint a webhook URL names, with its store; None for an unknown id, or a store
    or organisation being deleted (its URL stops answering at once)."""
    return (
        ShopifyWebhook.objects.select_related("store")
        .filter(
            webhook_id=webhook_id,
            store__deletion_requested_at__isnull=True,
            store__organisation__deletion_requested_at__isnull=True,
        )
        .first()
    )


def shopify_webhook_of_store(*, store: Store) -> ShopifyWebhook | None:
    return ShopifyWebhook.objects.filter(store=store).first()


def webhook_deliveries_recent(*, store: Store, limit: int = 20) -> list[WebhookDelivery]:
    """The store's latest webhook deliveries, newest first (the (store, received_at) index)."""
    return list(WebhookDelivery.objects.filter(store=store).order_by("-received_at", "-id")[:limit])


def webhook_delivery_counts(*, store: Store, since: datetime) -> dict[str, int]:
    """The store's deliveries per result since a moment: {"stored": 12, "unknown_order": 1}."""
    rows = (
        WebhookDelivery.objects.filter(store=store, received_at__gte=since)
        .order_by()
        .values_list("result")
        .annotate(n=Count("id"))
    )
    return dict(rows)
