"""Redis for tests: the machine's shared server with a random key prefix per test, and private
servers a test may stop and start (the shared one is never stopped).

The shared server is ``REDIS_URL`` or ``redis://127.0.0.1:6379/0``; a test that needs it fails,
never skips, when it does not answer.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from redis.asyncio import Redis

from tests.fakes.server import closed_port

SHARED_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"


async def shared_redis() -> str:
    """The shared server's URL, after checking it answers."""
    client = Redis.from_url(SHARED_URL, socket_connect_timeout=2)
    try:
        await client.ping()
    except Exception as exc:
        raise AssertionError(
            f"these tests need Redis at {SHARED_URL} ({type(exc).__name__}: {exc}); start "
            "redis-server or set REDIS_URL"
        ) from None
    finally:
        await client.aclose()
    return SHARED_URL


def random_prefix() -> str:
    return f"casecraft-test:{uuid.uuid4().hex[:12]}:"


async def delete_prefix(url: str, prefix: str) -> None:
    client = Redis.from_url(url)
    try:
        keys = [key async for key in client.scan_iter(match=f"{prefix}*", count=500)]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()


class PrivateRedis:
    """A redis-server of this test's own on a free loopback port; stop and start it at will."""

    def __init__(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise AssertionError("these tests need redis-server on PATH (apt install redis-server)")
        self._binary = binary
        self.port = closed_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        self._process = await asyncio.create_subprocess_exec(
            self._binary,
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--save", "",
            "--appendonly", "no",
            "--daemonize", "no",
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
        assert self._process.stdout is not None
        async with asyncio.timeout(10):
            while b"Ready to accept connections" not in await self._process.stdout.readline():
                if self._process.returncode is not None:
                    raise AssertionError(f"redis-server on port {self.port} did not start")
        # Its later output is not read: drain it so the server never blocks on a full pipe.
        self._drain = asyncio.ensure_future(self._process.stdout.read())

    async def stop(self) -> None:
        if self._process is not None and self._process.returncode is None:
            self._process.terminate()
            await self._process.wait()
            await self._drain
        self._process = None


@asynccontextmanager
async def private_redis() -> AsyncIterator[PrivateRedis]:
    server = PrivateRedis()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()
