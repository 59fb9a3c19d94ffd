"""The browser snippet's way in: static/js/momentmap.js on a store's pages posts to
`POST /api/v1/events/browser/` with the store's publishable key in the body.

A publishable key is public (it sits in every page of the shop), so what it may do is narrow:
only this endpoint, only from the store's own domain or its subdomains (the Origin header,
else the Referer), only anonymous visitors (a browser is never trusted with a customer key:
the store's server links the two with identify), under a limit per key and per address, and
with idempotency ids of their own (`browser:<id>`), so that a page cannot claim the ids the
store's server sends and turn its events into duplicates.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlsplit

from django.core.cache import cache

from accounts.models import ApiKey, Store
from accounts.selectors import api_key_authenticate
from accounts.services import KEY_PREFIXES
from core import clock
from core.cache import REDIS_DOWN
from core.errors import DomainError
from events import ingest
from events.ingest import EventIn, ItemError, Window
from events.models import EventSource
from events.services import BatchResult, events_ingest

logger = logging.getLogger(__name__)

# The snippet sends at most 50 events and keeps a request under the 64 KB that the browser
# lets sendBeacon and keep-alive fetch carry; these leave room for a store's own calls.
MAX_BROWSER_ITEMS = 100
MAX_BROWSER_BYTES = 64 * 1024
ID_PREFIX = "browser:"
MAX_BROWSER_ID_LENGTH = ingest.MAX_ID_LENGTH - len(ID_PREFIX)
# How long a store's count of dropped bot requests is kept, per day (the events page reads it).
BOT_COUNT_DAYS = 8

# Crawlers, link previews, uptime monitors, headless and scripted clients. "cubot" is a phone
# brand, not a bot. A browser sends a User-Agent: one without is a script.
_BOT = re.compile(
    r"(?<!cu)bot\b|crawl|spider|slurp|headless|lighthouse|phantomjs|prerender|pingdom"
    r"|uptimerobot|statuscake|gtmetrix|facebookexternalhit|bingpreview|python-|curl/|wget"
    r"|go-http-client|java/|okhttp|node-fetch|axios/|libwww|httpclient|scrapy",
    re.IGNORECASE,
)


_KEY_TEXT = re.compile(r"[A-Za-z0-9_-]{1,200}")


class SecretKeyRefused(DomainError):
    status = 403
    code = "secret_key_refused"


class OriginRefused(DomainError):
    status = 403
    code = "origin_refused"


def publishable_key(*, raw_key: str, origin: str) -> ApiKey | None:
    """The store's active publishable key, or None. A secret key is refused whether or not it
    is valid (its answer tells nothing about it): it must never be in a web page, and a valid
    one found here is logged so that it gets revoked."""
    key = api_key_authenticate(raw_key=raw_key) if _KEY_TEXT.fullmatch(raw_key) else None
    secret = raw_key.startswith(f"{KEY_PREFIXES[ApiKey.Kind.SECRET]}_")
    if secret or (key is not None and key.kind != ApiKey.Kind.PUBLISHABLE):
        if key is not None:
            logger.warning(
                "Secret key %s of store %s was sent from a browser (origin %r): revoke it",
                key.prefix,
                key.store_id,
                origin[:200],
            )
        raise SecretKeyRefused(
            "This is a secret key: it must never be in a web page. Revoke it on the store's "
            "API keys page, and give the snippet a publishable key (mm_pk_…)."
        )
    return key


def is_bot(user_agent: str) -> bool:
    return not user_agent.strip() or bool(_BOT.search(user_agent))


def request_origin(meta: dict[str, Any]) -> str:
    """The page's origin: the Origin header, or without one the Referer's scheme and host.
    Empty when neither says (or the Origin is "null": a sandboxed frame, a file)."""
    origin = meta.get("HTTP_ORIGIN", "").strip()
    if origin:
        return "" if origin == "null" else origin
    referer = urlsplit(meta.get("HTTP_REFERER", "").strip())
    if referer.scheme and referer.netloc:
        return f"{referer.scheme}://{referer.netloc}"
    return ""


def _loopback(host: str) -> bool:
    # RFC 6761: localhost and *.localhost always name this machine, never someone's site.
    return host == "localhost" or host.endswith(".localhost")


def origin_allowed(origin: str, *, domain: str, debug: bool) -> bool:
    """The origin's host is the store's domain or a subdomain of it (a look-alike such as
    evilshop.example.com for shop.example.com is not), over https; plain http only for a
    localhost name while developing (DEBUG)."""
    try:
        parts = urlsplit(origin)
        host = (parts.hostname or "").rstrip(".")
    except ValueError:
        return False
    domain = domain.strip().lower().rstrip(".")
    if not host or not domain or parts.username is not None or parts.path not in {"", "/"}:
        return False
    if host != domain and not host.endswith("." + domain):
        return False
    if parts.scheme == "https":
        return True
    return parts.scheme == "http" and debug and _loopback(host)


def _bot_key(store_id: int, day: date) -> str:
    return f"events:browser-bots:{store_id}:{day.isoformat()}"


def bot_count(*, store_id: int) -> None:
    """Count a bot's request, dropped unstored, for the store and today (UTC). A count is a
    convenience: when the cache is down it is lost, and the request is still dropped."""
    key = _bot_key(store_id, clock.now().date())
    try:
        if not cache.add(key, 1, timeout=BOT_COUNT_DAYS * 24 * 3600):
            cache.incr(key)
    except (ValueError, *REDIS_DOWN):
        logger.warning("Cache unreachable: a bot's request to store %s not counted", store_id)


def bots_dropped(*, store_id: int, days: int = 7) -> dict[date, int]:
    """Bot requests dropped per day (UTC), the last `days` days, today included."""
    today = clock.now().date()
    wanted = [today - timedelta(days=n) for n in range(days)]
    counts = cache.get_many([_bot_key(store_id, day) for day in wanted])
    return {day: int(counts.get(_bot_key(store_id, day), 0)) for day in wanted}


def browser_item_check(raw: Any, *, window: Window, index: int) -> EventIn:
    """A batch API item (ingest.item_check) as a browser may send it: an anonymous visitor,
    never a customer key; the id is stored as `browser:<id>`."""
    if isinstance(raw, dict):
        if "customer_key" in raw:
            raise ItemError(
                "customer_key is not taken from a browser: send anonymous_id, and link it to "
                "your customer from your server (POST /api/v1/events/identify/)."
            )
        if raw.get("anonymous_id") is None:
            raise ItemError("anonymous_id is required (momentmap.anonymousId()).")
    event = ingest.item_check(raw, window=window, index=index)
    if len(event.client_id) > MAX_BROWSER_ID_LENGTH:
        raise ItemError(f"id must be at most {MAX_BROWSER_ID_LENGTH} characters from a browser.")
    event.client_id = ID_PREFIX + event.client_id
    return event


def browser_events_ingest(*, store: Store, raw_items: Sequence[Any]) -> BatchResult:
    """Check a browser's items one by one and store the good ones (events_ingest)."""
    good, errors = ingest.items_check(
        raw_items, window=Window.for_store(store), check=browser_item_check
    )
    return events_ingest(store=store, items=good, source=EventSource.BROWSER, errors=errors)
