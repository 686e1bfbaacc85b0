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
from tests.support.redis import SHARED_URL, delete_prefix, random_prefix, shared_redis

# The Redis the tests use: REDIS_URL or the one on this machine (tests/support/redis.py).
REDIS_URL = SHARED_URL


@pytest.fixture(autouse=True)
def _gateways_keep_jobs_in_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    """A REDIS_URL in the test run's environment is for the tests that ask for it (below)."""
    monkeypatch.delenv("REDIS_URL", raising=False)


@pytest.fixture(params=["memory", "redis"])
async def job_backend(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, redis_prefix: str
) -> str:
    """Run the test once with the gateway's jobs in memory and once in Redis (under a key prefix
    of its own; a missing Redis fails the test, never skips it): every gateway the test starts
    reads these variables."""
    if request.param == "redis":
        monkeypatch.setenv("REDIS_URL", await shared_redis())
        # The services' caches read REDIS_URL too: under the same prefix, so nothing a test
        # caches reaches another test.
        for service in ("", "STRUCTURER_", "IMAGE_"):
            monkeypatch.setenv(f"CASECRAFT_{service}REDIS_PREFIX", redis_prefix)
    return str(request.param)


@pytest.fixture
async def redis_prefix() -> AsyncIterator[str]:
    """A key prefix of the test's own on the shared Redis, removed afterwards."""
    prefix = random_prefix()
    yield prefix
    await delete_prefix(REDIS_URL, prefix)


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
