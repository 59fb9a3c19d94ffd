"""Demo events: a seeded generator of customer journeys through the moments of truth, and the
loader that gives each demo store its last DAYS days of them (`make demo`, DEMO_LOADERS).

The generator (JourneyGenerator) follows one prospect at a time from the first click to the
review, in the stages' order, dropping some at each step: an ad, social or newsletter click
(LZMOT); the landing page, which about half leave at once (a single-page-view session: the
bounce rate); research on a later visit (ZMOT: search, reviews, comparison); product pages
(FMOT); cart, checkout and purchase (SMOT), some carts abandoned and some of those finished
days later; shipping, delivery, the odd support contact or return (TMOT, on working hours);
a review or a referral, and repeat purchases weeks later (UMOT). Visits are sessions (events
less than 30 minutes apart, a new session id after a longer gap); entries follow the
store's weekday and hour pattern in its time zone, and delays run from seconds to weeks.

Who: a browser is an anonymous id until its first purchase, which the store's server sends
with its own customer key; identify then links the two (`identifications`), and the
server's later events (shipping, reviews) carry the customer key. A repeat buyer may come
back on another device: another anonymous id, identified at that purchase. Buyers get a name,
an email and a language (`buyers`), in the proportions given: the loader makes them
contacts.

Deterministic: the same seed, period and event names give the same events, ids included.
Journeys begin up to WARM_UP_DAYS before the period, so that its first weeks look like any
others (purchases of research begun earlier); events outside the period are left out, as
the future is: a journey still under way at its end is cut there.
"""

from __future__ import annotations

import logging
import random
import time as timer
import unicodedata
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
from django.conf import settings
from django.db import connection, transaction

from accounts.models import Organisation, Store
from core import clock
from events import ingest, services
from events.ingest import EventIn
from events.models import EventSource
from journeys.models import Journey, Touchpoint
from surveys import services as survey_services
from surveys.demo import NAMES

logger = logging.getLogger(__name__)

# The typical event names of the domain brief, by stage in the journey's order.
STAGE_EVENTS: dict[str, tuple[str, ...]] = {
    "LZMOT": ("ad_click", "social_click", "email_click"),
    "ZMOT": ("search", "review_read", "comparison_view"),
    "FMOT": ("page_view", "product_view"),
    "SMOT": ("add_to_cart", "checkout_start", "purchase"),
    "TMOT": ("shipped", "out_for_delivery", "delivered", "support_contact", "return_requested"),
    "UMOT": ("review_posted", "referral", "repeat_purchase"),
}
EVENT_STAGE = {name: stage for stage, names in STAGE_EVENTS.items() for name in names}
# Derived by the metrics (every purchase after a customer's first), never sent.
DERIVED = frozenset({"repeat_purchase"})

DAYS = 90
WARM_UP_DAYS = 21
SESSION_GAP = timedelta(minutes=30)  # the browser snippet's: a longer pause starts a session
BATCH_SIZE = 5000

# Monday first. Shoppers browse most on Sunday evening and Monday, least on Saturday.
WEEKDAY_WEIGHTS = (1.08, 1.0, 0.97, 0.95, 0.88, 0.76, 1.04)
# Local hours 0..23: a quiet night, a lunch bump, the evening peak.
HOUR_WEIGHTS = (
    (0.8, 0.4, 0.2, 0.15, 0.15, 0.25, 0.6, 1.4, 2.4, 3.2, 3.6, 3.9,
     4.4, 4.2, 3.8, 3.7, 3.8, 4.1, 4.8, 5.6, 6.2, 6.0, 4.4, 2.2)
)  # fmt: skip

