"""The demo's events: a seeded generator of journeys (events/demo.py), and the loader that
`make demo` runs."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db.models import Min

from accounts import demo as accounts_demo
from accounts.models import Store
from core import clock
from events import demo
from events.ingest import EventIn
from events.models import Customer, Event, EventKey, EventSource
from journeys import demo as journeys_demo
from surveys import demo as surveys_demo
from surveys import services as survey_services
from surveys.models import SURVEY_LANGUAGES, Contact, Invitation

END = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)  # tests/events/conftest.py's NOW
START = END - timedelta(days=60)
STAGES = list(demo.STAGE_EVENTS)
SIX = {"en", "lt", "lv", "et", "cs", "ro"}


def _generator(**overrides: Any) -> demo.JourneyGenerator:
    options: dict[str, Any] = {
        "seed": "test-seed",
        "start": START,
        "end": END,
        "time_zone": "Europe/Vilnius",
        "prospects_per_day": 40,
        "languages": dict.fromkeys(sorted(SIX), 1),
        "key_prefix": "T",
        **overrides,
    }
    return demo.JourneyGenerator(**options)


@pytest.fixture(scope="module")
def made() -> tuple[list[EventIn], demo.JourneyGenerator]:
    generator = _generator()
    return list(generator.events()), generator


def _row(event: EventIn) -> tuple[Any, ...]:
    return (
        event.client_id,
        event.name,
        event.customer_key,
        event.is_anonymous,
        event.occurred_at,
        event.session_id,
        event.properties,
    )


def _owner(generator: demo.JourneyGenerator) -> dict[str, str]:
    return {link.anonymous_id: link.customer_key for link in generator.identifications}


def _funnel(events: list[EventIn], owner: dict[str, str]) -> list[int]:
    """The domain's ordered funnel over the six stages (conversion window 30 days): a
    customer enters at a first-stage event, each step no earlier than the one before and no
    later than the entry plus the window; funnel(k) counts customers whose furthest entry
    reaches stage k. Anonymous ids count for the customer they were identified as."""
    window = timedelta(days=30)
    by_customer: dict[str, list[tuple[datetime, int]]] = defaultdict(list)
    for event in events:
        who = owner.get(event.customer_key, event.customer_key)
        stage = STAGES.index(demo.EVENT_STAGE[event.name])
        by_customer[who].append((event.occurred_at, stage))
    counts = [0] * len(STAGES)
    for rows in by_customer.values():
        rows.sort()
        level = -1
        for entry, stage in rows:
            if stage != 0:
                continue
            reached, at = 0, entry
            for step in range(1, len(STAGES)):
                found = next((t for t, s in rows if s == step and at <= t <= entry + window), None)
                if found is None:
                    break
                reached, at = step, found
            level = max(level, reached)
        for step in range(level + 1):
            counts[step] += 1
    return counts


def test_the_same_seed_gives_the_same_events(made: Any) -> None:
    events, generator = made
    again = _generator()
    assert [_row(e) for e in again.events()] == [_row(e) for e in events]
    assert again.buyers == generator.buyers
    assert again.identifications == generator.identifications
    other = _generator(seed="another-seed")
    assert [_row(e) for e in other.events()] != [_row(e) for e in events]


def test_a_generator_runs_once() -> None:
    generator = _generator(prospects_per_day=1)
    list(generator.events())
    with pytest.raises(RuntimeError, match="runs once"):
        list(generator.events())


def test_only_the_domain_event_names_inside_the_period_and_never_ahead(
    made: Any, now: datetime
) -> None:
    events = made[0]
    names = {e.name for e in events}
    # Every typical name but the derived one (the metrics count a later purchase as it).
    assert names == set(demo.EVENT_STAGE) - {"repeat_purchase"}
    assert min(e.occurred_at for e in events) >= START
    assert max(e.occurred_at for e in events) <= END == clock.now()
    assert all(e.occurred_at.tzinfo is not None for e in events)
    assert len({e.client_id for e in events}) == len(events)


def test_only_the_names_asked_for() -> None:
    events = list(_generator(names={"page_view", "purchase"}, prospects_per_day=20).events())
    assert {e.name for e in events} == {"page_view", "purchase"}


def test_each_later_stage_is_reached_by_fewer_customers(made: Any) -> None:
    events, generator = made
    counts = _funnel(events, _owner(generator))
    assert counts[-1] > 0, counts
    assert all(later < earlier for earlier, later in pairwise(counts)), counts


def test_visits_are_sessions_and_some_bounce(made: Any) -> None:
    events = made[0]
    sessions: dict[str, list[EventIn]] = defaultdict(list)
    browsers: dict[str, list[EventIn]] = defaultdict(list)
    for event in events:
        if event.session_id:
            sessions[event.session_id].append(event)
            browsers[event.customer_key].append(event)
    assert all(e.is_anonymous for e in events if e.session_id)  # the browser's own id
    for visit in sessions.values():
        assert len({e.customer_key for e in visit}) == 1
    # In a browser's time line, a pause of 30 minutes or more starts a new session, and a
    # new session only starts after one.
    gap = timedelta(minutes=30)
    for timeline in browsers.values():
        timeline.sort(key=lambda e: e.occurred_at)
        for before, after in pairwise(timeline):
            pause = after.occurred_at - before.occurred_at
            assert (pause < gap) == (before.session_id == after.session_id)
    bounces = [
        s for s in sessions.values() if len(s) == 1 and s[0].name in ("page_view", "product_view")
    ]
    longer = [s for s in sessions.values() if len(s) > 2]
    assert bounces and longer
    assert 0.25 < len(bounces) / len(sessions) < 0.6


def test_repeat_buyers_buy_again_later(made: Any) -> None:
    events, generator = made
    purchases: dict[str, list[datetime]] = defaultdict(list)
    for event in events:
        if event.name == "purchase":
            assert not event.is_anonymous  # the store's server sends orders with its key
            purchases[event.customer_key].append(event.occurred_at)
    repeat = [times for times in purchases.values() if len(times) > 1]
    assert len(repeat) >= 10
    assert all(len(set(times)) == len(times) for times in repeat)
    assert set(purchases) <= set(generator.buyers)


def test_anonymous_visitors_are_identified_at_their_purchase(made: Any) -> None:
    events, generator = made
    owner = _owner(generator)
    first_purchase = {}
    for event in sorted(events, key=lambda e: e.occurred_at):
        if event.name == "purchase":
            first_purchase.setdefault(event.customer_key, event.occurred_at)
    # Before the purchase the buyer browsed anonymously: those events count for them once
    # identified.
    browsed_before = {
        owner[e.customer_key]
        for e in events
        if e.is_anonymous
        and e.customer_key in owner
        and e.occurred_at < first_purchase.get(owner[e.customer_key], END)
    }
    assert len(browsed_before) > 0.8 * len(first_purchase)
    assert {link.customer_key for link in generator.identifications} == set(generator.buyers)
    links = Counter(link.anonymous_id for link in generator.identifications)
    assert max(links.values()) == 1  # an anonymous id is identified once, as one customer
    assert len(links) > len(generator.buyers)  # some buyers came back on another device
    for buyer in generator.buyers.values():
        assert buyer.language in SIX
        assert "@" in buyer.email and buyer.name
    assert {b.language for b in generator.buyers.values()} == SIX
    assert len({b.email for b in generator.buyers.values()}) == len(generator.buyers)


def test_entries_follow_the_weekday_and_hour_pattern(made: Any) -> None:
    events = made[0]
    zone = ZoneInfo("Europe/Vilnius")
    entries = [e.occurred_at.astimezone(zone) for e in events if e.name == "ad_click"]
    hours = Counter(moment.hour for moment in entries)
    days = Counter(moment.weekday() for moment in entries)
    assert sum(hours[h] for h in (19, 20, 21)) > 5 * sum(hours[h] for h in (2, 3, 4))
    assert days[6] > days[5]  # Sunday busier than Saturday
    delays = [
        b.occurred_at - a.occurred_at
        for a, b in pairwise(events)
        if a.customer_key == b.customer_key
    ]
    assert min(delays) < timedelta(minutes=1) and max(delays) > timedelta(days=14)


# --- Loading the demo


@pytest.fixture
def demo_organisation(now: datetime, settings: Any) -> Any:
    """Baltic Goods with its journeys and surveys, and a tenth of the demo's traffic."""
    settings.DEMO_EVENTS_SCALE = 0.1
    organisation = accounts_demo.load()
    journeys_demo.load(organisation=organisation)
    surveys_demo.load(organisation=organisation)
    return organisation


