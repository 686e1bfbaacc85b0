"""A service started as its own process, as a pod starts it, read through its JSON log lines."""

from __future__ import annotations

import asyncio
import json
import os
from collections import deque
from typing import Any

# A bound on each step so a broken service fails the test instead of hanging it; never a wait.
STEP_S = 30.0


class Service:
    """A service process whose stdout carries one JSON object per line."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.tail: deque[str] = deque(maxlen=40)

    @classmethod
    async def spawn(cls, args: list[str], env: dict[str, str]) -> Service:
        inherited = {
            k: v for k, v in os.environ.items() if not k.startswith(("CASECRAFT_", "OTEL_"))
        }
        process = await asyncio.create_subprocess_exec(
            *args,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            env={**inherited, **env, "PYTHONUNBUFFERED": "1"},
        )
        return cls(process)

    async def next_line(self, **expected: Any) -> dict[str, Any]:
        """Read lines until one is a JSON object containing every expected key and value."""
        assert self.process.stdout is not None
        async with asyncio.timeout(STEP_S):
            while line := (await self.process.stdout.readline()).decode():
                self.tail.append(line.rstrip())
                try:
                    entry = json.loads(line)
                except json.JSONDecodeError:
                    continue
                if isinstance(entry, dict) and expected.items() <= entry.items():
                    return entry
        raise AssertionError(f"the process ended before logging {expected}:\n" + self.output())

    async def exit_code(self, within_s: float) -> int:
        assert self.process.stdout is not None
        async with asyncio.timeout(within_s):
            async for line in self.process.stdout:
                self.tail.append(line.decode().rstrip())
            return await self.process.wait()

    def signal(self, number: int) -> None:
        self.process.send_signal(number)

    def output(self) -> str:
        return "\n".join(self.tail)

    async def close(self) -> None:
        if self.process.returncode is None:
            self.process.kill()
            await self.process.wait()
