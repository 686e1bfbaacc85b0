"""A ceiling on expensive work: so many at once, so many more waiting, the rest refused at once.

The gateway puts one in front of its case studies and the structurer one in front of its LLM
calls. Past both limits a new piece of work raises ``Overloaded`` straight away (each service
answers it with 503 / UNAVAILABLE and a Retry-After), instead of joining a queue that only grows
while every caller in it times out.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

RETRY_AFTER_S = 2


class Overloaded(Exception):
    """Refused: the ceiling and the queue behind it are full."""

    def __init__(self, what: str, limit: int) -> None:
        super().__init__(f"{what} is at its limit of {limit:,}; try again in {RETRY_AFTER_S} s")
        self.limit = limit
        self.retry_after_s = RETRY_AFTER_S


class Admission:
    def __init__(self, what: str, *, max_in_flight: int, max_queued: int) -> None:
        self._what = what
        self._slots = asyncio.Semaphore(max_in_flight)
        self._limit = max_in_flight + max_queued
        self._admitted = 0

    @property
    def admitted(self) -> int:
        """Running and waiting now."""
        return self._admitted

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Run the block in one of the places (waiting for one when all are taken); raise
        ``Overloaded`` at once when the waiting room is full too."""
        if self._admitted >= self._limit:
            raise Overloaded(self._what, self._limit)
        self._admitted += 1
        try:
            async with self._slots:
                yield
        finally:
            self._admitted -= 1
