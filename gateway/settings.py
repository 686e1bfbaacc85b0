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
    # Jobs (docs/jobs.md): how long a job is kept, and how many and how much memory they may use
    # before new ones are refused (503) once no finished job is left to evict.
    job_ttl_s: float = Field(default=24 * 3600.0, gt=0)
    max_jobs: int = Field(default=1000, ge=1)
    max_job_bytes: int = Field(default=256 * MiB, ge=1)
    # The image store's budget; least recently used images go first, never a live job's.
    image_store_bytes: int = Field(default=512 * MiB, ge=1)
    # A comment line on an event stream this often while nothing happens.
    events_keepalive_s: float = Field(default=15.0, gt=0)
    # One JSON line per request (method, path, status, duration_ms, trace_id) at INFO.
    access_log: bool = True
    # Exports: a folder with page.html.j2 replacing the web page's template, and the PDF's paper.
    template_dir: Path | None = None
    export_page_size: Literal["A4", "Letter"] = "A4"
    # The API keys file (one "NAME SHA256 [rpm=N] [in_flight=N]" line per key; see
    # `casecraft keys new`); unset: no key needed, as for a local `casecraft up`.
    api_keys_file: Path | None = None
    # Each key's default quotas (a key's line in the keys file may set its own), and where the
    # requests are counted: "memory://", or a Redis URL that every replica shares (unset: the
    # REDIS_URL when there is one, memory otherwise).
    quota_requests_per_minute: int = Field(default=60, ge=1)
    quota_in_flight: int = Field(default=5, ge=1)
    quota_storage_url: str = ""
    # Redis (docs/redis.md): jobs, events, idempotency keys and images shared by every gateway
    # when set, e.g. redis://casecraft-redis:6379/0; unset, they live in this process's memory.
    redis_url: str | None = Field(default=None, validation_alias=unprefixed("REDIS_URL"))
    # Prepended to every key the gateway writes, so several deployments can share one Redis.
    redis_key_prefix: str = "casecraft:"
    # A running job's lease: renewed by the gateway running it every third of this; a job whose
    # lease lapsed (its gateway died) is marked failed by the next gateway that reads it.
    job_lease_s: float = Field(default=15.0, gt=0)
    # The gateway's ceiling for every caller together: case studies made at once, and how many
    # more may wait; past both, a new one is refused with 503 at once.
    max_in_flight: int = Field(default=64, ge=1)
    max_queued: int = Field(default=256, ge=0)
    # Origins whose pages may call the API from a browser (CORS), comma-separated, e.g.
    # "https://intranet.example.com"; empty (the default): none but the gateway's own page.
    cors_allow_origins: str = ""

    @property
    def quota_storage(self) -> str:
        """Where the quotas count requests: the setting, else REDIS_URL, else memory."""
        return self.quota_storage_url or self.redis_url or "memory://"

    @property
    def cors_origins(self) -> list[str]:
        return [origin.strip() for origin in self.cors_allow_origins.split(",") if origin.strip()]
