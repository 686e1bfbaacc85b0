"""The gateway's settings, read once from CASECRAFT_* environment variables."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from casecraft.config import LogLevel
from casecraft.grpc_server import MiB


class GatewaySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CASECRAFT_")

    gateway_host: str = "127.0.0.1"
    gateway_port: int = Field(default=8080, ge=0, le=65535)
    # gRPC targets; `dns:///name:port` balances across every address the name resolves to.
    structurer_target: str = "127.0.0.1:50051"
    image_target: str = "127.0.0.1:50052"
    # Deadlines of the gateway's calls: the structuring call, and the whole image stream of a case
    # study (the services' own per-call timeouts are theirs, e.g. CASECRAFT_STRUCTURER_*).
    gateway_structure_deadline_s: float = Field(default=300.0, gt=0)
    gateway_images_deadline_s: float = Field(default=300.0, gt=0)
    # Deadline the gateway sends with each image job; 0 lets the image service apply its own.
    gateway_per_image_deadline_s: float = Field(default=0.0, ge=0)
    # Start each image as soon as its fields are ready (false: after the whole case study).
    early_fanout: bool = True
    max_message_bytes: int = Field(default=32 * MiB, ge=MiB)
    # Seconds a SIGTERM waits for open requests before the gateway exits.
    shutdown_grace_s: float = Field(default=20.0, ge=0)
    log_level: LogLevel = "INFO"
    # One JSON line per request (method, path, status, duration_ms, trace_id) at INFO.
    access_log: bool = True
