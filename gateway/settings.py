"""The gateway's settings, read once from CASECRAFT_* environment variables."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from casecraft.config import LogLevel, unprefixed
from casecraft.grpc_server import MiB


class GatewaySettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="CASECRAFT_", validate_by_name=True, validate_by_alias=True
    )

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
    gateway_backend_wait_s: float = Field(
        default=30.0,
        ge=0,
        description="How long a background job waits for the structurer to serve again (a "
        "restarting service) before it calls it; synchronous requests do not wait.",
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
    # Jobs (docs/jobs.md): past their limits new ones are refused (503) once no finished job is
    # left to evict.
    job_ttl_s: float = Field(
        default=24 * 3600.0, gt=0, description="How long a job is kept, in seconds."
    )
    max_jobs: int = Field(default=1000, ge=1, description="Most jobs kept at once.")
    max_job_bytes: int = Field(
        default=256 * MiB, ge=1, description="Most memory the kept jobs may use, in bytes."
    )
    image_store_bytes: int = Field(
        default=512 * MiB,
        ge=1,
        description="The image store's budget; least recently used images go first, never a "
        "live job's.",
    )
    events_keepalive_s: float = Field(
        default=15.0,
        gt=0,
        description="A comment line on an event stream this often while nothing happens.",
    )
    access_log: bool = Field(
        default=True,
        description="One JSON line per request (method, path, status, duration_ms, trace_id) "
        "at INFO.",
    )
    template_dir: Path | None = Field(
        default=None,
        description="A folder whose `page.html.j2` replaces the web page's template (exports).",
    )
    export_page_size: Literal["A4", "Letter"] = Field(
        default="A4", description="The exported PDF's paper."
    )
    export_cache_bytes: int = Field(
        default=64 * MiB,
        ge=0,
        description="Rendered exports kept in memory, least recently used out first; 0 renders "
        "every request.",
    )
    api_keys_file: Path | None = Field(
        default=None,
        description="The API keys file (one `NAME SHA256 [rpm=N] [in_flight=N]` line per key; "
        "see `casecraft keys new`); unset: no key needed, as for a local `casecraft up`.",
    )
    # A key's line in the keys file may set its own quotas.
    quota_requests_per_minute: int = Field(
        default=60, ge=1, description="Each key's default requests a minute."
    )
    quota_in_flight: int = Field(
        default=5, ge=1, description="Each key's default case studies in flight."
    )
    quota_storage_url: str = Field(
        default="",
        description="Where the requests are counted: `memory://`, or a Redis URL that every "
        "replica shares; unset: REDIS_URL when there is one, memory otherwise.",
    )
    # docs/redis.md
    redis_url: str | None = Field(
        default=None,
        validation_alias=unprefixed("REDIS_URL"),
        description="Redis holding the jobs, events, idempotency keys and images every gateway "
        "shares, e.g. `redis://casecraft-redis:6379/0`; unset: this process's memory.",
    )
    redis_prefix: str = Field(
        default="casecraft:",
        description="Prepended to every key the gateway writes in Redis, so several deployments "
        "can share one.",
    )
    job_lease_s: float = Field(
        default=15.0,
        gt=0,
        description="A running job's lease in Redis, renewed every third of it; a job whose "
        "lease lapsed (its gateway stopped) is marked failed by the next gateway that reads it.",
    )
    # The gateway's ceiling for every caller together; past both, a new one is refused with 503.
    max_in_flight: int = Field(
        default=64, ge=1, description="Case studies the gateway makes at once, for every caller."
    )
    max_queued: int = Field(
        default=256,
        ge=0,
        description="Case studies that may wait for a slot; past that a new one gets 503 at once.",
    )
    cors_allow_origins: str = Field(
        default="",
        description="Origins whose pages may call the API from a browser (CORS), comma-separated, "
        "e.g. `https://intranet.example.com`; empty: none but the gateway's own page.",
    )

    @property
    def quota_storage(self) -> str:
        """Where the quotas count requests: the setting, else REDIS_URL, else memory."""
        return self.quota_storage_url or self.redis_url or "memory://"

    @property
    def cors_origins(self) -> list[str]:
        return [origin.strip() for origin in self.cors_allow_origins.split(",") if origin.strip()]
