"""The benches' events: the demo's seeded journey generator (events/demo.py), as batch API
bodies. Call after Django is set up."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from itertools import islice
from typing import Any

import msgspec

# events/demo.py makes about six events per prospect with every event name; a wide margin, so
# that the period holds at least the count asked for.
EVENTS_PER_PROSPECT = 4.0


def demo_events(
    count: int, *, seed: str, days: int = 90, end: datetime | None = None, prefix: str = "B"
) -> Iterator[Any]:
    """`count` events (events.ingest.EventIn) of a store's last `days` days (ending `end`,
    default now), seeded, as they are made: a million do not have to fit in memory. The
    ids start `demo-<prefix>-`: give each set sent to one store its own prefix."""
    from events.demo import JourneyGenerator

    end = end or datetime.now(UTC)
    generator = JourneyGenerator(
        seed=seed,
        start=end - timedelta(days=days),
        end=end,
        time_zone="Europe/Vilnius",
        prospects_per_day=count / EVENTS_PER_PROSPECT / days,
        languages={"lt": 80, "en": 10, "lv": 5, "et": 5},
        key_prefix=prefix,
    )
    made = 0
    for event in islice(generator.events(), count):
        made += 1
        yield event
    if made < count:
        raise RuntimeError(f"the generator made {made} events, fewer than {count}")


def api_item(event: Any) -> dict[str, Any]:
    """An events.ingest.EventIn as the batch API receives it."""
    item: dict[str, Any] = {
        "id": event.client_id,
        "name": event.name,
        ("anonymous_id" if event.is_anonymous else "customer_key"): event.customer_key,
        "occurred_at": event.occurred_at.isoformat(),
    }
    if event.session_id:
        item["session_id"] = event.session_id
    if event.properties != "{}":
        item["properties"] = msgspec.Raw(event.properties.encode())
    return item


def bodies(events: Iterable[Any], batch: int) -> Iterator[bytes]:
    """`{"events": [...]}` bodies of `batch` items each."""
    items = iter(events)
    while chunk := list(islice(items, batch)):
        yield msgspec.json.encode({"events": [api_item(e) for e in chunk]})
