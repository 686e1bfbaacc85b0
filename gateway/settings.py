"""The gateway's settings, read once from CASECRAFT_* environment variables."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from casecraft.config import LogLevel
from casecraft.grpc_server import MiB


class GatewaySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CASECRAFT_")

    gateway_host: str = Field(default="127.0.0.1", description="Address the gateway listens on.")
    gateway_port: int = Field(
        default=8080, ge=0, le=65535, description="Port the gateway listens on (0: any free port)."
    )
    structurer_target: str = Field(
        default="127.0.0.1:50051",
        description="gRPC target of the structurer; `dns:///name:port` balances across every "
        "address the name resolves to.",
    )
    image_target: str = Field(
        default="127.0.0.1:50052", description="gRPC target of the image service, as above."
    )
    # The services' own per-call timeouts are theirs (CASECRAFT_STRUCTURER_*, CASECRAFT_IMAGE_*).
    gateway_structure_deadline_s: float = Field(
        default=300.0, gt=0, description="Deadline of the gateway's structuring call, in seconds."
    )
    gateway_images_deadline_s: float = Field(
        default=300.0, gt=0, description="Deadline of a case study's whole image stream."
    )
    gateway_per_image_deadline_s: float = Field(
        default=0.0,
        ge=0,
        description="Deadline the gateway sends with each image job; 0 lets the image service "
        "apply its own.",
    )
    early_fanout: bool = Field(
        default=True,
        description="Start each image as soon as its fields are ready; false waits for the "
        "whole case study.",
    )
    max_message_bytes: int = Field(
        default=32 * MiB, ge=MiB, description="The gateway's gRPC message limit, both ways."
    )
    shutdown_grace_s: float = Field(
        default=20.0,
        ge=0,
        description="How long open requests may finish after SIGTERM before the gateway exits.",
    )
    log_level: LogLevel = Field(default="INFO", description="The gateway's log level.")
    access_log: bool = Field(
        default=True,
        description="One JSON line per request (method, path, status, duration_ms, trace_id) "
        "at INFO.",
    )
