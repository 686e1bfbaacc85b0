"""The structurer's settings, read once from CASECRAFT_STRUCTURER_* environment variables.

The providers' own variables keep the names their SDKs and docs use: ANTHROPIC_API_KEY,
ANTHROPIC_BASE_URL, OPENROUTER_API_KEY, OPENROUTER_BASE_URL.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from casecraft.config import unprefixed
from casecraft.grpc_server import GrpcServerSettings, MiB
from casecraft.registry import ChainSettings


class StructurerSettings(GrpcServerSettings, ChainSettings):
    model_config = SettingsConfigDict(
        env_prefix="CASECRAFT_STRUCTURER_", validate_by_name=True, validate_by_alias=True
    )

    port: int = Field(default=50051, description="Port the structurer listens on.")
    metrics_port: int = Field(
        default=9464,
        description="Prometheus text at /metrics on this port (0: any free port, logged at "
        "start-up).",
    )

    anthropic_api_key: SecretStr | None = Field(
        None,
        validation_alias=unprefixed("ANTHROPIC_API_KEY"),
        description="Claude API key; required when `anthropic` is in the chain.",
    )
    anthropic_base_url: str = Field(
        "https://api.anthropic.com",
        validation_alias=unprefixed("ANTHROPIC_BASE_URL"),
        description="Anthropic API base, as the SDK reads it: without `/v1`.",
    )
    anthropic_model: str = Field(default="claude-sonnet-5-5", description="Claude model.")
    anthropic_fast_model: str = Field(
        default="claude-haiku-5-5", description="Claude model in fast mode."
    )
    # Anthropic's list prices for the two models above.
    anthropic_input_usd_per_mtok: float = Field(
        default=2.0, ge=0, description="Input price, US dollars per million tokens (cost estimate)."
    )
    anthropic_output_usd_per_mtok: float = Field(
        default=10.0, ge=0, description="Output price, US dollars per million tokens."
    )
    anthropic_fast_input_usd_per_mtok: float = Field(
        default=0.10,
        ge=0,
        description="Input price of the fast model (for prompts up to 100K tokens; 5 x above).",
    )
    anthropic_fast_output_usd_per_mtok: float = Field(
        default=0.50, ge=0, description="Output price of the fast model."
    )

    openrouter_api_key: SecretStr | None = Field(
        None,
        validation_alias=unprefixed("OPENROUTER_API_KEY"),
        description="Key of the OpenAI-compatible API; required when `openai_compatible` is in "
        "the chain.",
    )
    openrouter_base_url: str = Field(
        "https://openrouter.ai/api/v1",
        validation_alias=unprefixed("OPENROUTER_BASE_URL"),
        description="Any OpenAI-compatible API; requests go to `{base}/chat/completions`.",
    )
    openai_compatible_model: str = Field(
        default="anthropic/claude-sonnet-4.5", description="Model on the OpenAI-compatible API."
    )
    openai_compatible_fast_model: str = Field(
        default="anthropic/claude-haiku-4.5", description="Its model in fast mode."
    )
    # The list prices of the two models above.
    openai_compatible_input_usd_per_mtok: float = Field(
        default=3.0, ge=0, description="Input price, US dollars per million tokens."
    )
    openai_compatible_output_usd_per_mtok: float = Field(
        default=15.0, ge=0, description="Output price, US dollars per million tokens."
    )
    openai_compatible_fast_input_usd_per_mtok: float = Field(
        default=1.0, ge=0, description="Input price of the fast model."
    )
    openai_compatible_fast_output_usd_per_mtok: float = Field(
        default=5.0, ge=0, description="Output price of the fast model."
    )

    cache: Literal["on", "off"] = Field(
        default="on",
        description='The structuring cache (docs/caching.md): "off" calls a provider for every '
        "request.",
    )
    cache_max_bytes: int = Field(
        default=64 * MiB,
        ge=0,
        description="In memory (without REDIS_URL): the cached answers' bytes at most; the least "
        "recently used leave first.",
    )
    cache_ttl_s: float = Field(
        default=7 * 24 * 3600.0,
        gt=0,
        description="In Redis: how long an answer unused stays cached (each hit renews it).",
    )
    redis_url: str | None = Field(
        None,
        validation_alias=unprefixed("REDIS_URL"),
        description="Shared state: the structuring cache lives in this Redis.",
    )
    redis_prefix: str = Field(
        default="casecraft:",
        description="Put before every key this service writes in Redis (several deployments on "
        "one Redis).",
    )

    max_output_tokens: int = Field(
        default=8192, ge=256, le=200_000, description="Most tokens one LLM call may write."
    )
    attempt_timeout_s: float = Field(
        default=180.0,
        gt=0,
        description="One provider call, streamed from first byte to last; a call past it is cut "
        "off and retried.",
    )
    read_timeout_s: float = Field(
        default=60.0, gt=0, description="Longest silence between two chunks of a stream."
    )
    connect_timeout_s: float = Field(
        default=10.0, gt=0, description="Longest wait for a connection to a provider."
    )
    stream_idle_timeout_s: float = Field(
        default=30.0,
        gt=0,
        description="Longest wait for new content in an `openai_compatible` stream (keep-alives "
        "do not count): a local server that stalls near the end of an answer fails the attempt "
        "as a timeout.",
    )
    # The retry and cooldown knobs (retry_max_attempts, retry_after_max_s, cooldown_failures ...)
    # come from ChainSettings, named as in the image service.
    # Past both a new call is refused at once with UNAVAILABLE and when to retry.
    max_in_flight: int = Field(
        default=64, ge=1, description="Structuring calls at once (each holds an LLM stream)."
    )
    max_queued: int = Field(
        default=128,
        ge=0,
        description="Structuring calls that may wait for one; past that a new call gets "
        "UNAVAILABLE with when to retry.",
    )
