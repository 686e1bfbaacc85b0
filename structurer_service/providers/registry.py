"""Provider names as configured, mapped to their constructors: one line per provider."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import httpx

from casecraft.registry import build_providers, required_key
from structurer_service.providers import StructurerProvider
from structurer_service.providers.chain import ChainStructurer
from structurer_service.providers.llm import Prices
from structurer_service.settings import StructurerSettings

CHAIN_VARIABLE = "CASECRAFT_STRUCTURER_PROVIDERS"


def _key(settings: StructurerSettings, provider: str) -> str:
    secret, variable = {
        "anthropic": (settings.anthropic_api_key, "ANTHROPIC_API_KEY"),
        "openai_compatible": (settings.openrouter_api_key, "OPENROUTER_API_KEY"),
    }[provider]
    return required_key(secret, provider=provider, key=variable, chain=CHAIN_VARIABLE)


def _http_timeout(settings: StructurerSettings) -> httpx.Timeout:
    return httpx.Timeout(settings.read_timeout_s, connect=settings.connect_timeout_s)


def _local(settings: StructurerSettings) -> StructurerProvider:
    from structurer_service.providers.local import LocalStructurer

    return LocalStructurer()


def _anthropic(settings: StructurerSettings) -> StructurerProvider:
    from structurer_service.providers.anthropic import AnthropicStructurer, ClaudeModel

    s = settings
    return AnthropicStructurer(
        api_key=_key(s, "anthropic"),
        base_url=s.anthropic_base_url,
        model=ClaudeModel(
            s.anthropic_model,
            Prices(s.anthropic_input_usd_per_mtok, s.anthropic_output_usd_per_mtok),
        ),
        fast_model=ClaudeModel(
            s.anthropic_fast_model,
            Prices(s.anthropic_fast_input_usd_per_mtok, s.anthropic_fast_output_usd_per_mtok),
        ),
        max_tokens=s.max_output_tokens,
        read_timeout_s=s.read_timeout_s,
        connect_timeout_s=s.connect_timeout_s,
    )


def _openai_compatible(settings: StructurerSettings) -> StructurerProvider:
    from structurer_service.providers.openai_compatible import ChatModel, OpenAICompatibleStructurer

    s = settings
    return OpenAICompatibleStructurer(
        api_key=_key(s, "openai_compatible"),
        base_url=s.openrouter_base_url,
        model=ChatModel(
            s.openai_compatible_model,
            Prices(s.openai_compatible_input_usd_per_mtok, s.openai_compatible_output_usd_per_mtok),
        ),
        fast_model=ChatModel(
            s.openai_compatible_fast_model,
            Prices(
                s.openai_compatible_fast_input_usd_per_mtok,
                s.openai_compatible_fast_output_usd_per_mtok,
            ),
        ),
        max_tokens=s.max_output_tokens,
        timeout=_http_timeout(s),
        idle_timeout_s=s.stream_idle_timeout_s,
    )


FACTORIES: dict[str, Callable[[StructurerSettings], StructurerProvider]] = {
    "local": _local,
    "anthropic": _anthropic,
    "openai_compatible": _openai_compatible,
}


def build_chain(settings: StructurerSettings) -> list[StructurerProvider]:
    """The configured providers in order; an unknown name or a missing key is an error at start-up."""
    return build_providers(settings.provider_chain, FACTORIES, settings, variable=CHAIN_VARIABLE)


def resilient(
    providers: list[StructurerProvider],
    settings: StructurerSettings,
    *,
    sleep: Callable[[float], Awaitable[None]] | None = None,
    clock: Callable[[], float] | None = None,
) -> ChainStructurer:
    """The providers as one chain with the configured retries, timeouts and cooldown;
    ``sleep``/``clock`` for tests."""
    return ChainStructurer(
        providers,
        policy=settings.retry_policy(sleep),
        cooldown=settings.cooldown(clock),
        attempt_timeout_s=settings.attempt_timeout_s,
    )
