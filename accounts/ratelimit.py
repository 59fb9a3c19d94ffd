"""A fixed-window counter in the cache for log-in and password-reset attempts.

It fails open: when the cache (Redis) is unreachable the attempt is allowed and logged.
"""

from __future__ import annotations

import hashlib
import logging

from django.core.cache import cache

from config.cache import REDIS_DOWN

logger = logging.getLogger(__name__)


def _key(scope: str, ident: str) -> str:
    return f"ratelimit:{scope}:{hashlib.sha256(ident.lower().encode()).hexdigest()}"


def attempts(*, scope: str, ident: str) -> int:
    try:
        return int(cache.get(_key(scope, ident), 0))
    except REDIS_DOWN:
        logger.warning("Rate-limit store unreachable; allowing %s", scope)
        return 0


def is_limited(*, scope: str, idents: list[str], limit: int) -> bool:
    return any(attempts(scope=scope, ident=ident) >= limit for ident in idents if ident)


def hit(*, scope: str, idents: list[str], window: int) -> None:
    for ident in idents:
        if not ident:
            continue
        key = _key(scope, ident)
        try:
            if not cache.add(key, 1, window):
                cache.incr(key)
        except (ValueError, *REDIS_DOWN):
            logger.warning("Rate-limit store unreachable; %s attempt not counted", scope)


def reset(*, scope: str, idents: list[str]) -> None:
    for ident in idents:
        if ident:
            cache.delete(_key(scope, ident))
