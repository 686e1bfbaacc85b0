"""Serve an ASGI app on 127.0.0.1, port 0: in the caller's event loop, or in a thread of its own.

    async with serve(app) as base_url:         # inside a test's event loop
        ...
    with serve_in_thread(app) as base_url:     # from synchronous code (bench/, the CLI demo)
        ...

``base_url`` is ``http://127.0.0.1:<port>`` without a trailing slash. Fakes that hang should wait on
something they release when the server stops (see ``Faults`` in the fakes) so shutdown is quick.
Raise ``DropConnection`` inside an app, after the response started, to cut the connection.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager

import uvicorn
from starlette.types import ASGIApp


class DropConnection(Exception):
    """Raised by a fake to make the server close the connection mid-response."""


class _QuietDrops(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, DropConnection)


logging.getLogger("uvicorn.error").addFilter(_QuietDrops())


def closed_port() -> int:
    """A loopback port nothing listens on (bound for a moment, then closed): a refused connection."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _bound_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    sock.setblocking(False)
    return sock


@asynccontextmanager
async def serve(app: ASGIApp) -> AsyncIterator[str]:
    """Run ``app`` in the running event loop until the block exits; yield its base URL."""
    sock = _bound_socket()
    config = uvicorn.Config(app, lifespan="off", log_level="warning", timeout_graceful_shutdown=1)
    config.load()
    server = uvicorn.Server(config)
    server.lifespan = config.lifespan_class(config)
    await server.startup(sockets=[sock])
    port = sock.getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await server.shutdown(sockets=[sock])


@contextmanager
def serve_in_thread(app: ASGIApp) -> Iterator[str]:
    """Run ``app`` in a daemon thread with its own event loop; yield its base URL."""
    ready = threading.Event()
    url: list[str] = []
    stop: list[asyncio.Event] = []
    loop_box: list[asyncio.AbstractEventLoop] = []

    async def main() -> None:
        try:
            async with serve(app) as base_url:
                stop.append(asyncio.Event())
                loop_box.append(asyncio.get_running_loop())
                url.append(base_url)
                ready.set()
                await stop[0].wait()
        finally:
            ready.set()

    thread = threading.Thread(target=asyncio.run, args=(main(),), daemon=True)
    thread.start()
    ready.wait()
    if not url:
        thread.join()
        raise RuntimeError("the fake server did not start")
    try:
        yield url[0]
    finally:
        loop_box[0].call_soon_threadsafe(stop[0].set)
        thread.join()
