"""Time that tests control: a sleep that records and returns at once, and a settable clock."""

from __future__ import annotations


class Sleeps:
    """An injectable ``sleep`` that records each wait and returns at once."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


class Clock:
    """An injectable monotonic clock; move it with ``now += seconds``."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now
