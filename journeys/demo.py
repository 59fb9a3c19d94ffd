"""Demo journeys for Baltic Goods: one active map per store. Idempotent."""

from __future__ import annotations

import copy

from django.db import transaction

from accounts.models import Organisation, Store
from accounts.services import SYSTEM
from journeys import services, transfer
from journeys.blueprints import TEMPLATES
from journeys.models import Journey

DEMO_JOURNEYS = [
    # (store name, template, journey name, owner of the moments of truth)
    (
        "Baltic Goods LT",
        "ecommerce-delivery",
        "Baltic Goods LT: order to review",
        "demo@example.com",
    ),
    ("Baltic Goods RO", "five-moments", "Baltic Goods RO: five moments", "demo@example.com"),
]


@transaction.atomic
def load(*, organisation: Organisation) -> None:
    for store_name, template, name, owner in DEMO_JOURNEYS:
        if Journey.objects.filter(organisation=organisation, name=name).exists():
            continue
        store = Store.objects.get(organisation=organisation, name=store_name)
        data = copy.deepcopy(TEMPLATES[template]["data"])
        data["journey"]["name"] = name
        for stage in data["journey"]["stages"]:
            for touchpoint in stage["touchpoints"]:
                if touchpoint["is_moment_of_truth"]:
                    touchpoint["owner"] = owner
        journey = transfer.journey_import(
            organisation=organisation, actor=SYSTEM, data=data, into_store=store
        )
        services.journey_activate(
            journey=journey, actor=SYSTEM, version=journey.version, replace_active="archived"
        )
