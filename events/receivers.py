"""What events do when accounts remove a store's data."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from accounts.signals import store_rows_purge
from events import privacy, purges
from surveys.models import Contact
from surveys.signals import contact_erasing, contact_exporting


@receiver(store_rows_purge, dispatch_uid="events.receivers.store_rows_purge")
def purge_a_deleted_stores_events(
    sender: Any, *, store_id: int, batch_size: int, **kwargs: Any
) -> None:
    purges.store_events_purge(store_id=store_id, batch_size=batch_size)


@receiver(contact_exporting, dispatch_uid="events.receivers.contact_exporting")
def export_a_contacts_events(sender: Any, *, contact: Contact, **kwargs: Any) -> dict[str, Any]:
    return privacy.contact_events_export(contact=contact)


@receiver(contact_erasing, dispatch_uid="events.receivers.contact_erasing")
def erase_a_contacts_events(sender: Any, *, contact: Contact, **kwargs: Any) -> None:
    privacy.contact_events_erase(contact=contact)
