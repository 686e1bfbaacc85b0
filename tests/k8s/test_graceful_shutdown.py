"""A pod's end, for real: SIGTERM to a running service while a request is in flight.

The service stops being ready, finishes the request, and exits 0 within its grace. Requests are
held open by providers that wait for the test's word, so nothing sleeps.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import httpx
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from casecraft.grpc_server import RunningServer
from casecraft.v1 import case_study_pb2, image_pb2, image_pb2_grpc, structurer_pb2
from image_service import server as image_server
from image_service.providers import GeneratedImage
from image_service.settings import ImageSettings
from structurer_service import server as structurer_server
from structurer_service.providers import Draft, Structured
from structurer_service.settings import StructurerSettings
from tests.support.processes import STEP_S, Service
from tests.support.providers import next_result

HERE = Path(__file__).resolve().parent
GRACE_S = 30.0
PNG = b"\x89PNG\r\n\x1a\n" + b"instant"
SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


@pytest.fixture
async def services() -> AsyncIterator[list[Service]]:
    started: list[Service] = []
    yield started
    for service in started:
        await service.close()


async def test_image_service_drains_its_in_flight_job_and_exits_0(
    services: list[Service],
) -> None:
    service = await Service.spawn(
        [sys.executable, str(HERE / "held_image_service.py")],
        {
            "CASECRAFT_IMAGE_HOST": "127.0.0.1",
            "CASECRAFT_IMAGE_PORT": "0",
            "CASECRAFT_IMAGE_METRICS_PORT": "0",
            "CASECRAFT_IMAGE_SHUTDOWN_GRACE_S": str(GRACE_S),
        },
    )
    services.append(service)
    address = f"127.0.0.1:{(await service.next_line(event='serving'))['port']}"

    async with grpc.aio.insecure_channel(address) as channel:
        watch = health_pb2_grpc.HealthStub(channel).Watch(health_pb2.HealthCheckRequest())
        assert (await watch.read()).status == SERVING
        call = image_pb2_grpc.ImageGeneratorStub(channel).Generate()
        hero = image_pb2.HeroData(client_name="Acme", industry="Logistics", title="T", subtitle="S")
        await call.write(image_pb2.ImageJobs(jobs=[image_pb2.ImageJob(job_id="hero-1", hero=hero)]))
        await call.done_writing()
        await service.next_line(event="job_held")

        service.signal(signal.SIGTERM)
        assert (await watch.read()).status == NOT_SERVING
        # Having said so, the watch ends, so the drain waits for the job only, not the grace.
        assert await watch.read() == grpc.aio.EOF
        assert await watch.code() == grpc.StatusCode.OK
        async with grpc.aio.insecure_channel(address) as prober:
            # What the kubelet's readiness probe sees now: not SERVING, or no answer at all.
            try:
                reply = await health_pb2_grpc.HealthStub(prober).Check(
                    health_pb2.HealthCheckRequest(), timeout=STEP_S
                )
            except grpc.aio.AioRpcError as error:
                assert error.code() == grpc.StatusCode.UNAVAILABLE
            else:
                assert reply.status == NOT_SERVING

        service.signal(signal.SIGUSR1)  # the held job may finish now
        result = await next_result(call)
        assert result.job_id == "hero-1"
        assert result.status == image_pb2.IMAGE_STATUS_OK, result.error
        assert result.image == b"\x89PNG\r\n\x1a\nheld"
        assert await call.read() == grpc.aio.EOF
        assert await call.code() == grpc.StatusCode.OK

    assert await service.exit_code(within_s=GRACE_S) == 0, service.output()
    assert '"stopped"' in service.output()


class HeldStructurer:
    """Writes the case study only when the test says so."""

    name = "held"

    def __init__(self) -> None:
        self.started = asyncio.Event()
        self.release = asyncio.Event()

    async def structure(self, notes: str, *, fast: bool) -> AsyncIterator[Draft | Structured]:
        self.started.set()
        await self.release.wait()
        yield Structured(
            case_study=case_study_pb2.CaseStudy(
                client_name="Acme", industry="Logistics", title="Faster", subtitle="Docks"
            ),
            usage=structurer_pb2.Usage(provider="held", model="held"),
        )


class InstantImages:
    name = "instant"

    async def generate(self, job: image_pb2.ImageJob) -> GeneratedImage:
        return GeneratedImage(PNG, "image/png", 1, 1, "instant")


@pytest.fixture
async def backends() -> AsyncIterator[tuple[HeldStructurer, RunningServer, RunningServer]]:
    held = HeldStructurer()
    structurer = await structurer_server.start(
        StructurerSettings(host="127.0.0.1", port=0), provider=held
    )
    images = await image_server.start(
        ImageSettings(host="127.0.0.1", port=0), provider=InstantImages()
    )
    yield held, structurer, images
    held.release.set()
    await asyncio.gather(structurer.server.stop(None), images.server.stop(None))


async def test_gateway_stops_accepting_finishes_its_open_request_and_exits_0(
    services: list[Service],
    backends: tuple[HeldStructurer, RunningServer, RunningServer],
) -> None:
    held, structurer, images = backends
    gateway = await Service.spawn(
        [sys.executable, "-m", "gateway"],
        {
            "CASECRAFT_GATEWAY_HOST": "127.0.0.1",
            "CASECRAFT_GATEWAY_PORT": "0",
            "CASECRAFT_STRUCTURER_TARGET": f"127.0.0.1:{structurer.port}",
            "CASECRAFT_IMAGE_TARGET": f"127.0.0.1:{images.port}",
            "CASECRAFT_SHUTDOWN_GRACE_S": str(GRACE_S),
        },
    )
    services.append(gateway)
    url = f"http://127.0.0.1:{(await gateway.next_line(event='serving'))['port']}"

    async with httpx.AsyncClient(base_url=url, timeout=STEP_S) as client:
        assert (await client.get("/readyz")).status_code == 200
        request = asyncio.create_task(
            client.post("/v1/case-studies", json={"notes": "Acme, docks", "components": ["hero"]})
        )
        async with asyncio.timeout(STEP_S):
            await held.started.wait()

        gateway.signal(signal.SIGTERM)
        await gateway.next_line(message="Waiting for connections to close. (CTRL+C to force quit)")
        async with httpx.AsyncClient(base_url=url, timeout=STEP_S) as newcomer:
            with pytest.raises(httpx.ConnectError):
                await newcomer.get("/healthz")

        held.release.set()
        response = await request
        assert response.status_code == 200, response.text
        (image,) = response.json()["images"]
        assert (image["component"], image["status"]) == ("hero", "ok")

    assert await gateway.exit_code(within_s=GRACE_S) == 0, gateway.output()
