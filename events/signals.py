"""Signals events send to the apps above them (metrics), which events never import."""

from __future__ import annotations

from django.dispatch import Signal

# Sent after a batch of events commits, with `store_id` and `days` (the UTC dates it touched,
# also marked in events_recomputemark). A receiver queues the recompute; if it cannot (Redis
# is down) the marks stay, and the periodic sweep finds them.
events_ingested = Signal()
