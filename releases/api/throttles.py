"""The API's rates, counted in the shared cache (Redis with a broker, the database without), so every worker
process and every server counts the same calls.

Each caller gets `N` calls per window of the rate's period (`120/min`: 120 calls a minute, counted in clock
minutes); the count is one atomic increment per call in Redis. Anonymous callers are counted by network address
(governance.network.client_address, which believes X-Forwarded-For only as far as TRUSTED_PROXY_COUNT says),
each pipeline token by itself.
"""

import time

from django.core.cache import cache
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle, SimpleRateThrottle

from governance.network import client_address
from releases.api.authentication import Pipeline


class PipelineOrAnonymousThrottle(BaseThrottle):
    """Anonymous callers share a modest rate per network address; each pipeline token gets a larger one."""

    timer = time.time

    def allow_request(self, request, view):
        if isinstance(request.user, Pipeline):
            scope, ident = "pipeline", f"token-{request.user.token.pk}"
        else:
            scope, ident = "anonymous", client_address(request) or "unknown"
        rate = api_settings.DEFAULT_THROTTLE_RATES.get(scope)
        if not rate:
            return True
        limit, period = SimpleRateThrottle.parse_rate(None, rate)
        now = self.timer()
        window = int(now // period)
        key = f"api-throttle:{scope}:{ident}:{window}"
        # add() then incr(): both atomic in Redis, so two processes never count the same call once.
        try:
            cache.add(key, 0, timeout=period + 1)
            count = cache.incr(key)
        except ValueError:  # gone between the two calls (expired, or the cache is unreachable): not counted
            return True
        self.wait_seconds = (window + 1) * period - now
        return count <= limit

    def wait(self):
        return self.wait_seconds