# (sku, product, price in EUR): a Baltic gift shop.
CATALOGUE = (
    ("LIN-101", "Linen tablecloth", 39.0),
    ("LIN-114", "Linen tea towels, set of 3", 18.5),
    ("AMB-201", "Amber necklace", 64.0),
    ("AMB-215", "Amber earrings", 29.0),
    ("WOD-301", "Wooden toy train", 34.0),
    ("WOD-322", "Birch bark basket", 22.0),
    ("CER-401", "Ceramic mug", 14.5),
    ("CER-418", "Hand-thrown bowl", 26.0),
    ("WOL-501", "Wool socks", 16.0),
    ("WOL-533", "Knitted mittens", 24.0),
    ("HON-601", "Honey gift set", 27.5),
    ("CAN-701", "Beeswax candles, pair", 12.0),
)
PAGES = ("/", "/collections/linen", "/collections/amber", "/collections/gifts", "/about",
         "/delivery", "/collections/new")  # fmt: skip
SEARCHES = ("linen", "amber necklace", "gift for mum", "wooden toys", "wool socks", "honey",
            "candles", "tablecloth", "christmas gift", "ceramic mug")  # fmt: skip
AD_CAMPAIGNS = ("spring-sale", "linen-week", "gift-guide", "retargeting")
SOCIAL_NETWORKS = ("instagram", "facebook", "tiktok", "pinterest")
NEWSLETTERS = ("newsletter-weekly", "new-arrivals", "loyalty-offer")
REVIEW_SITES = ("trustpilot", "google", "store-reviews")
CARRIERS = ("DPD", "Omniva", "Venipak", "FAN Courier", "Sameday")
RETURN_REASONS = ("wrong size", "damaged in transit", "not as pictured", "changed my mind")
EMAIL_DOMAINS = ("inbox.example", "mail.example", "post.example")


@dataclass(frozen=True)
class DemoChange:
    """A change a demo store made to a step of its journeys: from its go-live day (`days_ago`
    days before the load's end, a day in the store's time zone) through `days` days after it
    (None: still on), the step happens with `probability` instead of the usual one. The demo
    records each as an experiment (metrics/demo.py), so that their results show an effect."""

    store: str
    step: str  # "to_cart" (product pages lead to the cart) or "bounce" (the landing page)
    days_ago: int
    days: int | None
    probability: float
    title: str
    change: str
    touchpoint_event: str  # an event name that signals the touchpoint it was made on
    metric: str


# One finished with a clear effect, one still running.
DEMO_CHANGES = (
    DemoChange(
        store="Baltic Goods LT",
        step="to_cart",
        days_ago=60,
        days=28,
        probability=0.65,
        title="Delivery date on product pages",
        change="Product pages show the delivery date and its cost beside the price.",
        touchpoint_event="add_to_cart",
        metric="conversion",
    ),
    DemoChange(
        store="Baltic Goods LT",
        step="bounce",
        days_ago=10,
        days=None,
        probability=0.42,
        title="Lighter landing page",
        change="The home page loads half the images and shows the bestsellers first.",
        touchpoint_event="page_view",
        metric="bounce_rate",
    ),
)
USUAL = {"to_cart": 0.36, "bounce": 0.52}


@dataclass(frozen=True)
class Buyer:
    customer_key: str
    email: str
    name: str
    language: str
    first_purchase_at: datetime


@dataclass(frozen=True)
class Identification:
    """An anonymous id identified as a customer at a purchase (what identify receives)."""

    anonymous_id: str
    customer_key: str
    at: datetime


@dataclass
class _Person:
    """A prospect as the generator follows them: their browser(s) and, once they buy, their
    customer key."""

    anonymous_id: str
    customer_key: str = ""
    bought: int = 0
    identified: set[str] = field(default_factory=set)


def _ascii(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in text if c.isascii() and c.isalnum())


def _cumulative(weights: Collection[float]) -> list[float]:
    total, out = 0.0, []
    for weight in weights:
        total += weight
        out.append(total)
    return out


_HOURS = list(range(24))
_HOUR_CUMULATIVE = _cumulative(HOUR_WEIGHTS)


