"""A provider call scripted outcome by outcome."""

from __future__ import annotations

from collections.abc import Awaitable, Callable


def scripted(*outcomes: object) -> tuple[Callable[[], Awaitable[str]], list[int]]:
    """A provider call that raises or returns the next outcome each time it is called."""
    queue = list(outcomes)
    calls = [0]

    async def call() -> str:
        calls[0] += 1
        outcome = queue.pop(0)
        if isinstance(outcome, BaseException):
            raise outcome
        return str(outcome)

    return call, calls
