"""Start-up of the image service: settings, providers, servicer, serve until SIGTERM."""

from __future__ import annotations

from collections.abc import Sequence

import grpc

from casecraft import eventloop
from casecraft.components import NAMES
from casecraft.config import exit_on_configuration_error, load_settings
from casecraft.grpc_server import RunningServer, serve_until_signalled, start_server
from casecraft.jsonlog import configure_logging
from casecraft.telemetry import configure_tracing
from casecraft.v1 import image_pb2, image_pb2_grpc
from image_service.providers import ImageProvider
from image_service.providers.chain import ImageChain
from image_service.providers.registry import build_chain, resilient
from image_service.servicer import SERVICE, ImageServicer
from image_service.settings import ImageSettings

SERVICE_NAME = image_pb2.DESCRIPTOR.services_by_name["ImageGenerator"].full_name


async def start(
    settings: ImageSettings,
    provider: ImageProvider | Sequence[ImageProvider] | ImageChain | None = None,
) -> RunningServer:
    """Start the service with the configured provider chain.

    ``provider`` replaces the configured providers (tests inject fakes here): one provider, several
    in order, or a whole ImageChain (with its own retry policy, cooldown and clock).
    """
    configure_tracing(SERVICE)
    servicer = ImageServicer(
        _chain(settings, provider),
        concurrency=settings.concurrency,
        job_timeout_s=settings.job_timeout_s,
        component_timeouts_s={name: settings.component_timeout_s(name) for name in NAMES},
    )

    def register(server: grpc.aio.Server) -> list[str]:
        image_pb2_grpc.add_ImageGeneratorServicer_to_server(servicer, server)
        return [SERVICE_NAME]

    return await start_server(settings, register)


def _chain(
    settings: ImageSettings,
    provider: ImageProvider | Sequence[ImageProvider] | ImageChain | None,
) -> ImageChain:
    if isinstance(provider, ImageChain):
        return provider
    if provider is None:
        providers = build_chain(settings)
    elif isinstance(provider, Sequence):
        providers = list(provider)
    else:
        providers = [provider]
    return resilient(providers, settings)


async def main() -> None:
    settings = load_settings(ImageSettings)
    configure_logging(SERVICE, settings.log_level)
    with exit_on_configuration_error():
        running = await start(settings)
    await serve_until_signalled(running, SERVICE)


def run() -> None:
    eventloop.run(main())