class JourneyGenerator:
    """Customer journeys of one store over [start, end] (see the module's docstring).

    `prospects_per_day`: people whose journey begins on an average day (weekday and a slow
    seasonal swing move it); `names`: the event names to produce (the ones the store's
    journey maps), None for all; `languages`: buyers' languages and their weights;
    `key_prefix` starts customer keys and ids (e.g. "LT"); `price_factor` converts the
    catalogue's EUR prices to the store's currency."""

    def __init__(
        self,
        *,
        seed: str,
        start: datetime,
        end: datetime,
        time_zone: str,
        prospects_per_day: float,
        languages: dict[str, int],
        key_prefix: str,
        currency: str = "EUR",
        price_factor: float = 1.0,
        names: Collection[str] | None = None,
        changes: Collection[DemoChange] = (),
    ) -> None:
        if start.tzinfo is None or end.tzinfo is None or start >= end:
            raise ValueError("start and end must be aware datetimes, start before end.")
        self.seed = seed
        self.start, self.end = start.astimezone(UTC), end.astimezone(UTC)
        self.zone = ZoneInfo(time_zone)
        self.prospects_per_day = prospects_per_day
        self.languages = languages
        self.key_prefix = key_prefix
        self.currency = currency
        self.price_factor = price_factor
        self.names = frozenset(EVENT_STAGE) - DERIVED if names is None else frozenset(names)
        self.buyers: dict[str, Buyer] = {}
        self.identifications: list[Identification] = []
        self._rng = random.Random(seed)  # noqa: S311 (demo data, nothing secret)
        self._out: list[EventIn] = []
        self._started = False
        self._count = 0
        self._orders = 0
        self._emails: set[str] = set()
        # Per step: [from, until) in UTC, and the probability then.
        self._changes: dict[str, list[tuple[datetime, datetime, float]]] = {}
        last_day = self.end.astimezone(self.zone).date()
        for change in changes:
            live = last_day - timedelta(days=change.days_ago)
            until = (
                self._midnight(live + timedelta(days=change.days + 1))
                if change.days is not None
                else self.end + timedelta(days=1)
            )
            self._changes.setdefault(change.step, []).append(
                (self._midnight(live), until, change.probability)
            )

    # --- Output

    def events(self) -> Iterator[EventIn]:
        """Every event of the period, prospect after prospect (not in time order). Once
        exhausted, `buyers` and `identifications` are complete."""
        if self._started:
            raise RuntimeError("A generator runs once; make a new one for the same events.")
        self._started = True
        rng = self._rng
        first = (self.start - timedelta(days=WARM_UP_DAYS)).astimezone(self.zone).date()
        last = self.end.astimezone(self.zone).date()
        span = max((last - first).days, 1)
        day = first
        while day <= last:
            # Weekday pattern, a slow swing over the period, and the day's own noise.
            swing = 1 + 0.12 * (((day - first).days / span) - 0.5)
            mean = self.prospects_per_day * WEEKDAY_WEIGHTS[day.weekday()] * swing
            count = max(0, round(rng.gauss(mean, mean**0.5)))
            for _ in range(count):
                self._prospect(self._local(day))
                yield from self._out
                self._out.clear()
            day += timedelta(days=1)

    def batches(self, size: int = BATCH_SIZE) -> Iterator[list[EventIn]]:
        """events() in lists of `size`, each item's index its position in its list."""
        batch: list[EventIn] = []
        for event in self.events():
            event.index = len(batch)
            batch.append(event)
            if len(batch) == size:
                yield batch
                batch = []
        if batch:
            yield batch

    # --- Time

    def _midnight(self, day: date) -> datetime:
        return datetime.combine(day, time.min, tzinfo=self.zone).astimezone(UTC)

    def _local(self, day: date) -> datetime:
        """A moment of a local day, at the store's hour pattern, in UTC."""
        rng = self._rng
        hour = rng.choices(_HOURS, cum_weights=_HOUR_CUMULATIVE)[0]
        local = datetime.combine(
            day, time(hour, rng.randrange(60), rng.randrange(60)), tzinfo=self.zone
        )
        return local.astimezone(UTC)

    def _later(self, moment: datetime, *, median_hours: float, sigma: float = 1.0) -> datetime:
        """The next visit: a log-normal delay (minutes to weeks), always a new session; a
        delay of more than a few hours lands on that day's shopping hours."""
        rng = self._rng
        hours = rng.lognormvariate(0, sigma) * median_hours
        after = moment + SESSION_GAP + timedelta(minutes=1)
        if hours < 5:
            return max(after, moment + timedelta(hours=hours))
        target = moment + timedelta(hours=hours)
        candidate = self._local(target.astimezone(self.zone).date())
        return candidate if candidate > after else max(after, target)

    def _working(self, moment: datetime, *, hours: tuple[float, float]) -> datetime:
        """A server-side step (shipping, a courier's scan): some hours later, moved to the
        next working hours (Monday to Saturday, 8:00 to 19:00 local) when it falls outside."""
        rng = self._rng
        target = (moment + timedelta(hours=rng.uniform(*hours))).astimezone(self.zone)
        for _ in range(8):
            if target.weekday() < 6 and 8 <= target.hour < 19:
                return target.astimezone(UTC)
            day = target.date() + timedelta(days=1 if target.hour >= 8 else 0)
            target = datetime.combine(
                day, time(rng.randint(8, 17), rng.randrange(60)), tzinfo=self.zone
            )
        return target.astimezone(UTC)

    # --- Events

    def _emit(
        self,
        at: datetime,
        name: str,
        person: _Person,
        *,
        server: bool = False,
        session: str = "",
        properties: dict[str, Any] | None = None,
    ) -> None:
        """One event, if the store tracks the name and it falls in the period. Browser events
        carry the anonymous id, server-side ones (an order, a parcel) the customer key."""
        if name not in self.names or not self.start <= at <= self.end:
            return
        self._count += 1
        known = server and person.customer_key
        self._out.append(
            EventIn(
                index=0,
                client_id=f"demo-{self.key_prefix.lower()}-{self._count:08d}",
                name=name,
                customer_key=person.customer_key if known else person.anonymous_id,
                is_anonymous=not known,
                occurred_at=at,
                session_id=session,
                properties=msgspec.json.encode(properties).decode() if properties else "{}",
            )
        )

    def _session_id(self) -> str:
        return f"{self._rng.getrandbits(64):016x}"

    def _anonymous_id(self) -> str:
        bits = f"{self._rng.getrandbits(128):032x}"
        return f"{bits[:8]}-{bits[8:12]}-4{bits[13:16]}-a{bits[17:20]}-{bits[20:]}"

    def _visit(
        self, at: datetime, person: _Person, steps: list[tuple[str, dict[str, Any]]]
    ) -> datetime:
        """A session: the steps a few seconds to minutes apart (never 30 minutes); returns
        the last step's time."""
        rng = self._rng
        session = self._session_id()
        for number, (name, properties) in enumerate(steps):
            if number:
                at += timedelta(seconds=min(rng.lognormvariate(4.0, 1.0), 1200) + 2)
            self._emit(at, name, person, session=session, properties=properties)
        return at

    def _product(self) -> tuple[str, str, float]:
        sku, title, price = self._rng.choice(CATALOGUE)
        return sku, title, round(price * self.price_factor, 2)

    def _browse(self, count: int) -> list[tuple[str, dict[str, Any]]]:
        rng = self._rng
        steps: list[tuple[str, dict[str, Any]]] = []
        for _ in range(count):
            if rng.random() < 0.35:
                steps.append(("page_view", {"path": rng.choice(PAGES)}))
            else:
                sku, _title, price = self._product()
                steps.append(("product_view", {"sku": sku, "price": price}))
        return steps

    # --- One prospect's journey

    def _chance(self, step: str, at: datetime) -> float:
        """The step's probability at `at`: the usual one, or a demo change's."""
        for start, until, probability in self._changes.get(step, ()):
            if start <= at < until:
                return probability
        return USUAL[step]

    def _prospect(self, entry: datetime) -> None:
        rng = self._rng
        person = _Person(anonymous_id=self._anonymous_id())
        # LZMOT: the click that brings them (reported by the ad platform or the email tool).
        roll = rng.random()
        if roll < 0.55:
            click = ("ad_click", {"campaign": rng.choice(AD_CAMPAIGNS)})
        elif roll < 0.87:
            click = ("social_click", {"network": rng.choice(SOCIAL_NETWORKS)})
        else:
            click = ("email_click", {"campaign": rng.choice(NEWSLETTERS)})
        self._emit(entry, click[0], person, properties=click[1])
        # FMOT's first seconds: the landing page. About half leave at once (a bounce).
        landing = entry + timedelta(seconds=rng.uniform(2, 25))
        bounced = rng.random() < self._chance("bounce", landing)
        steps = [("page_view", {"path": rng.choice(PAGES)})]
        if not bounced:
            steps += self._browse(rng.randint(1, 5))
        at = self._visit(landing, person, steps)
        if rng.random() >= (0.2 if bounced else 0.6):
            return
        # ZMOT: research on a later visit (reviews, a comparison, the store's search).
        at = self._later(at, median_hours=20, sigma=1.3)
        research: list[tuple[str, dict[str, Any]]] = []
        for _ in range(rng.randint(1, 3)):
            roll = rng.random()
            if roll < 0.45:
                research.append(("search", {"query": rng.choice(SEARCHES)}))
            elif roll < 0.8:
                research.append(("review_read", {"site": rng.choice(REVIEW_SITES)}))
            else:
                research.append(("comparison_view", {"products": 2 + rng.randrange(3)}))
            if rng.random() < 0.4:
                research.append(("page_view", {"path": rng.choice(PAGES)}))
        at = self._visit(at, person, research)
        if rng.random() >= 0.72:
            return
        # FMOT: product pages, sometimes after a visit of one page that goes no further.
        at = self._later(at, median_hours=10, sigma=1.4)
        if rng.random() < 0.25:
            at = self._visit(at, person, self._browse(1))
            at = self._later(at, median_hours=30, sigma=1.0)
        cart = self._browse(rng.randint(1, 4))
        if rng.random() >= self._chance("to_cart", at):
            self._visit(at, person, cart)
            return
        self._purchase_path(at, person, cart)

    def _purchase_path(
        self, at: datetime, person: _Person, browse: list[tuple[str, dict[str, Any]]]
    ) -> None:
        """SMOT: cart, checkout, purchase (or an abandoned cart, a few finished days later),
        then what follows a purchase."""
        rng = self._rng
        sku, _title, price = self._product()
        quantity = 1 if rng.random() < 0.8 else 2
        value = round(price * quantity + (rng.choice((0, 0, 12.9, 24.5)) * self.price_factor), 2)
        steps = [*browse, ("add_to_cart", {"sku": sku, "price": price, "quantity": quantity})]
        checkout = ("checkout_start", {"value": value, "currency": self.currency})
        if rng.random() < 0.6:
            steps.append(checkout)
            if rng.random() < 0.72:
                at = self._visit(at, person, steps)
                self._bought(at + timedelta(seconds=rng.uniform(30, 240)), person, value)
                return
        at = self._visit(at, person, steps)
        if rng.random() >= 0.22:
            return  # abandoned for good
        at = self._later(at, median_hours=40, sigma=0.8)  # back to the abandoned cart
        at = self._visit(at, person, [("page_view", {"path": "/cart"}), checkout])
        self._bought(at + timedelta(seconds=rng.uniform(30, 240)), person, value)

    def _bought(self, at: datetime, person: _Person, value: float) -> None:
        """The purchase (the store's server: the customer key), identify for the browser,
        then delivery, feedback, and perhaps a repeat purchase weeks later."""
        rng = self._rng
        if at > self.end:
            return  # not yet
        if not person.customer_key:
            person.customer_key = self._new_buyer(at)
        if person.anonymous_id not in person.identified:
            person.identified.add(person.anonymous_id)
            self.identifications.append(
                Identification(person.anonymous_id, person.customer_key, at)
            )
        person.bought += 1
        self._orders += 1
        order = f"{self.key_prefix}{100_000 + self._orders}"
        self._emit(
            at,
            "purchase",
            person,
            server=True,
            properties={"order_id": order, "value": value, "currency": self.currency},
        )
        # TMOT: shipped on working hours, the courier's morning run, the parcel at the door.
        shipped = self._working(at, hours=(3, 40))
        self._emit(
            shipped,
            "shipped",
            person,
            server=True,
            properties={"order_id": order, "carrier": rng.choice(CARRIERS)},
        )
        out = self._working(shipped, hours=(14, 60 if rng.random() < 0.9 else 130))
        self._emit(out, "out_for_delivery", person, server=True, properties={"order_id": order})
        delivered = out + timedelta(hours=rng.uniform(0.5, 8))
        self._emit(delivered, "delivered", person, server=True, properties={"order_id": order})
        if rng.random() < 0.08:
            asked = shipped + timedelta(hours=rng.uniform(4, 90))
            self._emit(
                asked, "support_contact", person, server=True, properties={"order_id": order}
            )
        returned = rng.random() < 0.05
        if returned:
            self._emit(
                delivered + timedelta(days=rng.uniform(1, 12)),
                "return_requested",
                person,
                server=True,
                properties={"order_id": order, "reason": rng.choice(RETURN_REASONS)},
            )
        # UMOT: a review, a referral.
        if rng.random() < (0.08 if returned else 0.22):
            rating = rng.choices(
                (1, 2, 3, 4, 5), (2, 2, 4, 12, 30) if not returned else (6, 4, 3, 1, 0)
            )
            self._emit(
                delivered + timedelta(days=min(rng.lognormvariate(1.7, 0.6), 28)),
                "review_posted",
                person,
                server=True,
                properties={"order_id": order, "rating": rating[0]},
            )
        if rng.random() < 0.05:
            self._emit(
                delivered + timedelta(days=rng.uniform(2, 30)),
                "referral",
                person,
                server=True,
                properties={"channel": rng.choice(SOCIAL_NETWORKS)},
            )
        # Repeat purchases: fewer each time; a newsletter often brings them back.
        if returned or rng.random() >= (0.45 if person.bought == 1 else 0.5):
            return
        back = self._later(delivered, median_hours=24 * 32, sigma=0.5)
        if rng.random() < 0.45:
            self._emit(
                back - timedelta(seconds=rng.uniform(5, 60)),
                "email_click",
                person,
                server=True,
                properties={"campaign": rng.choice(NEWSLETTERS)},
            )
        if rng.random() < 0.3:
            person.anonymous_id = self._anonymous_id()  # another device: identified again
        self._purchase_path(back, person, self._browse(rng.randint(1, 3)))

    def _new_buyer(self, at: datetime) -> str:
        rng = self._rng
        key = f"{self.key_prefix}-{200_000 + len(self.buyers)}"
        codes = list(self.languages)
        language = rng.choices(codes, [self.languages[c] for c in codes])[0]
        males, females, surnames = NAMES[language]
        female = rng.random() < 0.56
        first = rng.choice(females if female else males)
        surname = rng.choice(surnames)[1 if female else 0]
        local = f"{_ascii(first)}.{_ascii(surname)}"
        email = f"{local}@{rng.choice(EMAIL_DOMAINS)}"
        while email in self._emails:
            email = f"{local}{rng.randint(2, 9999)}@{email.split('@')[1]}"
        self._emails.add(email)
        self.buyers[key] = Buyer(key, email, f"{first} {surname}", language, at)
        return key


