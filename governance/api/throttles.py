from rest_framework.throttling import SimpleRateThrottle

from governance.api.authentication import Pipeline


class PipelineOrAnonymousThrottle(SimpleRateThrottle):
    """Anonymous callers share a modest rate per network address; each pipeline token gets a larger one."""

    def get_rate(self):
        return None  # chosen per request in allow_request

    def allow_request(self, request, view):
        if isinstance(request.user, Pipeline):
            self.scope, ident = "pipeline", f"token-{request.user.token.pk}"
        else:
            self.scope, ident = "anonymous", self.get_ident(request)
        self.rate = self.THROTTLE_RATES[self.scope]
        self.num_requests, self.duration = self.parse_rate(self.rate)
        self.key = self.cache_format % {"scope": self.scope, "ident": ident}
        self.history = self.cache.get(self.key, [])
        self.now = self.timer()
        while self.history and self.history[-1] <= self.now - self.duration:
            self.history.pop()
        if len(self.history) >= self.num_requests:
            return self.throttle_failure()
        return self.throttle_success()
