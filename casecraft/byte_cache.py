"""Bounded byte caches: one in process memory (LRU by bytes), one in Redis (TTL per entry).

Both services cache answers they paid for under a key that hashes everything that determines
the answer; the values are serialized protobuf messages. A cache never fails its caller: a Redis
that is lost answers every lookup with a miss (``casecraft.redis_store.RedisLink``).
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Protocol

from casecraft.redis_store import RedisLink


class ByteCache(Protocol):
    """Values by key; ``get`` answers None for a miss, ``set`` may drop what does not fit."""

    async def get(self, key: str) -> bytes | None: ...

    async def set(self, key: str, value: bytes) -> None: ...


class MemoryCache:
    """Least recently used entries leave first once the values exceed ``max_bytes``."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.bytes = 0
        self._entries: OrderedDict[str, bytes] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    async def get(self, key: str) -> bytes | None:
        value = self._entries.get(key)
        if value is not None:
            self._entries.move_to_end(key)
        return value

    async def set(self, key: str, value: bytes) -> None:
        old = self._entries.pop(key, None)
        if old is not None:
            self.bytes -= len(old)
        if len(value) > self.max_bytes:
            return  # one value past the whole budget would evict everything and then itself
        self._entries[key] = value
        self.bytes += len(value)
        while self.bytes > self.max_bytes:
            _, evicted = self._entries.popitem(last=False)
            self.bytes -= len(evicted)


class RedisCache:
    """Entries under ``prefix`` with a TTL each; Redis's own maxmemory policy bounds the bytes.

    A read refreshes the entry's TTL, so what is used stays and what is not expires.
    """

    def __init__(self, link: RedisLink, *, prefix: str, ttl_s: float) -> None:
        self.link = link
        self.prefix = prefix
        self._ttl_ms = max(1, int(ttl_s * 1000))

    def key(self, key: str) -> str:
        return self.prefix + key

    async def get(self, key: str) -> bytes | None:
        value = await self.link.run(lambda r: r.getex(self.key(key), px=self._ttl_ms), None)
        return value if isinstance(value, bytes) else None

    async def set(self, key: str, value: bytes) -> None:
        await self.link.run(lambda r: r.set(self.key(key), value, px=self._ttl_ms), None)
