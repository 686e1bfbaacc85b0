"""The lifecycle every casecraft gRPC service shares: health, reflection, limits, graceful drain."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import signal
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import grpc
from google.protobuf.message import DecodeError
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from pydantic import Field
from pydantic_settings import BaseSettings

from casecraft.config import LogLevel
from casecraft.errors import ConfigurationError
from casecraft.interceptors import WrapsEachMethod
from casecraft.prometheus import MetricsEndpoint
from casecraft.rpc_tracing import server_interceptors
from casecraft.telemetry import shutdown_telemetry

log = logging.getLogger(__name__)

MiB = 1024 * 1024


class GrpcServerSettings(BaseSettings):
    """Settings every gRPC service has; each service gives them its own prefix."""

    host: str = Field(default="127.0.0.1", description="Address the service listens on.")
    port: int = Field(default=0, ge=0, le=65535, description="Port the service listens on.")
    shutdown_grace_s: float = Field(
        default=20.0,
        ge=0,
        description="How long in-flight calls may finish after SIGTERM before they are cancelled.",
    )
    # Images travel one a message, or a few together under 1 MiB (results finished together), so
    # this bounds the largest image plus its metadata.
    max_message_bytes: int = Field(
        default=32 * MiB,
        ge=MiB,
        description="gRPC message limit, both ways (it bounds the largest image).",
    )
    max_connection_age_s: float = Field(
        default=300.0,
        gt=0,
        description="Connections are recycled after this long, so clients find new pods behind "
        "a headless Service.",
    )
    log_level: LogLevel = Field(default="INFO", description="The service's log level.")
    metrics_port: int = Field(
        default=0,
        ge=0,
        le=65535,
        description="Prometheus text at http://host:port/metrics (0: any free port, logged at "
        "start-up).",
    )


def server_options(settings: GrpcServerSettings) -> list[tuple[str, int]]:
    return [
        ("grpc.max_receive_message_length", settings.max_message_bytes),
        ("grpc.max_send_message_length", settings.max_message_bytes),
        ("grpc.max_connection_age_ms", int(settings.max_connection_age_s * 1000)),
        ("grpc.max_connection_age_grace_ms", int(settings.shutdown_grace_s * 1000)),
        ("grpc.keepalive_permit_without_calls", 1),
        ("grpc.http2.min_ping_interval_without_data_ms", 10_000),
    ]


NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


class DrainingHealth(health.aio.HealthServicer):
    """grpc_health's servicer, except that a Watch ends once it has told its watcher NOT_SERVING
    at shutdown.

    A Watch never ends by itself, and a draining server waits for every open call: one watcher
    (a client-side health check, a mesh's prober) held every drain for its whole grace. Ended
    this way, the watcher has seen NOT_SERVING, and the drain waits only for real work.
    """

    def __init__(self) -> None:
        super().__init__()
        self._draining = False

    async def enter_graceful_shutdown(self) -> None:
        self._draining = True
        await super().enter_graceful_shutdown()

    async def Watch(
        self, request: health_pb2.HealthCheckRequest, context: grpc.aio.ServicerContext
    ) -> None:
        told = asyncio.Event()

        def sent(status: int) -> None:
            if self._draining and status == NOT_SERVING:
                told.set()

        watch = asyncio.ensure_future(super().Watch(request, _Writes(context, sent)))
        ended = asyncio.ensure_future(told.wait())
        try:
            await asyncio.wait({watch, ended}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            ended.cancel()
            watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watch


class _Writes:
    """A call's context that reports the status of each response written."""

    def __init__(self, context: grpc.aio.ServicerContext, sent: Callable[[int], None]) -> None:
        self._context = context
        self._sent = sent

    def __getattr__(self, name: str) -> Any:
        return getattr(self._context, name)

    async def write(self, response: health_pb2.HealthCheckResponse) -> None:
        await self._context.write(response)
        self._sent(response.status)


class RefuseUnparsableRequests(WrapsEachMethod):
    """A request that does not parse as its method's message type gets INVALID_ARGUMENT naming
    the type, where grpc.aio would answer UNKNOWN ("Unexpected DecodeError") and log an error.

    For the methods that take one request; a streaming method's servicer sees the DecodeError
    from its request iterator.
    """

    def wrap(
        self, method: str, handler: grpc.RpcMethodHandler[Any, Any]
    ) -> grpc.RpcMethodHandler[Any, Any]:
        return handler if handler.request_streaming else _refusing(handler)


class _Unparsable:
    __slots__ = ("reason",)

    def __init__(self, reason: str) -> None:
        self.reason = reason


def _refusing(handler: grpc.RpcMethodHandler[Any, Any]) -> grpc.RpcMethodHandler[Any, Any]:
    """``handler`` with a deserializer that never raises and a behavior that refuses what it
    could not parse."""
    deserialize = handler.request_deserializer
    expected = getattr(getattr(deserialize, "__self__", None), "DESCRIPTOR", None)
    what = expected.full_name if expected is not None else "its request message"

    def lenient(data: bytes) -> Any:
        try:
            return deserialize(data) if deserialize is not None else data
        except DecodeError as exc:
            return _Unparsable(f"the request is not a valid {what} ({exc}); send {what}")

    serialize = handler.response_serializer
    if handler.response_streaming:
        streams: Any = handler.unary_stream

        async def writes(request: Any, context: grpc.aio.ServicerContext) -> None:
            if isinstance(request, _Unparsable):
                await context.abort(grpc.StatusCode.INVALID_ARGUMENT, request.reason)
            await streams(request, context)

        async def yields(request: Any, context: grpc.aio.ServicerContext) -> Any:
            if isinstance(request, _Unparsable):
                await context.abort(grpc.StatusCode.INVALID_ARGUMENT, request.reason)
            async for response in streams(request, context):
                yield response

        # A handler either writes its responses (a coroutine, like Health.Watch) or yields them.
        return grpc.unary_stream_rpc_method_handler(
            writes if inspect.iscoroutinefunction(streams) else yields,
            request_deserializer=lenient,
            response_serializer=serialize,
        )
    answers: Any = handler.unary_unary

    async def unary_unary(request: Any, context: grpc.aio.ServicerContext) -> Any:
        if isinstance(request, _Unparsable):
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, request.reason)
        return await answers(request, context)

    return grpc.unary_unary_rpc_method_handler(
        unary_unary, request_deserializer=lenient, response_serializer=serialize
    )


