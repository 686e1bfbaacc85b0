"""The event loop every casecraft process runs on: uvloop where it is installed, else asyncio's;
and whether the running task is being cancelled."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's loop factory (faster sockets, timers and callbacks), or None for asyncio's own."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def run(main: Coroutine[Any, Any, T]) -> T:
    """Run ``main`` to completion on a new loop, as ``asyncio.run`` does."""
    with asyncio.Runner(loop_factory=loop_factory()) as runner:
        return runner.run(main)


def cancel_requested() -> bool:
    """Whether the running task was asked to cancel and has not ended: true also when the
    CancelledError did not arrive (on Python 3.11 ``asyncio.wait_for``, inside redis-py's
    commands, drops one that comes as its command completes) or arrived as another error (a
    connection closed by the cancellation can raise its own)."""
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0
