"""The gateway's gRPC channels to its two backends, made once at start-up."""

from __future__ import annotations

import asyncio
import json

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from casecraft.telemetry import grpc_client_interceptors
from casecraft.v1 import image_pb2_grpc, structurer_pb2_grpc
from gateway.settings import GatewaySettings

STRUCTURER = "structurer_service"
IMAGES = "image_service"


def channel_options(settings: GatewaySettings) -> list[tuple[str, int | str]]:
    return [
        ("grpc.max_receive_message_length", settings.max_message_bytes),
        ("grpc.max_send_message_length", settings.max_message_bytes),
        # Spread calls over every address a dns:/// target resolves to (one per pod).
        ("grpc.service_config", json.dumps({"loadBalancingConfig": [{"round_robin": {}}]})),
        ("grpc.keepalive_time_ms", 30_000),
        ("grpc.enable_retries", 0),
    ]


class Backends:
    def __init__(self, settings: GatewaySettings) -> None:
        options = channel_options(settings)
        # Each call gets a client span and carries the trace on to the backend.
        traced = grpc_client_interceptors()
        self._channels = {
            STRUCTURER: grpc.aio.insecure_channel(
                settings.structurer_target, options=options, interceptors=traced
            ),
            IMAGES: grpc.aio.insecure_channel(
                settings.image_target, options=options, interceptors=traced
            ),
        }
        self.structurer = structurer_pb2_grpc.StructurerStub(self._channels[STRUCTURER])
        self.images = image_pb2_grpc.ImageGeneratorStub(self._channels[IMAGES])

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
