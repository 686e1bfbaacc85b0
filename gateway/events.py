"""A job's event log: numbered events a client can replay from the start or resume after an id.

The log is a Protocol with an in-memory implementation; a shared backend (Redis streams) fits
the same four calls, which is why events are plain JSON-able data and waiting is a call of its own.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

import orjson

TERMINAL = frozenset({"done", "failed", "cancelled"})


@dataclass(frozen=True)
class Event:
    """One server-sent event of a job: ``id`` counts from 1 per job; ``data`` is its JSON object
    as text, as the stream sends it (kept as one string: a thousand kept jobs' events would
    otherwise be a million small objects for the garbage collector to walk)."""

    id: int
    type: str
    data: str

    def size(self) -> int:
        return len(self.data) + len(self.type) + 16


class EventLog(Protocol):
    """Where a job's events are kept, in order."""

    async def append(self, job_id: str, type: str, data: dict[str, Any]) -> Event:
        """Add an event after the job's last one and wake whoever waits for it."""
        ...

    async def read(self, job_id: str, after: int = 0) -> list[Event]:
        """The job's events with an id above ``after``, oldest first."""
        ...

    async def wait(self, job_id: str, after: int, timeout_s: float) -> None:
        """Return once the job has an event above ``after``, or after ``timeout_s``."""
        ...

    async def delete(self, job_id: str) -> None:
        """Forget the job's events (it expired or was evicted)."""
        ...

    def size_bytes(self) -> int:
        """Roughly how much memory the events hold."""
        ...


class MemoryEventLog:
    """Events in this process's memory; waiters are woken by one Condition per job, made when
    someone first waits (most jobs, the synchronous ones, are never followed)."""

    def __init__(self) -> None:
        self._events: dict[str, list[Event]] = {}
        self._changed: dict[str, asyncio.Condition] = {}
        self._job_bytes: dict[str, int] = {}
        self._bytes = 0

    async def append(self, job_id: str, type: str, data: dict[str, Any]) -> Event:
        events = self._events.get(job_id)
        if events is None:
            events = self._events[job_id] = []
        event = Event(len(events) + 1, type, orjson.dumps(data).decode())
        events.append(event)
        size = event.size()
        self._job_bytes[job_id] = self._job_bytes.get(job_id, 0) + size
        self._bytes += size
        condition = self._changed.get(job_id)
        if condition is not None:
            async with condition:
                condition.notify_all()
        return event

    async def read(self, job_id: str, after: int = 0) -> list[Event]:
        return self._events.get(job_id, [])[max(after, 0) :]

    async def wait(self, job_id: str, after: int, timeout_s: float) -> None:
        condition = self._changed.get(job_id)
        if condition is None:
            condition = self._changed[job_id] = asyncio.Condition()
        async with condition:
            try:
                await asyncio.wait_for(
                    condition.wait_for(lambda: len(self._events.get(job_id, [])) > after),
                    timeout_s,
                )
            except TimeoutError:
                return

    async def delete(self, job_id: str) -> None:
        self._events.pop(job_id, None)
        self._bytes -= self._job_bytes.pop(job_id, 0)
        self._changed.pop(job_id, None)

    def size_bytes(self) -> int:
        return self._bytes


async def follow(
    log: EventLog,
    job_id: str,
    after: int,
    *,
    idle_s: float = 30.0,
    idle: Callable[[], Awaitable[None]] | None = None,
) -> AsyncIterator[Event]:
    """The job's events after ``after``, then each new one as it comes, ending after a terminal
    event (done, failed, cancelled) that is the last of the log. An ``after`` that is not one of
    the job's ids gives the whole history. ``idle`` runs after each wait (it may end the job)."""
    known = await log.read(job_id)
    if not 0 < after <= len(known):
        after = 0
    while True:
        events = await log.read(job_id, after)
        for event in events:
            yield event
            after = event.id
        if events and events[-1].type in TERMINAL:
            return
        await log.wait(job_id, after, idle_s)
        if idle is not None:
            await idle()
        if after and not await log.read(job_id, after - 1):
            return  # the job expired or was evicted meanwhile
