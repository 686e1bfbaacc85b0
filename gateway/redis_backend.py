"""The gateway's connection to Redis (REDIS_URL): made once at start-up, checked before serving,
and the one place a Redis failure becomes an answer (503, Retry-After, the backend named)."""

from __future__ import annotations

import redis
import redis.asyncio
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import RedisError

from casecraft.errors import ConfigurationError
from casecraft.redis_store import redact_url
from gateway.problems import Problem

REDIS = "redis"
RETRY_AFTER_S = 2
# Short timeouts: a request that needs Redis while it is gone answers 503 in about a second
# instead of hanging; redis-py reconnects by itself on the next command once Redis is back.
CONNECT_TIMEOUT_S = 1.0
SOCKET_TIMEOUT_S = 5.0
# A blocking read (XREAD BLOCK) waits at most this long per call, well inside the socket timeout.
LONGEST_BLOCK_S = 2.0
# Each event stream being followed holds a connection while it waits: they get a pool of their
# own, so followers never starve the commands of running jobs.
FOLLOWER_CONNECTIONS = 1024


def connect(url: str, max_connections: int = 64) -> redis.asyncio.Redis:
    """A client with a connection pool of its own (closed with it) of at most
    ``max_connections``; a command waits for a free connection rather than failing, and a
    couple of quick retries ride out a dropped connection. Values are bytes (images)."""
    pool = redis.asyncio.BlockingConnectionPool.from_url(
        url,
        max_connections=max_connections,
        timeout=SOCKET_TIMEOUT_S,
        socket_connect_timeout=CONNECT_TIMEOUT_S,
        socket_timeout=SOCKET_TIMEOUT_S,
        retry=Retry(ExponentialBackoff(cap=0.2, base=0.02), retries=2),
        health_check_interval=30,
    )
    return redis.asyncio.Redis.from_pool(pool)


def check_reachable(url: str) -> None:
    """Stop the start-up with one line naming REDIS_URL when Redis does not answer."""
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=3)
        try:
            client.ping()
        finally:
            client.close()
    except (RedisError, ValueError, OSError) as exc:
        raise ConfigurationError(
            f"cannot reach Redis at REDIS_URL={redact_url(url)} ({exc}); start Redis, "
            "fix REDIS_URL, or unset it to keep jobs in memory"
        ) from None


def unavailable(error: RedisError) -> Problem:
    """What a request that needed Redis answers while Redis cannot be used."""
    return Problem(
        503,
        "Backend unavailable",
        f"the gateway's shared store (Redis, REDIS_URL) cannot be used right now "
        f"({type(error).__name__}); retry in a few seconds",
        headers={"Retry-After": str(RETRY_AFTER_S)},
        backend=REDIS,
    )
