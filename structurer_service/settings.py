"""The structurer's settings, read once from CASECRAFT_STRUCTURER_* environment variables.

The providers' own variables keep the names their SDKs and docs use: ANTHROPIC_API_KEY,
ANTHROPIC_BASE_URL, OPENROUTER_API_KEY, OPENROUTER_BASE_URL.
"""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from casecraft.config import unprefixed
from casecraft.grpc_server import GrpcServerSettings
from casecraft.registry import ChainSettings


class StructurerSettings(GrpcServerSettings, ChainSettings):
    model_config = SettingsConfigDict(
        env_prefix="CASECRAFT_STRUCTURER_", validate_by_name=True, validate_by_alias=True
    )

    port: int = 50051
    # Prometheus text at /metrics on this port (0: any free port, logged at start-up).
    metrics_port: int = 9464

    anthropic_api_key: SecretStr | None = Field(
        None, validation_alias=unprefixed("ANTHROPIC_API_KEY")
    )
    # As the SDK reads it: without /v1.
    anthropic_base_url: str = Field(
        "https://api.anthropic.com", validation_alias=unprefixed("ANTHROPIC_BASE_URL")
    )
    anthropic_model: str = "claude-sonnet-5-5"
    anthropic_fast_model: str = "claude-haiku-5-5"
    # Estimated cost, US dollars per million tokens: Anthropic's list prices for the two models
    # above (Haiku 5.5's for prompts up to 100K tokens; it costs 5 x that above).
    anthropic_input_usd_per_mtok: float = Field(default=2.0, ge=0)
    anthropic_output_usd_per_mtok: float = Field(default=10.0, ge=0)
    anthropic_fast_input_usd_per_mtok: float = Field(default=0.10, ge=0)
    anthropic_fast_output_usd_per_mtok: float = Field(default=0.50, ge=0)

    openrouter_api_key: SecretStr | None = Field(
        None, validation_alias=unprefixed("OPENROUTER_API_KEY")
    )
    # Any OpenAI-compatible API; requests go to {base}/chat/completions.
    openrouter_base_url: str = Field(
        "https://openrouter.ai/api/v1", validation_alias=unprefixed("OPENROUTER_BASE_URL")
    )
    openai_compatible_model: str = "anthropic/claude-sonnet-4.5"
    openai_compatible_fast_model: str = "anthropic/claude-haiku-4.5"
    # The list prices of the two models above.
    openai_compatible_input_usd_per_mtok: float = Field(default=3.0, ge=0)
    openai_compatible_output_usd_per_mtok: float = Field(default=15.0, ge=0)
    openai_compatible_fast_input_usd_per_mtok: float = Field(default=1.0, ge=0)
    openai_compatible_fast_output_usd_per_mtok: float = Field(default=5.0, ge=0)

    max_output_tokens: int = Field(default=8192, ge=256, le=200_000)
    # One provider call, streamed from first byte to last; a call past it is cut off and retried.
    attempt_timeout_s: float = Field(default=180.0, gt=0)
    # Longest silence between two chunks of a stream, and longest wait for a connection.
    read_timeout_s: float = Field(default=60.0, gt=0)
    connect_timeout_s: float = Field(default=10.0, gt=0)
    # Longest wait for new content in an openai_compatible stream (keep-alives do not count): a
    # local server that stalls near the end of an answer fails the attempt as a timeout.
    stream_idle_timeout_s: float = Field(default=30.0, gt=0)
    # The retry and cooldown knobs (retry_max_attempts, retry_after_max_s, cooldown_failures ...)
    # come from ChainSettings, named as in the image service.
    # Structuring calls at once (each holds an LLM stream), and how many more may wait for one;
    # past both a new call is refused at once with UNAVAILABLE and when to retry.
    max_in_flight: int = Field(default=64, ge=1)
    max_queued: int = Field(default=128, ge=0)
