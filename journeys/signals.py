"""Signals journeys send."""

from __future__ import annotations

from django.dispatch import Signal

# Sent with `experiment_id` once an experiment's creation or change has committed: the metrics
# app computes its result (journeys never imports metrics).
experiment_saved = Signal()
