"""Signals accounts sends to the apps built on it, which it never imports."""

from __future__ import annotations

from django.dispatch import Signal

# Sent with `store` and `actor` inside the transaction that marks a store for deletion, before
# it commits: receivers stop or detach what must not wait for the background removal of the
# store's rows (journeys keep their maps without the store; surveys stop). A receiver that
# raises rolls the deletion back.
store_deletion_requested = Signal()

# Sent with `store_id` and `batch_size` by the background purge of a deleted store (and for
# each store of a deleted organisation), before the rows Django's relations reach are removed:
# receivers remove, in batches of their own, what those relations do not cascade to (events,
# which are never deleted through Django's cascade over millions of rows).
store_rows_purge = Signal()

# Sent with `store_id` and `changed` (the names of the fields that changed, in
# models.STORE_METRICS_FIELDS order) once the transaction that changed a store's funnel window
# or retention days commits, never for a change rolled back: the metrics compute the store's
# figures again.
store_metrics_settings_changed = Signal()
