"""Fixtures that start real servers on 127.0.0.1 port 0 inside the test's event loop."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager

import grpc
import httpx
import pytest
import redis

from casecraft.grpc_server import RunningServer
from gateway.app import create_app
from gateway.settings import GatewaySettings
from image_service import server as image_server
from image_service.providers import ImageProvider
from image_service.settings import ImageSettings
from structurer_service import server as structurer_server
from structurer_service.providers import StructurerProvider
from structurer_service.settings import StructurerSettings

# The Redis the tests use: REDIS_URL or the one on this machine. A test that needs it fails, never
# skips, when it is missing (the connection error names the URL).
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379")


@pytest.fixture(autouse=True)
def _gateways_keep_jobs_in_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    """A REDIS_URL in the test run's environment is for the tests that ask for it (below)."""
    monkeypatch.delenv("REDIS_URL", raising=False)


@pytest.fixture(params=["memory", "redis"])
def job_backend(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, redis_prefix: str
) -> str:
    """Run the test once with the gateway's jobs in memory and once in Redis (under a key prefix
    of its own): every gateway the test starts reads these variables."""
    if request.param == "redis":
        client = redis.Redis.from_url(REDIS_URL)
        try:
            client.ping()
        except redis.RedisError as error:
            pytest.fail(f"these tests need Redis at REDIS_URL={REDIS_URL}: {error}")
        finally:
            client.close()
        monkeypatch.setenv("REDIS_URL", REDIS_URL)
        monkeypatch.setenv("CASECRAFT_REDIS_KEY_PREFIX", redis_prefix)
    return str(request.param)


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    """A key prefix of the test's own on the shared Redis (REDIS_URL), removed afterwards."""
    prefix = f"casecraft-test:{uuid.uuid4().hex}:"
    yield prefix
    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
    if keys:
        client.delete(*keys)
    client.close()


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
        await running.server.stop(None)


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
        await running.server.stop(None)


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
