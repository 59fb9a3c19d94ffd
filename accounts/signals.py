"""Signals accounts sends to the apps built on it, which it never imports."""

from __future__ import annotations

from django.dispatch import Signal

# Sent with `store` and `actor` inside the transaction that marks a store for deletion, before
# it commits: receivers stop or detach what must not wait for the background removal of the
# store's rows (journeys keep their maps without the store; surveys stop). A receiver that
# raises rolls the deletion back.
store_deletion_requested = Signal()
