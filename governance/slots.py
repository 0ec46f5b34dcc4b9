"""Counted slots shared by every worker process: a semaphore on Redis whose slots expire.

A slot is a member of a sorted set scored by its expiry (the Redis server's clock, so workers on hosts with
skewed clocks agree). Taking one first drops the expired members, so a worker killed while holding a slot
(kill -9, lost host) gives it back when its lease runs out instead of leaking it forever.
"""

import logging
import secrets
from dataclasses import dataclass
from functools import cache

from django.conf import settings

logger = logging.getLogger(__name__)

KEY_PREFIX = "governance:slots:"

# KEYS[1] the set; ARGV: lease in ms, limit, token. 1 when the slot was taken.
_ACQUIRE = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local lease = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[2]) then
    redis.call('ZADD', KEYS[1], now + lease, ARGV[3])
    redis.call('PEXPIRE', KEYS[1], lease)
    return 1
end
return 0
"""

# KEYS[1] the set; how many slots are held now.
_HELD = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
return redis.call('ZCARD', KEYS[1])
"""


@dataclass(frozen=True)
class Slot:
    key: str  # empty for a slot that was never counted (no broker, or Redis did not answer)
    token: str


_UNCOUNTED = Slot(key="", token="")


@cache
def _redis(url: str):
    import redis

    # Short timeouts: a slot is a courtesy to other workers, never a reason to hang one.
    return redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)


def _client():
    url = settings.CELERY_BROKER_URL
    return _redis(url) if url.startswith(("redis://", "rediss://", "unix://")) else None


def slot_acquire(name: str, *, limit: int, lease_seconds: float) -> Slot | None:
    """Take one of `limit` slots named `name` for at most `lease_seconds`; None when all are taken.

    Without a Redis broker (embedded mode: tasks run one at a time, inline) every call gets an uncounted slot.
    If Redis does not answer the caller gets one too: the work goes on without the cap rather than not at all.
    """
    client = _client()
    if client is None:
        return _UNCOUNTED
    key = KEY_PREFIX + name
    token = secrets.token_hex(8)
    try:
        taken = client.eval(_ACQUIRE, 1, key, max(1, int(lease_seconds * 1000)), limit, token)
    except Exception as error:  # redis.RedisError, OSError: down or unreachable
        logger.warning("slots: Redis did not answer (%s); %s runs without its cap", type(error).__name__, name)
        return _UNCOUNTED
    return Slot(key=key, token=token) if taken else None


def slot_release(slot: Slot | None) -> None:
    """Give a slot back (nothing for an uncounted one; an expired one is already gone)."""
    if slot is None or not slot.key:
        return
    try:
        _client().zrem(slot.key, slot.token)
    except Exception as error:
        logger.warning("slots: could not release a slot (%s); it expires with its lease", type(error).__name__)


def slots_held(name: str) -> int:
    """How many slots named `name` are held and not expired (0 without Redis)."""
    client = _client()
    return int(client.eval(_HELD, 1, KEY_PREFIX + name)) if client is not None else 0
