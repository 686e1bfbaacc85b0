"""Fixtures that start real servers on 127.0.0.1 port 0 inside the test's event loop."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import grpc
import httpx
import pytest

from casecraft.grpc_server import RunningServer
from gateway.app import create_app
from gateway.settings import GatewaySettings
from image_service import server as image_server
from image_service.providers import ImageProvider
from image_service.settings import ImageSettings
from structurer_service import server as structurer_server
from structurer_service.providers import StructurerProvider
from structurer_service.settings import StructurerSettings


@asynccontextmanager
async def running_structurer(
    provider: StructurerProvider | None = None, **settings: object
) -> AsyncIterator[RunningServer]:
    running = await structurer_server.start(
        StructurerSettings(port=0, shutdown_grace_s=1, **settings),
        provider,  # type: ignore[arg-type]
    )
    try:
        yield running
    finally:
        await running.stop(None)


@asynccontextmanager
async def running_images(
    provider: ImageProvider | None = None, **settings: object
) -> AsyncIterator[RunningServer]:
    running = await image_server.start(
        ImageSettings(port=0, shutdown_grace_s=1, **settings),
        provider,  # type: ignore[arg-type]
    )
    try:
        yield running
    finally:
        await running.stop(None)


@asynccontextmanager
async def gateway_client(
    structurer_port: int, image_port: int, **settings: object
) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client wired to a gateway app (lifespan run) that talks to the given backends."""
    app = create_app(
        GatewaySettings(
            structurer_target=f"127.0.0.1:{structurer_port}",
            image_target=f"127.0.0.1:{image_port}",
            **settings,  # type: ignore[arg-type]
        )
    )
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
            yield client


@asynccontextmanager
async def stack(
    structurer: StructurerProvider | None = None,
    images: ImageProvider | None = None,
    **gateway_settings: object,
) -> AsyncIterator[httpx.AsyncClient]:
    """Structurer, image service and gateway in this process, on loopback ports."""
    async with (
        running_structurer(structurer) as s,
        running_images(images) as i,
        gateway_client(s.port, i.port, **gateway_settings) as client,
    ):
        yield client


@pytest.fixture
def channel_to() -> Callable[[int], grpc.aio.Channel]:
    def make(port: int) -> grpc.aio.Channel:
        return grpc.aio.insecure_channel(f"127.0.0.1:{port}")

    return make
