"""Fixed-window counters in the cache: log-in and password-reset attempts, public pages.

It fails open: when the cache (Redis) is unreachable the attempt is allowed and logged.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import threading
from typing import Any

from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache

from core.cache import REDIS_DOWN

logger = logging.getLogger(__name__)
_LOCAL_LOCK = threading.Lock()


def _key(scope: str, ident: str) -> str:
    return f"ratelimit:{scope}:{hashlib.sha256(ident.lower().encode()).hexdigest()}"


def attempts(*, scope: str, ident: str) -> int:
    try:
        return int(cache.get(_key(scope, ident), 0))
    except REDIS_DOWN:
        logger.warning("Rate-limit store unreachable; allowing %s", scope)
        return 0


def uncount(*, checks: list[tuple[str, str, int]]) -> None:
    """Give back the attempt that hit_unless_limited counted with the same checks (one that
    turned out fine)."""
    for scope, ident, _limit in checks:
        if not ident:
            continue
        try:
            cache.decr(_key(scope, ident))
        except ValueError:  # expired meanwhile: nothing to give back
            pass
        except REDIS_DOWN:
            logger.warning("Rate-limit store unreachable; %s attempt not given back", scope)


# Redis: every counter read, then (none at its limit) every counter counted, atomically, in one
# round trip. KEYS: the counters; ARGV: the window, then each counter's limit.
# ARGV[2] is the cost of this attempt (1, or a batch's events).
_CHECK_AND_COUNT = """
local cost = tonumber(ARGV[2])
for i, key in ipairs(KEYS) do
    if tonumber(redis.call("GET", key) or "0") + cost > tonumber(ARGV[i + 2]) then
        return 1
    end
end
for _, key in ipairs(KEYS) do
    if redis.call("INCRBY", key, cost) == cost then
        redis.call("EXPIRE", key, ARGV[1])
    end
end
return 0
"""


@functools.lru_cache(maxsize=8)
def _redis_script(backend: RedisCache) -> Any:
    """The check-and-count script, bound to a client of the cache's own connection pool:
    one per process and cache, as building a redis-py client costs more than the call.
    Django's Redis client is private API (stable since Django 4.0); integers are stored
    unpickled (RedisSerializer), so the script reads and counts what get() and add() do."""
    client = backend._cache.get_client(write=True)  # type: ignore[attr-defined]
    return client.register_script(_CHECK_AND_COUNT)


def hit_unless_limited(*, checks: list[tuple[str, str, int]], window: int, cost: int = 1) -> bool:
    """Count one attempt (of `cost` units: a batch's events) against every (scope, ident,
    limit), unless one of them would go over its limit: then True, and nothing is counted.

    A check of every counter and then a count of each, in one Redis round trip (a script) instead
    of up to four per counter; for the public survey pages, which check two counters on every
    POST. Other caches (local memory): get_many, then add or incr per counter, under a lock.
    """
    limits = {_key(scope, ident): limit for scope, ident, limit in checks if ident}
    if not limits:
        return False
    backend: Any = caches["default"]
    try:
        if isinstance(backend, RedisCache):
            limited = _redis_script(backend)(
                keys=[backend.make_and_validate_key(key) for key in limits],
                args=[window, cost, *limits.values()],
            )
            return bool(limited)
        with _LOCAL_LOCK:  # local memory is per process: a process-wide lock makes it atomic
            counts = cache.get_many(list(limits))
            if any(int(counts.get(key, 0)) + cost > limit for key, limit in limits.items()):
                return True
            for key in limits:
                if not cache.add(key, cost, window):
                    cache.incr(key, cost)
    except (ValueError, *REDIS_DOWN):
        logger.warning("Rate-limit store unreachable; allowing %s", ", ".join(c[0] for c in checks))
    return False
