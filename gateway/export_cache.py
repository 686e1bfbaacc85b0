"""Rendered exports kept for a while: a small LRU, with one rendering shared by every request
that asks for the same export while it is being made."""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable

from casecraft.exports import Export


class ExportCache:
    """At most ``budget_bytes`` of exports, least recently used out first (0 keeps none).

    The key says what the export was made from (the job, its version, the format and the
    options), so an entry never goes stale: an edit makes a new version, hence a new key.
    """

    def __init__(self, budget_bytes: int) -> None:
        self.budget_bytes = budget_bytes
        self._kept: OrderedDict[Hashable, Export] = OrderedDict()
        self._making: dict[Hashable, asyncio.Future[Export]] = {}
        self._bytes = 0

    async def get(self, key: Hashable, make: Callable[[], Awaitable[Export]]) -> Export:
        """The export under ``key``: kept, being made for another request, or made now."""
        kept = self._kept.get(key)
        if kept is not None:
            self._kept.move_to_end(key)
            return kept
        making = self._making.get(key)
        if making is None:
            making = asyncio.ensure_future(make())
            self._making[key] = making
            making.add_done_callback(lambda done: self._made(key, done))
        # A client that leaves does not cancel a rendering other requests may be waiting for.
        return await asyncio.shield(making)

    def size_bytes(self) -> int:
        return self._bytes

    def __len__(self) -> int:
        return len(self._kept)

    def _made(self, key: Hashable, done: asyncio.Future[Export]) -> None:
        del self._making[key]
        # Failures are not kept (a problem is raised to each waiting request); reading the
        # exception here also keeps asyncio from reporting it when nobody waits any more.
        if done.cancelled() or done.exception() is not None:
            return
        export = done.result()
        if len(export.data) > self.budget_bytes:
            return
        self._kept[key] = export
        self._bytes += len(export.data)
        while self._bytes > self.budget_bytes:
            _, dropped = self._kept.popitem(last=False)
            self._bytes -= len(dropped.data)
