"""The shared Redis connection: bursts queue for a connection, a lost Redis is a fallback that
is retried at most once per window, and URLs lose their password in messages."""

from __future__ import annotations

import asyncio

from casecraft.byte_cache import RedisCache
from casecraft.redis_store import RedisLink, connect, redact_url
from tests.fakes.clock import Clock
from tests.fakes.server import closed_port
from tests.support.redis import delete_prefix, random_prefix, shared_redis


async def test_a_burst_beyond_the_pool_queues_instead_of_failing() -> None:
    url, prefix = await shared_redis(), random_prefix()
    link = RedisLink(connect(url, max_connections=8))
    cache = RedisCache(link, prefix=prefix, ttl_s=60)
    try:
        await cache.set("k", b"value")
        answers = await asyncio.gather(*(cache.get("k") for _ in range(200)))
    finally:
        await link.aclose()
        await delete_prefix(url, prefix)
    assert answers == [b"value"] * 200 and link.available


async def test_a_lost_redis_is_tried_again_once_per_window() -> None:
    clock = Clock()
    changes: list[bool] = []

    async def heard(available: bool) -> None:
        changes.append(available)

    link = RedisLink(
        connect(f"redis://127.0.0.1:{closed_port()}/0"), retry_s=5, on_change=heard, clock=clock
    )
    tried: list[int] = []

    async def command(client: object) -> str:
        tried.append(1)
        return str(await link.client.ping())

    try:
        assert await link.run(command, "fallback") == "fallback"
        assert await link.run(command, "fallback") == "fallback"  # within the window: not tried
        clock.now += 5
        assert await link.run(command, "fallback") == "fallback"
    finally:
        await link.aclose()
    assert (len(tried), changes, link.available) == (2, [False], False)


def test_urls_lose_their_password() -> None:
    assert redact_url("redis://:s3cret@cache:6379/0") == "redis://***@cache:6379/0"
    assert redact_url("rediss://app:s3cret@cache:6380") == "rediss://app:***@cache:6380"
    assert redact_url("redis://cache:6379/0") == "redis://cache:6379/0"
