"""Start-up of the image service: settings, providers, servicer, serve until SIGTERM."""

from __future__ import annotations

import asyncio

import grpc

from casecraft.grpc_server import RunningServer, serve_until_signalled, start_server
from casecraft.jsonlog import configure_logging
from casecraft.telemetry import configure_tracing
from casecraft.v1 import image_pb2, image_pb2_grpc
from image_service.providers import ImageProvider
from image_service.providers.registry import build_chain
from image_service.servicer import SERVICE, ImageServicer
from image_service.settings import ImageSettings

SERVICE_NAME = image_pb2.DESCRIPTOR.services_by_name["ImageGenerator"].full_name


async def start(settings: ImageSettings, provider: ImageProvider | None = None) -> RunningServer:
    """Start the service; ``provider`` replaces the configured chain (tests inject fakes here)."""
    configure_tracing(SERVICE)
    chosen = provider if provider is not None else build_chain(settings)[0]
    servicer = ImageServicer(
        chosen, concurrency=settings.concurrency, job_timeout_s=settings.job_timeout_s
    )

    def register(server: grpc.aio.Server) -> list[str]:
        image_pb2_grpc.add_ImageGeneratorServicer_to_server(servicer, server)
        return [SERVICE_NAME]

    return await start_server(settings, register)


async def main() -> None:
    settings = ImageSettings()
    configure_logging(SERVICE, settings.log_level)
    running = await start(settings)
    await serve_until_signalled(running, SERVICE)


def run() -> None:
    asyncio.run(main())
