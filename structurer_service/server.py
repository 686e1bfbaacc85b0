"""Start-up of the structuring service: settings, providers, servicer, serve until SIGTERM."""

from __future__ import annotations

import grpc

from casecraft import eventloop
from casecraft.admission import Admission
from casecraft.byte_cache import MemoryCache, RedisCache
from casecraft.config import exit_on_configuration_error, load_settings
from casecraft.grpc_server import RunningServer, serve_until_signalled, start_server
from casecraft.jsonlog import configure_logging
from casecraft.redis_store import RedisLink, open_link, report_health
from casecraft.telemetry import configure_tracing
from casecraft.v1 import structurer_pb2, structurer_pb2_grpc
from structurer_service.providers import StructurerProvider
from structurer_service.providers.registry import build_chain, resilient
from structurer_service.servicer import SERVICE, StructurerServicer
from structurer_service.settings import StructurerSettings
from structurer_service.structuring_cache import StructuringCache

SERVICE_NAME = structurer_pb2.DESCRIPTOR.services_by_name["Structurer"].full_name


async def start(
    settings: StructurerSettings, provider: StructurerProvider | None = None
) -> RunningServer:
    """Start the service; ``provider`` replaces the configured chain (tests inject fakes here).

    The configured chain runs with the configured retries, timeouts and a cooldown shared by every
    request of this process. A provider without its key fails here, before the server listens.
    """
    configure_tracing(SERVICE)
    chosen = provider if provider is not None else resilient(build_chain(settings), settings)
    link = (
        await open_link(settings.redis_url, name="structuring cache")
        if settings.redis_url
        else None
    )
    admission = Admission(
        "the structurer's calls in flight",
        max_in_flight=settings.max_in_flight,
        max_queued=settings.max_queued,
    )
    servicer = StructurerServicer(chosen, admission, cache=structuring_cache(settings, link))

    def register(server: grpc.aio.Server) -> list[str]:
        structurer_pb2_grpc.add_StructurerServicer_to_server(servicer, server)
        return [SERVICE_NAME]

    try:
        running = await start_server(settings, register)
    except BaseException:
        if link is not None:
            await link.aclose()
        raise
    if link is not None:
        await report_health(link, running.health)
        running.closers.append(link.aclose)
    return running


def structuring_cache(
    settings: StructurerSettings, link: RedisLink | None
) -> StructuringCache | None:
    """The configured cache: in ``link``'s Redis, else in memory; None when it is off."""
    if settings.cache == "off":
        return None
    if link is None:
        return StructuringCache(MemoryCache(settings.cache_max_bytes))
    prefix = f"{settings.redis_prefix}structure:"
    return StructuringCache(RedisCache(link, prefix=prefix, ttl_s=settings.cache_ttl_s))


async def main() -> None:
    settings = load_settings(StructurerSettings)
    configure_logging(SERVICE, settings.log_level)
    with exit_on_configuration_error():
        running = await start(settings)
    await serve_until_signalled(running, SERVICE)


def run() -> None:
    eventloop.run(main())
