"""Which events mark which stage of a store's active journey, as ids the engine reads."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from django.db import connection

from accounts.models import Store
from core.errors import DomainError
from events.models import EventName
from events.selectors import active_journey
from metrics.engine import Repeat

# The derived event: every purchase after a customer's first ever also counts as one.
REPEAT_PURCHASE = "repeat_purchase"
PURCHASE = "purchase"


class NoActiveJourney(DomainError):
    code = "no_active_journey"


@dataclass
class StageMapping:
    id: int
    moment: str | None
    name: str
    event_names: list[str]  # as the journey lists them, sorted
    tracked: bool = False


@dataclass
class Mapping:
    """The active journey's stages, the tracked ones' name-id sets in journey order, the store's
    name ids (plus one standing for repeat_purchase) and how repeat purchases are derived."""

    journey_id: int
    stages: list[StageMapping]
    tracked: list[frozenset[int]]
    name_ids: dict[str, int]
    repeat: Repeat | None
    name_count: int  # every id the engine may meet is below it
    mapped_ids: list[int] = field(default_factory=list)

    def fingerprint(self) -> list[list[object]]:
        """What a stored result must match to be this mapping's."""
        return [[s.id, s.event_names] for s in self.stages]

    def names_by_id(self) -> dict[int, str]:
        names = {i: n for n, i in self.name_ids.items()}
        if self.repeat is not None:
            names[self.repeat.repeat] = REPEAT_PURCHASE
        return names


def _first_purchases(store_id: int, customers: list[int] | None = None) -> dict[int, int]:
    """Each buyer's first purchase ever (ms): every buyer of the store, or of `customers`."""
    query = (
        "SELECT id, (floor(extract(epoch from first_purchase_at) * 1000))::bigint "
        "FROM events_customer WHERE store_id = %s AND first_purchase_at IS NOT NULL "
        # An anonymous id linked to a customer is that customer now: its events count
        # under the customer (whose first purchase is the earlier of theirs).
        "AND identified_as_id IS NULL"
    )
    params: list[Any] = [store_id]
    if customers is not None:
        query += " AND id = ANY(%s)"
        params.append(customers)
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        return dict(cursor.fetchall())


def first_purchases(*, store_id: int, customers: list[int]) -> dict[int, int]:
    """These customers' first purchase ever (ms), as a mapping loads every buyer's."""
    return _first_purchases(store_id, customers)


def with_first_purchases(mapping: Mapping, *, store_id: int) -> Mapping:
    """The mapping with every buyer's first purchase loaded (store_mapping's
    first_purchases=False left them out)."""
    if mapping.repeat is None:
        return mapping
    repeat = Repeat(mapping.repeat.purchase, mapping.repeat.repeat, _first_purchases(store_id))
    return replace(mapping, repeat=repeat)


def _has_repeat_purchase(store_id: int, purchase: int | None) -> bool:
    if purchase is None:
        return False
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT EXISTS (SELECT 1 FROM events_event e JOIN events_customer c "
            "ON c.id = e.customer_id WHERE e.store_id = %s AND e.event_name_id = %s "
            "AND e.occurred_at > c.first_purchase_at)",
            [store_id, purchase],
        )
        return bool(cursor.fetchone()[0])


def store_mapping(*, store: Store, first_purchases: bool = True) -> Mapping:
    """A stage is tracked when one of its names has ever reached the store (an EventName row
    exists once a batch carried it); repeat_purchase once any customer bought twice.
    `first_purchases`: load every customer's first purchase, which computing needs and
    matching a stored result does not (a query over all the store's buyers)."""
    journey = active_journey(store=store)
    if journey is None:
        raise NoActiveJourney(
            "This store has no active journey: activate one to say which events mark its stages."
        )
    ids = dict(EventName.objects.filter(store=store).values_list("name", "pk"))
    repeat_id = max(ids.values(), default=0) + 1
    purchase = ids.get(PURCHASE)
    stages: list[StageMapping] = []
    tracked: list[frozenset[int]] = []
    mapped: set[int] = set()
    has_repeat: bool | None = None
    for stage in journey.stages.all():
        names = sorted({n for tp in stage.touchpoints.all() for n in tp.event_names})
        stage_ids = {ids[n] for n in names if n in ids}
        if REPEAT_PURCHASE in names:
            if has_repeat is None:
                has_repeat = _has_repeat_purchase(store.pk, purchase)
            if has_repeat:
                stage_ids.add(repeat_id)
        figures = StageMapping(stage.pk, stage.moment or None, stage.name, names)
        if stage_ids:
            figures.tracked = True
            tracked.append(frozenset(stage_ids))
            mapped |= stage_ids
        stages.append(figures)
    repeat = (
        Repeat(purchase, repeat_id, _first_purchases(store.pk) if first_purchases else {})
        if purchase
        else None
    )
    return Mapping(
        journey_id=journey.pk,
        stages=stages,
        tracked=tracked,
        name_ids=ids,
        repeat=repeat,
        name_count=repeat_id + 1,
        mapped_ids=sorted(mapped),
    )
