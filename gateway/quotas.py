"""Per-key quotas: requests per minute and case studies in flight, and the gateway's own ceiling.

Requests per minute use the ``limits`` library's moving window, in memory or in Redis (so every
replica counts the same requests). Case studies in flight are a counter per key, held for as long
as the work runs. Over either, the caller gets a 429 with ``Retry-After`` and the ``RateLimit``
headers; every answer to a keyed request carries the headers, so a client can slow down before it
is refused.

The gateway's own ceiling, whoever asks, is ``casecraft.admission.Admission``.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import redis.asyncio
from limits import RateLimitItemPerMinute
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.auth import ApiKey, caller
from gateway.problems import Problem

IN_FLIGHT_RETRY_AFTER_S = 5


class Quotas:
    def __init__(self, *, rpm: int, in_flight: int, storage_uri: str = "memory://") -> None:
        self._rpm = rpm
        self._in_flight = in_flight
        self._pool: redis.asyncio.ConnectionPool | None = None
        if storage_uri.startswith("memory://"):
            storage = storage_from_string(f"async+{storage_uri}")
        else:
            # A pool of our own, so the connections close with the gateway.
            self._pool = redis.asyncio.ConnectionPool.from_url(storage_uri)
            storage = storage_from_string(
                f"async+{storage_uri}",
                implementation="redispy",
                connection_pool=self._pool,  # type: ignore[arg-type]
            )
        self._limiter = MovingWindowRateLimiter(storage)  # type: ignore[arg-type]
        self._running: Counter[str] = Counter()

    async def aclose(self) -> None:
        if self._pool is not None:
            await self._pool.aclose()

    def limits_of(self, key: ApiKey) -> tuple[int, int]:
        return key.rpm or self._rpm, key.in_flight or self._in_flight

    async def admit(self, key: ApiKey) -> dict[str, str]:
        """Count one request of ``key``: the RateLimit headers for its answer, or a 429."""
        rpm, _ = self.limits_of(key)
        item = RateLimitItemPerMinute(rpm)
        allowed = await self._limiter.hit(item, "rpm", key.name)
        stats = await self._limiter.get_window_stats(item, "rpm", key.name)
        reset = max(1, math.ceil(stats.reset_time - time.time()))
        headers = {
            "RateLimit-Limit": str(rpm),
            "RateLimit-Remaining": str(stats.remaining),
            "RateLimit-Reset": str(reset),
        }
        if not allowed:
            raise Problem(
                429,
                "Too many requests",
                f"the key {key.name!r} may make {rpm} requests a minute; wait {reset} s",
                headers={**headers, "Retry-After": str(reset)},
            )
        return headers

    @asynccontextmanager
    async def case_study(self, key: ApiKey) -> AsyncIterator[None]:
        """Hold one of ``key``'s places for a case study in flight while the block runs."""
        _, most = self.limits_of(key)
        if self._running[key.name] >= most:
            raise Problem(
                429,
                "Too many case studies in flight",
                f"the key {key.name!r} may have {most} case studies in flight; wait for one "
                "to finish (or cancel one)",
                headers={"Retry-After": str(IN_FLIGHT_RETRY_AFTER_S)},
            )
        self._running[key.name] += 1
        try:
            yield
        finally:
            self._running[key.name] -= 1


class EnforceQuotas:
    """ASGI middleware inside RequireApiKey: counts each keyed request against its key's
    requests per minute and puts the RateLimit headers on the answer."""

    def __init__(self, app: ASGIApp, quotas: Quotas) -> None:
        self.app = app
        self.quotas = quotas

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        key = caller(scope) if scope["type"] == "http" else None
        if key is None:
            await self.app(scope, receive, send)
            return
        try:
            headers = await self.quotas.admit(key)
        except Problem as problem:
            await problem.response(scope.get("path", ""))(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                out = MutableHeaders(scope=message)
                for name, value in headers.items():
                    out.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)
