"""Signals surveys send to the apps built on it (events), which surveys never import."""

from __future__ import annotations

from django.dispatch import Signal

# Sent with `contact` by contact_export: each receiver returns a dict of sections to add to the
# person's data export (events adds their events).
contact_exporting = Signal()

# Sent with `contact` inside contact_erase's transaction, before the contact is deleted:
# receivers erase what else is stored about the person (events: their events). A receiver that
# raises rolls the erasure back.
contact_erasing = Signal()
