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
    # Deadline of the structuring call and of the whole image stream.
    structure_timeout_s: float = Field(default=300.0, gt=0)
    images_timeout_s: float = Field(default=300.0, gt=0)
    # Per-image deadline sent with each job; 0 lets the image service apply its own default.
    per_image_timeout_s: float = Field(default=0.0, ge=0)
    # Start each image as soon as its fields are ready (false: after the whole case study).
    early_fanout: bool = True
    max_message_bytes: int = Field(default=32 * MiB, ge=MiB)
    # Seconds a SIGTERM waits for open requests before the gateway exits.
    shutdown_grace_s: float = Field(default=20.0, ge=0)
    log_level: LogLevel = "INFO"
    # Jobs (docs/jobs.md): how long a job is kept, and how many and how much memory they may use
    # before new ones are refused (503) once no finished job is left to evict.
    job_ttl_s: float = Field(default=24 * 3600.0, gt=0)
    max_jobs: int = Field(default=1000, ge=1)
    max_job_bytes: int = Field(default=256 * MiB, ge=1)
    # The image store's budget; least recently used images go first, never a live job's.
    image_store_bytes: int = Field(default=512 * MiB, ge=1)
    # A comment line on an event stream this often while nothing happens.
    events_keepalive_s: float = Field(default=15.0, gt=0)
