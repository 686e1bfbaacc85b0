"""One upstream call for identical jobs in flight at the same moment.

Within a process, :class:`Flights` runs one task per key and lets every caller await it behind a
shield: a caller that leaves (cancelled, timed out) does not cancel the call while another still
waits for it, and the image then still reaches the cache. When the last caller leaves, nobody
wants the image any more and the call is cancelled, as a cancelled job's provider calls are.

Across processes, :class:`RedisLocks` gives one replica the key (``SET NX`` with a TTL); the others
wait for its ``PUBLISH``, then read the image from the shared cache. The wait is bounded: when the
holder fails, dies (its lock expires) or Redis is lost, a waiter makes the image itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

from redis.asyncio.client import PubSub

from casecraft.redis_store import REDIS_ERRORS, RedisLink

log = logging.getLogger(__name__)
T = TypeVar("T")
V = TypeVar("V")

# Deletes the lock only while it is still ours: an expired lock re-taken by another replica stays.
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  redis.call('del', KEYS[1])
  return redis.call('publish', KEYS[2], ARGV[2])
end
return 0
"""


class Flights(Generic[T]):
    """Calls in flight by key; the first caller of a key starts it, later ones join it."""

    def __init__(self) -> None:
        self._tasks: dict[str, asyncio.Task[T]] = {}
        self._ending: set[asyncio.Task[T]] = set()  # cancelled with no caller left, not yet ended
        self._callers: Counter[str] = Counter()
        self._joins = asyncio.Condition()

    def __len__(self) -> int:
        return len(self._tasks)

    async def until_callers(self, key: str, count: int) -> None:
        """Return once ``count`` callers wait for ``key``'s call (for tests and benchmarks)."""
        async with self._joins:
            await self._joins.wait_for(lambda: self._callers[key] >= count)

    async def run(self, key: str, call: Callable[[], Awaitable[T]]) -> tuple[T, bool]:
        """``call()``'s result, shared by every caller of ``key`` meanwhile; and whether this
        caller joined a call another caller started. The call is cancelled when every caller
        has left before it ended."""
        task = self._tasks.get(key)
        joined = task is not None
        if task is None:
            task = self._tasks[key] = asyncio.ensure_future(call())
            task.add_done_callback(lambda done: self._forget(key, done))
        self._callers[key] += 1
        try:
            async with self._joins:
                self._joins.notify_all()
            return await asyncio.shield(task), joined
        finally:
            self._callers[key] -= 1
            if not self._callers[key]:
                del self._callers[key]
                if not task.done():
                    # The last caller left: the call is nobody's. A caller arriving from now on
                    # starts a call of its own rather than join one being cancelled.
                    task.cancel()
                    self._forget(key, task)
                    self._ending.add(task)
                    task.add_done_callback(self._ending.discard)

    async def aclose(self) -> None:
        """Cancel the calls still in flight and wait for them to end (the service is stopping:
        their callers are gone, and what they hold, such as a Redis lock, is given back)."""
        tasks = [*self._tasks.values(), *self._ending]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _forget(self, key: str, task: asyncio.Task[T]) -> None:
        if self._tasks.get(key) is task:
            del self._tasks[key]
        if task.done() and not task.cancelled():
            task.exception()  # retrieved: a failure nobody awaited any more is not logged as lost


class RedisLocks:
    """A lock per key shared by the replicas, and a bounded wait for the holder's result."""

    def __init__(
        self, link: RedisLink, *, prefix: str, lock_ttl_s: float, wait_s: float, poll_s: float = 1.0
    ) -> None:
        self.link = link
        self.prefix = prefix
        self._ttl_ms = max(1, int(lock_ttl_s * 1000))
        self._wait_s = wait_s
        self._poll_s = poll_s

    async def claim(
        self, key: str, read: Callable[[], Awaitable[V | None]]
    ) -> tuple[V | None, str]:
        """Either the result another replica made (``read()``'s answer), or the token of this
        replica's hold on ``key`` ("" when it makes the result without one: the holder failed,
        ``wait_s`` passed, or Redis was lost). While the holder gives ``key`` up unmade (nobody
        wanted it any more, or it died and its lock expired), the waiters compete for it again,
        so one of them makes it and the others wait for that one."""
        try:
            async with asyncio.timeout(self._wait_s):
                while True:
                    token = await self.acquire(key)
                    if token is not None:
                        return None, token
                    found, outcome = await self._wait(key, read)
                    if found is not None or outcome == "failed":
                        return found, ""
        except TimeoutError:
            log.info("waited for another replica's image too long; making it here")
        except REDIS_ERRORS:
            pass
        return None, ""

    async def acquire(self, key: str) -> str | None:
        """A token when this replica holds ``key`` (or Redis is lost: then each makes its own);
        None when another replica holds it."""
        token = uuid.uuid4().hex
        try:
            won: object = await self.link.run(
                lambda r: r.set(self._lock(key), token, nx=True, px=self._ttl_ms), True
            )
        except asyncio.CancelledError:
            # The SET may have reached Redis before the cancellation: a lock nobody holds would
            # keep every replica waiting for its TTL. Give it back if it is ours.
            await self.release(key, token, outcome="abandoned")
            raise
        return token if won else None

    async def release(self, key: str, token: str, *, outcome: str) -> None:
        """Give ``key`` up and tell the waiters the ``outcome``: "made" (the result is in the
        cache), "failed" (making it failed) or "abandoned" (nobody wanted it any more)."""
        await self.link.run(
            lambda r: r.eval(_RELEASE, 2, self._lock(key), self._channel(key), token, outcome),
            0,
        )

    async def _wait(
        self, key: str, read: Callable[[], Awaitable[V | None]]
    ) -> tuple[V | None, str]:
        """``read()``'s answer once the holder of ``key`` is done, and how it ended ("failed",
        or "released" when it gave the key up with no result in the cache)."""
        pubsub: PubSub = self.link.client.pubsub()
        try:
            await pubsub.subscribe(self._channel(key))
            # Subscribed first, then read: a result published before the subscription is found
            # by the read, one published after it by the subscription.
            while True:
                found = await read()
                if found is not None:
                    return found, "made"
                if not await self.link.client.exists(self._lock(key)):
                    # Released (or expired) meanwhile: made or not.
                    return await read(), "released"
                message = await pubsub.get_message(
                    ignore_subscribe_messages=True, timeout=self._poll_s
                )
                if message is not None and message.get("data") == b"failed":
                    return None, "failed"
        finally:
            with contextlib.suppress(*REDIS_ERRORS):
                await pubsub.aclose()

    def _lock(self, key: str) -> str:
        return f"{self.prefix}lock:{key}"

    def _channel(self, key: str) -> str:
        return f"{self.prefix}done:{key}"
