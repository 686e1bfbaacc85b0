"""The one Redis connection a service holds (redis-py's asyncio client), and how it degrades.

Every service that reads ``REDIS_URL`` connects through :func:`connect`: a short connect and
command timeout and no retry loop of the client's own, so a lost Redis costs a request
milliseconds, not the client's backoff. :class:`RedisLink` wraps each command: a failure is
logged once per outage, reported to readiness, and answered with the caller's fallback; while
Redis is down the link waits ``retry_s`` between tries instead of timing out on every request,
and the first command that succeeds again closes the outage by itself.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

log = logging.getLogger(__name__)
T = TypeVar("T")
# The errors a lost, slow or refusing Redis raises through redis-py.
REDIS_ERRORS: tuple[type[BaseException], ...] = (RedisError, OSError, TimeoutError)


class RedisUnavailable(SystemExit):
    """Redis did not answer at start-up; the process exits with one line naming REDIS_URL."""


def connect(url: str, *, timeout_s: float = 1.0, max_connections: int = 64) -> Redis:
    """A client for ``url`` (``redis://``, ``rediss://`` or ``unix://``); nothing is sent yet.

    Commands beyond ``max_connections`` at once wait for a free connection (up to twice the
    timeout): a burst of jobs queues for a moment instead of failing as "too many connections".
    """
    pool = BlockingConnectionPool.from_url(
        url,
        max_connections=max_connections,
        timeout=2 * timeout_s,
        socket_timeout=timeout_s,
        socket_connect_timeout=timeout_s,
        retry=Retry(NoBackoff(), 0),
        # A pooled connection idle for this long is pinged before use, so one that died with a
        # restarted Redis is replaced instead of failing the command sent on it.
        health_check_interval=10,
    )
    return Redis.from_pool(pool)


async def ping(client: Redis, url: str) -> None:
    """Check that Redis answers; RedisUnavailable (one line naming REDIS_URL) when it does not."""
    try:
        await client.ping()
    except REDIS_ERRORS as exc:
        await client.aclose()
        raise RedisUnavailable(
            f"casecraft: REDIS_URL={redact_url(url)} does not answer ({type(exc).__name__}: "
            f"{exc}); start Redis there, point REDIS_URL at a running one, or unset it to keep "
            "state in memory"
        ) from None


def redact_url(url: str) -> str:
    """``url`` without its password, for logs and errors."""
    scheme, sep, rest = url.partition("://")
    if not sep or "@" not in rest:
        return url
    credentials, _, host = rest.rpartition("@")
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user + ':' if user else ''}***@{host}"


class RedisLink:
    """Runs commands against one client; a failure degrades to the caller's fallback.

    ``on_change(available)`` hears each transition (readiness reports it); ``clock`` for tests.
    """

    def __init__(
        self,
        client: Redis,
        *,
        name: str = "redis",
        retry_s: float = 1.0,
        on_change: Callable[[bool], Awaitable[None]] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.name = name
        self.available = True
        self.on_change = on_change
        self._retry_s = retry_s
        self._clock = clock
        self._down_until = 0.0

    async def run(self, command: Callable[[Redis], Awaitable[T]], fallback: T) -> T:
        """``command(client)``'s answer, or ``fallback`` when Redis is down or fails."""
        if not self.available and self._clock() < self._down_until:
            return fallback
        try:
            answer = await command(self.client)
        except REDIS_ERRORS as exc:
            self._down_until = self._clock() + self._retry_s
            if self.available:
                self.available = False
                log.warning(
                    "redis unavailable; continuing without it",
                    extra={"backend": self.name, "error": f"{type(exc).__name__}: {exc}"},
                )
                await self._notify(False)
            return fallback
        if not self.available:
            self.available = True
            log.info("redis available again", extra={"backend": self.name})
            await self._notify(True)
        return answer

    async def aclose(self) -> None:
        await self.client.aclose()

    async def _notify(self, available: bool) -> None:
        if self.on_change is not None:
            await self.on_change(available)


# The gRPC health entry that says whether this process reaches its Redis. The service's own
# entries stay SERVING while it does not: without Redis the caches miss, every request is answered.
HEALTH_NAME = "casecraft.redis"


async def open_link(url: str, *, name: str) -> RedisLink:
    """A link to the Redis at ``url`` that answered a ping (else RedisUnavailable)."""
    client = connect(url)
    await ping(client, url)
    return RedisLink(client, name=name)


async def report_health(link: RedisLink, health: Any) -> None:
    """Keep ``HEALTH_NAME`` on the gRPC ``health`` servicer in step with ``link``'s state."""
    from grpc_health.v1 import health_pb2

    serving = health_pb2.HealthCheckResponse.SERVING
    not_serving = health_pb2.HealthCheckResponse.NOT_SERVING

    async def on_change(available: bool) -> None:
        await health.set(HEALTH_NAME, serving if available else not_serving)

    link.on_change = on_change
    await on_change(link.available)
