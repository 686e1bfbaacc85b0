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

    port: int = Field(default=50052, description="Port the image service listens on.")
    metrics_port: int = Field(
        default=9465,
        description="Prometheus text at /metrics on this port (0: any free port, logged at "
        "start-up).",
    )
    concurrency: int = Field(
        default=3,
        ge=1,
        le=1024,
        description="Images generated at once across every call to this process (a sliding "
        "window).",
    )
    job_timeout_s: float = Field(
        default=120.0,
        gt=0,
        description="A job's deadline when the caller sets none, waiting for a slot included.",
    )
    # Heavier components may get longer deadlines. A job's own timeout_ms, when the caller sets
    # one, wins over these.
    timeout_hero_s: float | None = Field(
        default=None, gt=0, description="Deadline of a hero job; unset: the job timeout."
    )
    timeout_metrics_s: float | None = Field(
        default=None, gt=0, description="Deadline of a metrics job; unset: the job timeout."
    )
    timeout_timeline_s: float | None = Field(
        default=None, gt=0, description="Deadline of a timeline job; unset: the job timeout."
    )

    # The other retry, cooldown and per-call timeout knobs come from ChainSettings, named as in
    # the structurer.
    retry_max_attempts: int = Field(
        default=2,
        ge=1,
        le=10,
        description="Calls per provider for one job, the first included; only retryable "
        "failures are retried, then the next provider is tried.",
    )

    # Past these limits a returned image is refused and the next attempt made.
    max_image_bytes: int = Field(
        default=20 * MiB, ge=1024, description="Largest image a provider may return, in bytes."
    )
    max_image_pixels: int = Field(
        default=4096 * 4096,
        ge=64 * 64,
        description="Most pixels an image a provider returns may have (read from its header "
        "before decoding).",
    )

    cache: Literal["on", "off"] = Field(
        default="on",
        description='The generation cache (docs/caching.md): "off" makes every job call a '
        "provider, and turns off the sharing of one call between identical jobs in flight.",
    )
    cache_max_bytes: int = Field(
        default=256 * MiB,
        ge=0,
        description="In memory (without REDIS_URL): the cached images' bytes at most; the least "
        "recently used leave first.",
    )
    cache_ttl_s: float = Field(
        default=7 * 24 * 3600.0,
        gt=0,
        description="In Redis: how long an image unused stays cached (each hit renews it).",
    )
    coalesce_wait_s: float = Field(
        default=120.0,
        gt=0,
        description="With Redis: how long a job waits for another replica making the same image "
        "before it makes the image itself (also the lock's lifetime, should that replica die).",
    )
    redis_url: str | None = Field(
        default=None,
        validation_alias=unprefixed("REDIS_URL"),
        description="Shared state: the generation cache and in-flight coalescing live in this "
        "Redis.",
    )
    redis_prefix: str = Field(
        default="casecraft:",
        description="Put before every key this service writes in Redis (several deployments on "
        "one Redis).",
    )

    openrouter_api_key: SecretStr | None = Field(
        default=None,
        validation_alias=unprefixed("OPENROUTER_API_KEY"),
        description="OpenRouter key; required when `openrouter` is in the chain.",
    )
    openrouter_base_url: str = Field(
        default="https://openrouter.ai/api/v1",
        validation_alias=unprefixed("OPENROUTER_BASE_URL"),
        description="OpenRouter API base; requests go to `{base}/chat/completions`.",
    )
    openrouter_model: str = Field(
        default="google/gemini-3.1-flash-image-preview", description="OpenRouter image model."
    )
    openrouter_fast_model: str = Field(
        default="google/gemini-2.5-flash-image", description="OpenRouter image model in fast mode."
    )
    openrouter_image_size: str = Field(
        default="",
        description="OpenRouter's `image_config.image_size` (`0.5K`, `1K`, `2K`, `4K` where the "
        "model supports it); empty: the model's default.",
    )
    openrouter_fast_image_size: str = Field(default="", description="The same in fast mode.")

    openai_api_key: SecretStr | None = Field(
        default=None,
        validation_alias=unprefixed("OPENAI_API_KEY"),
        description="OpenAI key; required when `openai` is in the chain.",
    )
    openai_base_url: str = Field(
        default="https://api.openai.com/v1",
        validation_alias=unprefixed("OPENAI_BASE_URL"),
        description="OpenAI Images API base.",
    )
    openai_model: str = Field(default="gpt-image-2", description="OpenAI image model.")
    openai_fast_model: str = Field(
        default="gpt-image-1-mini", description="OpenAI image model in fast mode."
    )
    openai_quality: str = Field(default="medium", description="OpenAI image `quality`.")
    openai_fast_quality: str = Field(
        default="low", description="OpenAI image `quality` in fast mode (which also asks for JPEG)."
    )

    def component_timeout_s(self, component: str) -> float:
        """The deadline of a job of ``component`` when its caller sets none."""
        value = getattr(self, f"timeout_{component}_s", None)
        return float(value) if value is not None else self.job_timeout_s
