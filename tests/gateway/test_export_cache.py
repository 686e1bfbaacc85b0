"""The export cache: kept by key within a byte budget, least recently used out first, one
rendering shared by concurrent requests, failures never kept."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from casecraft.exports import Export
from gateway.export_cache import ExportCache


class Renders:
    """Makes exports of a given size, counting the renderings; can hold them until released."""

    def __init__(self, *, hold: bool = False, fail: bool = False) -> None:
        self.count = 0
        self.release = asyncio.Event()
        self.started = asyncio.Event()
        if not hold:
            self.release.set()
        self.fail = fail

    def of(self, data: bytes) -> Callable[[], Awaitable[Export]]:
        async def make() -> Export:
            self.count += 1
            self.started.set()
            await self.release.wait()
            if self.fail:
                raise ValueError("the renderer failed")
            return Export(data, "text/plain", "x.txt")

        return make


async def test_an_export_is_made_once_then_served_from_the_cache() -> None:
    cache, renders = ExportCache(100), Renders()
    first = await cache.get(("job", 1, "md"), renders.of(b"one"))
    again = await cache.get(("job", 1, "md"), renders.of(b"other"))
    newer = await cache.get(("job", 2, "md"), renders.of(b"two"))
    assert (first.data, again.data, newer.data, renders.count) == (b"one", b"one", b"two", 2)


async def test_concurrent_requests_share_one_rendering_even_when_one_leaves() -> None:
    cache, renders = ExportCache(100), Renders(hold=True)
    leaving = asyncio.create_task(cache.get("k", renders.of(b"pdf")))
    staying = asyncio.create_task(cache.get("k", renders.of(b"pdf")))
    await renders.started.wait()
    leaving.cancel()
    renders.release.set()
    assert (await staying).data == b"pdf"
    assert leaving.cancelled() and renders.count == 1 and len(cache) == 1


async def test_a_failure_reaches_every_waiter_and_is_not_kept() -> None:
    cache, renders = ExportCache(100), Renders(hold=True, fail=True)
    waiting = [asyncio.create_task(cache.get("k", renders.of(b"x"))) for _ in range(2)]
    await renders.started.wait()
    renders.release.set()
    for task in waiting:
        with pytest.raises(ValueError, match="the renderer failed"):
            await task
    renders.fail = False
    assert (await cache.get("k", renders.of(b"x"))).data == b"x"
    assert renders.count == 2


async def test_the_least_recently_used_go_first_and_the_budget_holds() -> None:
    cache, renders = ExportCache(10), Renders()
    for key in ("a", "b"):
        await cache.get(key, renders.of(b"1234"))
    await cache.get("a", renders.of(b"1234"))  # a is now the most recently used
    await cache.get("c", renders.of(b"1234"))
    assert cache.size_bytes() == 8 and len(cache) == 2
    await cache.get("a", renders.of(b"1234"))
    assert renders.count == 3  # a was kept
    await cache.get("b", renders.of(b"1234"))
    assert renders.count == 4  # b was dropped
    for _ in range(2):
        await cache.get("big", renders.of(b"x" * 11))  # over the budget alone: never kept
    assert renders.count == 6 and cache.size_bytes() == 8


async def test_a_budget_of_zero_keeps_nothing() -> None:
    cache, renders = ExportCache(0), Renders()
    await cache.get("k", renders.of(b"x"))
    await cache.get("k", renders.of(b"x"))
    assert renders.count == 2 and len(cache) == 0
