"""The reports API's rate limit: a fixed window per API key (per member for browser sessions).

Counted in Redis when the deployment has one, so every server process shares one count per key; otherwise in
Django's cache, which is per process.
"""

from __future__ import annotations

import os
import time
from functools import cache

import redis
from django.conf import settings
from django.core.cache import cache as django_cache
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle
from rest_framework.views import APIView

# Deployments (and the benchmark) may set REPORTS_API_RATE in the environment or in settings.
DEFAULT_RATE = os.environ.get("REPORTS_API_RATE", "120/min")
_PERIODS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "hour": 3600}


@cache
def _redis(url: str) -> redis.Redis:
    return redis.Redis.from_url(url)


def parse_rate(rate: str) -> tuple[int, int]:
    count, _, period = rate.partition("/")
    return int(count), _PERIODS[period]


class ReportKeyThrottle(BaseThrottle):
    scope = "reports"

    def allow_request(self, request: Request, view: APIView) -> bool:
        actor = getattr(request, "user", None)
        api_key = getattr(actor, "api_key", None)
        membership = getattr(actor, "membership", None)
        # Named by what cannot repeat after a database is recreated (ids can), so a count never carries over.
        if api_key is not None:
            who = f"key:{api_key.key_hash[:24]}"
        elif membership is not None:
            who = f"member:{membership.pk}:{membership.tenant.created_at.timestamp()}"
        else:
            return True  # unauthenticated requests are refused before they cost anything
        limit, period = parse_rate(getattr(settings, "REPORTS_API_RATE", DEFAULT_RATE))
        now = time.time()
        window = int(now // period)
        self.wait_seconds = period - (now - window * period)
        key = f"throttle:{self.scope}:{who}:{window}"
        redis_url = getattr(settings, "REDIS_URL", "")
        if redis_url:
            client = _redis(redis_url)
            pipe = client.pipeline()
            pipe.incr(key)
            pipe.expire(key, period + 1)
            count = pipe.execute()[0]
        else:
            django_cache.add(key, 0, period + 1)
            count = django_cache.incr(key)
        return count <= limit

    def wait(self) -> float:
        return max(1.0, self.wait_seconds)
