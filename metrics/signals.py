"""Signals the metrics send."""

from __future__ import annotations

from django.dispatch import Signal

# Sent with `store_id` inside the transaction that swaps a store's standard results in, once
# the new rows are written and before they commit. Nothing in the product listens: a test
# (tests/metrics/test_worker_kill.py) stops a worker here to kill it at the worst moment of a
# recompute. A receiver that raises rolls the swap back, and the previous results stay.
results_written = Signal()
