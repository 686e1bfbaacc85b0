"""Start-up of the image service: settings, providers, servicer, serve until SIGTERM."""

from __future__ import annotations

from collections.abc import Sequence

import grpc

from casecraft import eventloop
from casecraft.byte_cache import MemoryCache, RedisCache
from casecraft.components import NAMES
from casecraft.config import exit_on_configuration_error, load_settings
from casecraft.grpc_server import RunningServer, serve_until_signalled, start_server
from casecraft.jsonlog import configure_logging
from casecraft.redis_store import RedisLink, open_link, started_with
from casecraft.telemetry import configure_tracing
from casecraft.v1 import image_pb2, image_pb2_grpc
from image_service.coalescing import RedisLocks
from image_service.generation_cache import GenerationCache
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
    chain = _chain(settings, provider)
    link = await open_link(settings.redis_url, name="image cache") if settings.redis_url else None
    cache = generation_cache(settings, link)
    servicer = ImageServicer(
        chain,
        concurrency=settings.concurrency,
        job_timeout_s=settings.job_timeout_s,
        component_timeouts_s={name: settings.component_timeout_s(name) for name in NAMES},
        cache=cache,
    )

    def register(server: grpc.aio.Server) -> list[str]:
        image_pb2_grpc.add_ImageGeneratorServicer_to_server(servicer, server)
        return [SERVICE_NAME]

    running = await started_with(link, start_server(settings, register))
    if cache is not None:
        # Shared calls outlive the RPCs that started them: end them before Redis is closed.
        running.closers.insert(0, cache.aclose)
    return running


def generation_cache(settings: ImageSettings, link: RedisLink | None) -> GenerationCache | None:
    """The configured cache: in ``link``'s Redis, else in memory; None when it is off."""
    if settings.cache == "off":
        return None
    if link is None:
        return GenerationCache(MemoryCache(settings.cache_max_bytes))
    prefix = f"{settings.redis_prefix}image:"
    store = RedisCache(link, prefix=prefix, ttl_s=settings.cache_ttl_s)
    locks = RedisLocks(
        link,
        prefix=prefix,
        lock_ttl_s=settings.coalesce_wait_s,
        wait_s=settings.coalesce_wait_s,
    )
    return GenerationCache(store, locks=locks)


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
