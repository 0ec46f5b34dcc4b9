"""The shared cache's Redis backend: Django's own, made safe to share with the broker and to lose for a while.

With a broker configured the cache lives in the broker's Redis database by default (CACHE_URL may name another):
Django's clear() would FLUSHDB it, queued tasks included, so clear() deletes only the cache's own keys. And what
the cache holds can always be recomputed (a report) or skipped (a rate count), so while Redis is unreachable
reads miss and writes are dropped instead of failing the page or the API call.
"""

import logging

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)
UNREACHABLE = (RedisConnectionError, RedisTimeoutError)


class BrokerSafeRedisCache(RedisCache):
    def _unreachable(self, error: Exception) -> None:
        logger.warning("cache unreachable, served without it: %s", error)

    def get(self, key, default=None, version=None):
        try:
            return super().get(key, default, version)
        except UNREACHABLE as error:
            self._unreachable(error)
            return default

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            super().set(key, value, timeout, version)
        except UNREACHABLE as error:
            self._unreachable(error)

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            return super().add(key, value, timeout, version)
        except UNREACHABLE as error:
            self._unreachable(error)
            return False

    def incr(self, key, delta=1, version=None):
        try:
            return super().incr(key, delta, version)
        except UNREACHABLE as error:
            self._unreachable(error)
            raise ValueError("the cache is unreachable") from None

    def clear(self):
        client = self._cache.get_client(None, write=True)
        keys = []
        try:
            for key in client.scan_iter(match=f"{self.key_prefix}:*", count=1000):
                keys.append(key)
                if len(keys) >= 1000:
                    client.delete(*keys)
                    keys.clear()
            if keys:
                client.delete(*keys)
        except UNREACHABLE as error:
            self._unreachable(error)
            return False
        return True
