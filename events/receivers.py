"""What events do when accounts remove a store's data."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from accounts.signals import store_rows_purge
from events import purges


@receiver(store_rows_purge, dispatch_uid="events.receivers.store_rows_purge")
def purge_a_deleted_stores_events(
    sender: Any, *, store_id: int, batch_size: int, **kwargs: Any
) -> None:
    purges.store_events_purge(store_id=store_id, batch_size=batch_size)
