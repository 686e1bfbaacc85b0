"""The image service's settings, read once from CASECRAFT_IMAGE_* environment variables.

Provider credentials and endpoints keep the names their providers document (``OPENROUTER_API_KEY``,
``OPENAI_BASE_URL`` ...), without the prefix.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from casecraft.config import unprefixed
from casecraft.grpc_server import GrpcServerSettings, MiB
from casecraft.registry import ChainSettings


class ImageSettings(GrpcServerSettings, ChainSettings):
    model_config = SettingsConfigDict(
        env_prefix="CASECRAFT_IMAGE_", validate_by_name=True, validate_by_alias=True
    )

    port: int = 50052
    # Prometheus text at /metrics on this port (0: any free port, logged at start-up).
    metrics_port: int = 9465
    # Images generated at once across every call to this process (a sliding window).
    concurrency: int = Field(default=3, ge=1, le=1024)
    # A job's deadline when the caller sets none, waiting for a slot included.
    job_timeout_s: float = Field(default=120.0, gt=0)
    # Per-component deadlines (heavier components may get longer ones); unset: job_timeout_s.
    # A job's own timeout_ms, when the caller sets one, wins over both.
    timeout_hero_s: float | None = Field(default=None, gt=0)
    timeout_metrics_s: float | None = Field(default=None, gt=0)
    timeout_timeline_s: float | None = Field(default=None, gt=0)

    # Calls per provider for one job, the first included. The other retry, cooldown and
    # per-call timeout knobs (retry_after_max_s, cooldown_failures, attempt_timeout_s ...) come
    # from ChainSettings, named as in the structurer.
    retry_max_attempts: int = Field(default=2, ge=1, le=10)

    # Limits on an image a provider returns; past them it is refused and the next attempt made.
    max_image_bytes: int = Field(default=20 * MiB, ge=1024)
    max_image_pixels: int = Field(default=4096 * 4096, ge=64 * 64)

    # The generation cache (docs/caching.md): "off" makes every job call a provider, and turns
    # off the sharing of one call between identical jobs in flight.
    cache: Literal["on", "off"] = "on"
    # In memory (without REDIS_URL): the cached images' bytes at most; least recently used first out.
    cache_max_bytes: int = Field(default=256 * MiB, ge=0)
    # In Redis: how long an image unused stays cached (each hit renews it).
    cache_ttl_s: float = Field(default=7 * 24 * 3600.0, gt=0)
    # With Redis: how long a job waits for another replica making the same image before it
    # makes the image itself (also the lock's lifetime, should that replica die).
    coalesce_wait_s: float = Field(default=120.0, gt=0)
    # Shared state: the generation cache and in-flight coalescing live in this Redis.
    redis_url: str | None = Field(default=None, validation_alias=unprefixed("REDIS_URL"))
    # Put before every key this service writes in Redis (several deployments on one Redis).
    redis_prefix: str = "casecraft:"

    openrouter_api_key: SecretStr | None = Field(
        default=None, validation_alias=unprefixed("OPENROUTER_API_KEY")
    )
    openrouter_base_url: str = Field(
        default="https://openrouter.ai/api/v1", validation_alias=unprefixed("OPENROUTER_BASE_URL")
    )
    openrouter_model: str = "google/gemini-3.1-flash-image-preview"
    openrouter_fast_model: str = "google/gemini-2.5-flash-image"
    # OpenRouter's image_config.image_size ("0.5K", "1K", "2K", "4K" where the model supports it);
    # empty: the model's default.
    openrouter_image_size: str = ""
    openrouter_fast_image_size: str = ""

    openai_api_key: SecretStr | None = Field(
        default=None, validation_alias=unprefixed("OPENAI_API_KEY")
    )
    openai_base_url: str = Field(
        default="https://api.openai.com/v1", validation_alias=unprefixed("OPENAI_BASE_URL")
    )
    openai_model: str = "gpt-image-2"
    openai_fast_model: str = "gpt-image-1-mini"
    openai_quality: str = "medium"
    openai_fast_quality: str = "low"

    def component_timeout_s(self, component: str) -> float:
        """The deadline of a job of ``component`` when its caller sets none."""
        value = getattr(self, f"timeout_{component}_s", None)
        return float(value) if value is not None else self.job_timeout_s