# --- Loading the demo stores


@dataclass(frozen=True)
class DemoStore:
    name: str
    seed: str
    prospects_per_day: float
    languages: dict[str, int]  # buyers' languages -> weight: all six in each store
    key_prefix: str
    price_factor: float  # the catalogue's EUR prices in the store's currency


DEMO_STORES = [
    DemoStore(
        name="Baltic Goods LT",
        seed="momentmap-demo-events-lt",
        prospects_per_day=170,
        languages={"lt": 78, "en": 8, "lv": 7, "et": 5, "cs": 1, "ro": 1},
        key_prefix="LT",
        price_factor=1.0,
    ),
    DemoStore(
        name="Baltic Goods RO",
        seed="momentmap-demo-events-ro",
        prospects_per_day=130,
        languages={"ro": 82, "en": 9, "cs": 6, "lt": 1, "lv": 1, "et": 1},
        key_prefix="RO",
        price_factor=5.0,
    ),
]


@dataclass
class Loaded:
    events: int = 0
    buyers: int = 0
    identified: int = 0
    removed: int = 0
    names: list[str] = field(default_factory=list)
    seconds: float = 0.0


def mapped_names(store: Store) -> set[str] | None:
    """The event names the store's active journey maps to its touchpoints (None without an
    active journey): the demo sends only what its journey tracks."""
    journey = Journey.objects.filter(store=store, status=Journey.Status.ACTIVE).first()
    if journey is None:
        return None
    lists = Touchpoint.objects.filter(stage__journey=journey).values_list("event_names", flat=True)
    return {name for names in lists for name in names}


