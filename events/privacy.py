"""A person's events, for their data export and their erasure. A contact's events are those of
the store's customers linked to the contact, or keyed by its customer key or by the keyed hash
of its email, and of the anonymous ids identified as one of them."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from events.ingest import email_customer_key
from events.models import Customer, Event, EventSource
from events.purges import customers_erase
from surveys.models import Contact

# Events listed in one export: a person with more is told how many there were in all.
EXPORT_LIMIT = 10_000


def contact_customers(*, contact: Contact) -> QuerySet[Customer]:
    known = Q(contact=contact) | Q(is_anonymous=False, key=email_customer_key(contact.email))
    if contact.customer_key:
        known |= Q(is_anonymous=False, key=contact.customer_key)
    direct = Customer.objects.filter(known, store_id=contact.store_id)
    return Customer.objects.filter(
        Q(pk__in=direct.values("pk")) | Q(identified_as__in=direct.values("pk")),
        store_id=contact.store_id,
    )


def contact_events_export(*, contact: Contact) -> dict[str, Any]:
    ids = list(contact_customers(contact=contact).values_list("pk", flat=True))
    events = Event.objects.filter(store_id=contact.store_id, customer_id__in=ids)
    rows = events.select_related("event_name").order_by("occurred_at", "seq")[:EXPORT_LIMIT]
    return {
        "events": [
            {
                "id": event.client_id,
                "name": event.event_name.name,
                "occurred_at": event.occurred_at.isoformat(),
                "session_id": event.session_id,
                "properties": event.properties,
                "source": EventSource(event.source).label,
            }
            for event in rows
        ],
        "events_total": events.count(),
    }


def contact_events_erase(*, contact: Contact) -> int:
    ids = list(contact_customers(contact=contact).values_list("pk", flat=True))
    return customers_erase(store_id=contact.store_id, customer_ids=ids)
