"""The gateway's gRPC channels to its two backends, made once at start-up."""

from __future__ import annotations

import asyncio
import contextlib
import json

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from casecraft.v1 import image_pb2, image_pb2_grpc, structurer_pb2, structurer_pb2_grpc
from gateway.rpc import ClientRpcs, Rpc
from gateway.settings import GatewaySettings

STRUCTURER = "structurer_service"
IMAGES = "image_service"


def _path(module: object, service: str, method: str) -> str:
    descriptor = module.DESCRIPTOR.services_by_name[service]  # type: ignore[attr-defined]
    return f"/{descriptor.full_name}/{method}"


STRUCTURE_STREAM = _path(structurer_pb2, "Structurer", "StructureStream")
GENERATE = _path(image_pb2, "ImageGenerator", "Generate")


def channel_options(settings: GatewaySettings) -> list[tuple[str, int | str]]:
    return [
        ("grpc.max_receive_message_length", settings.max_message_bytes),
        ("grpc.max_send_message_length", settings.max_message_bytes),
        # Spread calls over every address a dns:/// target resolves to (one per pod).
        ("grpc.service_config", json.dumps({"loadBalancingConfig": [{"round_robin": {}}]})),
        ("grpc.keepalive_time_ms", 30_000),
        # A restarted backend is found again within seconds (gRPC's default backs off to 120 s).
        ("grpc.max_reconnect_backoff_ms", 5_000),
        ("grpc.enable_retries", 0),
    ]


class Backends:
    def __init__(self, settings: GatewaySettings) -> None:
        options = channel_options(settings)
        self._channels = {
            STRUCTURER: grpc.aio.insecure_channel(settings.structurer_target, options=options),
            IMAGES: grpc.aio.insecure_channel(settings.image_target, options=options),
        }
        self.structurer = structurer_pb2_grpc.StructurerStub(self._channels[STRUCTURER])
        self.images = image_pb2_grpc.ImageGeneratorStub(self._channels[IMAGES])
        # Each call gets a client span and carries the trace on to the backend.
        self._rpcs = ClientRpcs()

    async def until_ready(self, name: str, wait_s: float) -> None:
        """Wait up to ``wait_s`` for the channel to ``name`` to connect, as while the service
        restarts; a call after a wait that ran out fails as it would have at once."""
        channel = self._channels[name]
        if wait_s <= 0 or channel.get_state(try_to_connect=True) is grpc.ChannelConnectivity.READY:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(channel.channel_ready(), wait_s)

    async def structure_stream(
        self, request: structurer_pb2.StructureRequest, *, timeout_s: float
    ) -> Rpc:
        """Start StructureStream: field groups as they are ready, then the final answer."""
        return await self._rpcs.unary_stream(
            STRUCTURE_STREAM, self.structurer.StructureStream, request, timeout_s=timeout_s
        )

    async def generate(self, *, timeout_s: float) -> Rpc:
        """Start Generate: write ImageJobs on ``call``, read ImageResults from ``responses``."""
        return await self._rpcs.stream_stream(GENERATE, self.images.Generate, timeout_s=timeout_s)

    async def refine(
        self, request: structurer_pb2.RefineRequest, *, timeout_s: float
    ) -> structurer_pb2.RefineResponse:
        """Rewrite one section of a case study following an instruction (Structurer.Refine)."""
        response: structurer_pb2.RefineResponse = await self.structurer.Refine(
            request, timeout=timeout_s
        )
        return response

    async def health(self, timeout_s: float = 2.0) -> dict[str, str]:
        """Each backend's health status name, or why it could not be asked."""

        async def check(name: str, channel: grpc.aio.Channel) -> tuple[str, str]:
            stub = health_pb2_grpc.HealthStub(channel)
            try:
                reply = await stub.Check(health_pb2.HealthCheckRequest(), timeout=timeout_s)
            except grpc.aio.AioRpcError as error:
                return name, f"UNREACHABLE ({error.code().name})"
            return name, health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)

        results = await asyncio.gather(*(check(n, c) for n, c in self._channels.items()))
        return dict(results)

    async def close(self) -> None:
        await asyncio.gather(*(channel.close() for channel in self._channels.values()))