def _earlier_demo_remove(store: Store) -> int:
    """An earlier run's demo events go, with their idempotency keys (the new run sends the
    same ids) and the customers left without events; the customers that keep other events get
    their first purchase again from what is left; the days are marked for recompute."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "WITH gone AS (DELETE FROM events_event WHERE store_id = %s AND source = %s "
            "RETURNING customer_id, client_id, (occurred_at AT TIME ZONE 'UTC')::date AS day), "
            "keys AS (DELETE FROM events_eventkey WHERE store_id = %s AND key_hash IN ("
            "SELECT encode(substring(sha256(convert_to(client_id, 'UTF8')) FROM 1 FOR 16), "
            "'hex')::uuid FROM gone)) "  # events.ingest.key_hash, in SQL
            "SELECT count(*), coalesce(array_agg(DISTINCT customer_id), '{}'), "
            "coalesce(array_agg(DISTINCT day), '{}') FROM gone",
            [store.pk, int(EventSource.DEMO), store.pk],
        )
        removed, customers, days = cursor.fetchone()
        if not removed:
            return 0
        cursor.execute(
            "SELECT c.id FROM events_customer c WHERE c.store_id = %s "
            "AND (c.id = ANY(%s) OR c.identified_as_id = ANY(%s)) AND NOT EXISTS ("
            "SELECT 1 FROM events_event e WHERE e.store_id = %s AND e.customer_id = c.id)",
            [store.pk, customers, customers, store.pk],
        )
        doomed = [row[0] for row in cursor.fetchall()]
        cursor.execute(
            "UPDATE events_customer SET identified_as_id = NULL WHERE store_id = %s "
            "AND identified_as_id = ANY(%s) AND NOT id = ANY(%s)",
            [store.pk, doomed, doomed],
        )
        cursor.execute(
            "DELETE FROM events_customer WHERE store_id = %s AND id = ANY(%s)", [store.pk, doomed]
        )
        cursor.execute(
            "UPDATE events_customer c SET first_purchase_at = (SELECT min(e.occurred_at) "
            "FROM events_event e JOIN events_eventname n ON n.id = e.event_name_id "
            "WHERE e.store_id = c.store_id AND e.customer_id = c.id AND n.name = 'purchase') "
            "WHERE c.store_id = %s AND c.id = ANY(%s)",
            [store.pk, customers],
        )
        ingest.days_mark(cursor, store.pk, set(days), clock.now(), full=True)
    return int(removed)


def _identify_ahead(store: Store, links: list[Identification]) -> None:
    """Every buyer's browsers linked to the buyer before their events go in, so that the
    events count for the customer as they are written: the state identify leaves at each
    purchase (the first link of an anonymous id stands), in three statements for all of
    them instead of about ten per link through services.customer_identify (1,800 links of the
    two stores cost 5 to 9 s that way, a fifth of the demo's budget)."""
    if not links:
        return
    with transaction.atomic(), connection.cursor() as cursor:
        keys = {(True, link.anonymous_id) for link in links}
        keys |= {(False, link.customer_key) for link in links}
        ids = ingest.customer_ids(cursor, store.pk, keys, clock.now())
        pairs = sorted(
            {(ids[(True, link.anonymous_id)], ids[(False, link.customer_key)]) for link in links}
        )
        cursor.execute(
            "UPDATE events_customer c SET identified_as_id = t.customer "
            "FROM unnest(%s::bigint[], %s::bigint[]) AS t(anonymous, customer) "
            "WHERE c.store_id = %s AND c.id = t.anonymous AND c.is_anonymous "
            "AND c.identified_as_id IS NULL",
            [[a for a, _c in pairs], [c for _a, c in pairs], store.pk],
        )


def store_load(
    spec: DemoStore, store: Store, *, start: datetime, end: datetime, scale: float = 1.0
) -> Loaded:
    """One store's demo events over [start, end], replacing an earlier run's: the buyers'
    browsers identified, the buyers made contacts in their language, then the events
    ingested like any batch (source DEMO, which never triggers a survey)."""
    began = timer.perf_counter()
    loaded = Loaded(removed=_earlier_demo_remove(store))
    mapped = mapped_names(store)
    generator = JourneyGenerator(
        seed=spec.seed,
        start=start,
        end=end,
        time_zone=store.time_zone,
        prospects_per_day=spec.prospects_per_day * scale,
        languages=spec.languages,
        key_prefix=spec.key_prefix,
        currency=store.currency,
        price_factor=spec.price_factor,
        names=None if mapped is None else mapped & (set(EVENT_STAGE) - DERIVED),
        changes=[c for c in DEMO_CHANGES if c.store == spec.name],
    )
    loaded.names = sorted(generator.names)
    batches = list(generator.batches())  # the buyers are known once every journey is made
    _identify_ahead(store, generator.identifications)
    with transaction.atomic():  # one commit, not one per buyer
        for buyer in generator.buyers.values():
            survey_services.contact_upsert(
                store=store,
                email=buyer.email,
                customer_key=buyer.customer_key,
                name=buyer.name,
                language=buyer.language,
            )
        with connection.cursor() as cursor:
            # The buyers' customers and contacts, linked by the store's customer key.
            cursor.execute(
                "UPDATE events_customer c SET contact_id = t.id FROM surveys_contact t "
                "WHERE c.store_id = %s AND NOT c.is_anonymous AND c.key = ANY(%s) "
                "AND t.store_id = c.store_id AND t.customer_key = c.key",
                [store.pk, list(generator.buyers)],
            )
    # As in a live store, the buyers are contacts when their orders come in: were demo
    # events to trigger surveys, these would queue invitations (they must not).
    for batch in batches:
        result = services.events_ingest(store=store, items=batch, source=EventSource.DEMO)
        loaded.events += result.accepted
    loaded.identified = len(generator.identifications)
    loaded.buyers = len(generator.buyers)
    loaded.seconds = timer.perf_counter() - began
    return loaded


def load(*, organisation: Organisation, now: datetime | None = None) -> dict[str, Loaded]:
    """The demo stores' events of the last DAYS days, ending now, at the traffic of
    settings.DEMO_EVENTS_SCALE. A second run replaces the first's, so that the events always
    end at the time of the latest run."""
    end = now or clock.now()
    done = {}
    for spec in DEMO_STORES:
        store = Store.objects.filter(organisation=organisation, name=spec.name).first()
        if store is None:
            continue
        done[spec.name] = loaded = store_load(
            spec,
            store,
            start=end - timedelta(days=DAYS),
            end=end,
            scale=settings.DEMO_EVENTS_SCALE,
        )
        logger.info(
            "Demo events of %s: %d events, %d buyers, %d identified, %d earlier ones removed "
            "in %.1f s",
            spec.name,
            loaded.events,
            loaded.buyers,
            loaded.identified,
            loaded.removed,
            loaded.seconds,
        )
    return done