@pytest.mark.django_db
def test_demo_loading_stores_demo_events_and_queues_no_invitation(
    demo_organisation: Any, on_commit: Any
) -> None:
    invitations = sorted(Invitation.objects.values_list("pk", "status"))
    assert not [status for _pk, status in invitations if status == "queued"]

    with on_commit(execute=True):
        loaded = demo.load(organisation=demo_organisation)

    stores = {s.name: s for s in Store.objects.filter(organisation=demo_organisation)}
    assert set(loaded) == set(stores) == {"Baltic Goods LT", "Baltic Goods RO"}
    events = Event.objects.filter(store__in=stores.values())
    assert events.count() == sum(result.events for result in loaded.values()) > 10_000
    assert set(events.values_list("source", flat=True).distinct()) == {EventSource.DEMO}
    assert sorted(Invitation.objects.values_list("pk", "status")) == invitations
    # Only what each store's journey maps: the LT journey starts at ZMOT, RO's has no TMOT.
    for name, store in stores.items():
        stored = set(
            events.filter(store=store).values_list("event_name__name", flat=True).distinct()
        )
        assert (
            stored
            == set(loaded[name].names)
            == demo.mapped_names(store) & (set(demo.EVENT_STAGE) - demo.DERIVED)
        )
    assert "ad_click" not in loaded["Baltic Goods LT"].names
    assert "delivered" in loaded["Baltic Goods LT"].names
    assert "ad_click" in loaded["Baltic Goods RO"].names
    assert "delivered" not in loaded["Baltic Goods RO"].names
    # The buyers are contacts in their language, linked to their customers.
    buyers = Customer.objects.filter(store__in=stores.values(), is_anonymous=False)
    assert buyers.count() == sum(result.buyers for result in loaded.values())
    assert not buyers.filter(contact__isnull=True).exists()
    # The first purchase of a buyer whose purchase came before the period is not known.
    first_purchases = dict(
        events.filter(event_name__name="purchase")
        .values_list("customer")
        .annotate(first=Min("occurred_at"))
        .values_list("customer", "first")
    )
    assert dict(buyers.values_list("pk", "first_purchase_at")) == {
        pk: first_purchases.get(pk) for pk in buyers.values_list("pk", flat=True)
    }
    assert len(first_purchases) > 0.8 * buyers.count()
    languages = set(
        Contact.objects.filter(pk__in=buyers.values("contact")).values_list("language", flat=True)
    )
    assert languages <= set(SURVEY_LANGUAGES) and len(languages) >= 4
    identified = Customer.objects.filter(store__in=stores.values(), identified_as__isnull=False)
    assert identified.count() == sum(result.identified for result in loaded.values())

    # The control: the same events from a live source would have queued invitations (a
    # delivery within the delivery survey's delay, for a buyer who is a contact).
    lt = stores["Baltic Goods LT"]
    delivered = (
        events.filter(store=lt, event_name__name="delivered")
        .select_related("customer")
        .order_by("-occurred_at")
        .first()
    )
    assert delivered is not None
    queued = survey_services.event_trigger(
        store=lt,
        event_name="delivered",
        occurred_at=delivered.occurred_at,
        customer_key=delivered.customer.key,
        recent_only=True,
    )
    assert sorted(i.survey.template_key for i in queued) == ["delivery-experience", "nps"]


@pytest.mark.django_db
def test_loading_again_replaces_the_earlier_demo_events(demo_organisation: Any) -> None:
    first = demo.load(organisation=demo_organisation)
    stores = Store.objects.filter(organisation=demo_organisation)
    counts = (
        Event.objects.filter(store__in=stores).count(),
        EventKey.objects.filter(store__in=stores).count(),
        Customer.objects.filter(store__in=stores).count(),
    )
    assert counts[0] == counts[1] == sum(result.events for result in first.values())

    second = demo.load(organisation=demo_organisation)

    assert {name: result.removed for name, result in second.items()} == {
        name: result.events for name, result in first.items()
    }
    assert (
        Event.objects.filter(store__in=stores).count(),
        EventKey.objects.filter(store__in=stores).count(),
        Customer.objects.filter(store__in=stores).count(),
    ) == counts
