"""Start-up of the gateway: uvicorn serving the app until SIGTERM, then a graceful drain."""

from __future__ import annotations

import logging
import signal
import socket

import uvicorn

from casecraft import eventloop
from casecraft.config import exit_on_configuration_error, load_settings
from casecraft.errors import ConfigurationError
from casecraft.jsonlog import configure_logging
from casecraft.telemetry import shutdown_telemetry
from gateway.app import SERVICE, create_app
from gateway.auth import KeysFileError
from gateway.hygiene import RequestIdFilter
from gateway.redis_backend import check_reachable
from gateway.settings import GatewaySettings

log = logging.getLogger(__name__)


def build_server(settings: GatewaySettings) -> uvicorn.Server:
    config = uvicorn.Config(
        create_app(settings),
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=int(settings.shutdown_grace_s),
        lifespan="on",
    )
    return uvicorn.Server(config)


def bind(settings: GatewaySettings) -> socket.socket:
    """Bind the listening socket first, so the port is known before serving (port 0 works)."""
    family = socket.AF_INET6 if ":" in settings.gateway_host else socket.AF_INET
    # IPPROTO_TCP, not the default 0: asyncio sets TCP_NODELAY on accepted connections only when
    # the socket says it is TCP; without it Nagle and delayed ACKs add 40 ms to small responses.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((settings.gateway_host, settings.gateway_port))
    except OSError as exc:
        sock.close()
        raise ConfigurationError(
            f"cannot listen on {settings.gateway_host}:{settings.gateway_port} "
            f"({exc.strerror or exc}); set CASECRAFT_GATEWAY_PORT to a free port (0: any free port)"
        ) from None
    sock.set_inheritable(True)
    sock.listen(2048)  # connections queue from now on, so "serving" is true once logged
    return sock


async def main() -> None:
    settings = load_settings(GatewaySettings)
    configure_logging(SERVICE, settings.log_level)
    for handler in logging.getLogger().handlers:
        handler.addFilter(RequestIdFilter())
    try:
        server = build_server(settings)
    except (KeysFileError, ConfigurationError) as exc:
        raise SystemExit(f"gateway: {exc}") from None
    with exit_on_configuration_error():
        if settings.redis_url is not None:
            check_reachable(settings.redis_url)
        sock = bind(settings)
    log.info(
        "serving",
        extra={"event": "serving", "port": sock.getsockname()[1], "service_name": SERVICE},
    )
    # uvicorn drains on SIGTERM, then re-raises the signal to the handler it found: make that
    # handler its own, so a drained gateway exits 0 instead of dying by the signal (143).
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, server.handle_exit)
    try:
        await server.serve(sockets=[sock])
    finally:
        shutdown_telemetry()  # flush the spans and metrics of the last requests


def run() -> None:
    eventloop.run(main())
