"""A Redis cache that a Redis outage does not turn into errors.

The cache holds rate-limit counters and short-lived values, never the only
copy of anything, so while Redis is down every read is a miss and every write
is dropped (logged once a minute), and each page still answers. Rate limits
are then not enforced until Redis is back: the log says so.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)
DOWN = (RedisConnectionError, RedisTimeoutError, OSError)


class ResilientRedisCache(RedisCache):
    _last_warning = 0.0

    def _down(self, operation: str, exc: Exception) -> None:
        now = time.monotonic()
        if now - ResilientRedisCache._last_warning > 60:
            ResilientRedisCache._last_warning = now
            logger.warning(
                "cache unavailable (%s: %s): serving without it; rate limits "
                "are not enforced until it is back",
                operation,
                exc.__class__.__name__,
            )

    def get(self, key: Any, default: Any = None, version: int | None = None) -> Any:
        try:
            return super().get(key, default, version)
        except DOWN as exc:
            self._down("get", exc)
            return default

    def get_many(self, keys: Any, version: int | None = None) -> dict:
        try:
            return super().get_many(keys, version)
        except DOWN as exc:
            self._down("get_many", exc)
            return {}

    def set(self, key: Any, value: Any, timeout: Any = None, version=None) -> None:
        try:
            super().set(key, value, timeout, version)
        except DOWN as exc:
            self._down("set", exc)

    def add(self, key: Any, value: Any, timeout: Any = None, version=None) -> bool:
        try:
            return super().add(key, value, timeout, version)
        except DOWN as exc:
            self._down("add", exc)
            return False

    def incr(self, key: Any, delta: int = 1, version: int | None = None) -> int:
        try:
            return super().incr(key, delta, version)
        except DOWN as exc:
            self._down("incr", exc)
            return delta

    def delete(self, key: Any, version: int | None = None) -> bool:
        try:
            return super().delete(key, version)
        except DOWN as exc:
            self._down("delete", exc)
            return False

    def touch(self, key: Any, timeout: Any = None, version=None) -> bool:
        try:
            return super().touch(key, timeout, version)
        except DOWN as exc:
            self._down("touch", exc)
            return False
