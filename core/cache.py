"""A Redis cache that degrades instead of failing when Redis is unreachable.

Caches and throttles are conveniences: when Redis is down the site keeps serving, reads miss,
writes are dropped, and each failure is logged.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

REDIS_DOWN = (RedisConnectionError, RedisTimeoutError, OSError)


class FailSoftRedisCache(RedisCache):
    def get(self, key: Any, default: Any = None, version: int | None = None) -> Any:
        try:
            return super().get(key, default, version)
        except REDIS_DOWN:
            logger.warning("Redis unreachable: cache get missed", exc_info=True)
            return default

    def set(self, key: Any, value: Any, timeout: Any = None, version: int | None = None) -> None:
        try:
            super().set(key, value, timeout, version)
        except REDIS_DOWN:
            logger.warning("Redis unreachable: cache set dropped", exc_info=True)

    def add(self, key: Any, value: Any, timeout: Any = None, version: int | None = None) -> bool:
        try:
            return super().add(key, value, timeout, version)
        except REDIS_DOWN:
            logger.warning("Redis unreachable: cache add dropped", exc_info=True)
            return False

    def delete(self, key: Any, version: int | None = None) -> bool:
        try:
            return super().delete(key, version)
        except REDIS_DOWN:
            logger.warning("Redis unreachable: cache delete dropped", exc_info=True)
            return False

    def incr(self, key: Any, delta: int = 1, version: int | None = None) -> int:
        try:
            return super().incr(key, delta, version)
        except REDIS_DOWN:
            logger.warning("Redis unreachable: cache incr dropped", exc_info=True)
            raise ValueError("cache unavailable") from None

    def get_many(self, keys: Any, version: int | None = None) -> dict[Any, Any]:
        try:
            return super().get_many(keys, version)
        except REDIS_DOWN:
            logger.warning("Redis unreachable: cache get_many missed", exc_info=True)
            return {}

    def set_many(self, data: Any, timeout: Any = None, version: int | None = None) -> list[Any]:
        try:
            return super().set_many(data, timeout, version)
        except REDIS_DOWN:
            logger.warning("Redis unreachable: cache set_many dropped", exc_info=True)
            return list(data)

    def clear(self) -> None:
        try:
            super().clear()
        except REDIS_DOWN:
            logger.warning("Redis unreachable: cache clear dropped", exc_info=True)
