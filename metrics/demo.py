"""The demo organisation's figures: its stores' standard periods computed once their events
are in (`make demo`, settings.DEMO_LOADERS, after the events loader)."""

from __future__ import annotations

from typing import Any

from accounts.models import Organisation, Store
from metrics.recompute import results_recompute


def load(*, organisation: Organisation) -> dict[str, Any]:
    return {
        store.name: results_recompute(store_id=store.pk)
        for store in Store.objects.filter(organisation=organisation).order_by("pk")
    }