@dataclass
class RunningServer:
    server: grpc.aio.Server
    port: int
    health: health.aio.HealthServicer
    grace_s: float
    host: str = "127.0.0.1"
    metrics_port: int = 0
    # What the servicers hold beyond the server (a Redis connection), closed once it stopped.
    closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)

    async def drain(self) -> None:
        """Report NOT_SERVING, let in-flight calls finish within the grace, then stop."""
        await self.health.enter_graceful_shutdown()
        await self.stop(self.grace_s)

    async def stop(self, grace_s: float | None) -> None:
        """Stop serving (in-flight calls get ``grace_s``; None cancels them) and close what the
        servicers hold."""
        await self.server.stop(grace_s)
        for close in self.closers:
            await close()
        self.closers.clear()


async def start_server(
    settings: GrpcServerSettings,
    register: Callable[[grpc.aio.Server], Sequence[str]],
    *,
    interceptors: Sequence[grpc.aio.ServerInterceptor] = (),
) -> RunningServer:
    """Start a server with ``register``'s servicers plus health and reflection.

    ``register`` adds the servicers and returns their full service names. Every RPC but health
    checks and reflection gets a server span that continues the caller's trace.
    """
    server = grpc.aio.server(
        options=server_options(settings),
        # The refusal comes last, next to the servicers: the handlers it wraps once per method
        # are the registered ones, and the RPC's span still records the refused call.
        interceptors=[*server_interceptors(), *interceptors, RefuseUnparsableRequests()],
    )
    names = tuple(register(server))
    health_servicer = DrainingHealth()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    reflection.enable_server_reflection(
        (
            *names,
            health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
            reflection.SERVICE_NAME,
        ),
        server,
    )
    variable = f"{settings.model_config.get('env_prefix', '')}PORT".upper()
    try:
        port = server.add_insecure_port(f"{settings.host}:{settings.port}")
    except RuntimeError:  # grpc's way of saying the address is taken or not ours
        port = 0
    if port == 0:
        raise ConfigurationError(
            f"cannot listen on {settings.host}:{settings.port} (is the port in use?); "
            f"set {variable} to a free port (0: any free port)"
        )
    await server.start()
    for name in ("", *names):
        await health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    return RunningServer(
        server,
        port,
        health_servicer,
        settings.shutdown_grace_s,
        settings.host,
        settings.metrics_port,
    )


async def serve_until_signalled(running: RunningServer, service: str) -> None:
    """Serve until SIGTERM or SIGINT, then drain and return (the process then exits 0).

    The metrics endpoint serves meanwhile; the telemetry exporters are flushed before returning.
    """
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    endpoint = MetricsEndpoint(running.host, running.metrics_port)
    log.info("metrics", extra={"event": "metrics", "port": endpoint.port, "service_name": service})
    log.info("serving", extra={"event": "serving", "port": running.port, "service_name": service})
    try:
        await stop.wait()
        log.info("draining", extra={"event": "draining", "grace_s": running.grace_s})
        await running.drain()
    finally:
        endpoint.close()
        await asyncio.to_thread(shutdown_telemetry)
    log.info("stopped", extra={"event": "stopped"})
