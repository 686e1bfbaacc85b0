"""A client that disconnects cancels the work it started, upstream included."""

from __future__ import annotations

import asyncio

import httpx

from gateway.server import bind, build_server
from gateway.settings import GatewaySettings
from tests.conftest import running_images, running_structurer
from tests.support.providers import RecordingImages, ScriptedStructurer


async def test_disconnect_cancels_structuring_and_images() -> None:
    structurer = ScriptedStructurer(hold_after=1)
    images = RecordingImages(hold=True)
    async with running_structurer(structurer) as s, running_images(images) as i:
        settings = GatewaySettings(
            gateway_port=0,
            structurer_target=f"127.0.0.1:{s.port}",
            image_target=f"127.0.0.1:{i.port}",
            shutdown_grace_s=1,
        )
        sock = bind(settings)
        server = build_server(settings)
        serving = asyncio.create_task(server.serve(sockets=[sock]))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        async with httpx.AsyncClient(base_url=url, timeout=30) as client:
            request = asyncio.create_task(client.post("/v1/case-studies", json={"notes": "n"}))
            await structurer.held.wait()
            await images.started.get()  # the hero image is being generated
            request.cancel()  # the client goes away mid-request
        await structurer.cancelled.wait()
        await images.cancelled.wait()
        server.should_exit = True
        await serving
    assert not structurer.finished
