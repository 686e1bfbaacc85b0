"""Provider names as configured, mapped to their constructors: one line per provider."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from pydantic import SecretStr

from casecraft.registry import build_providers, required_key
from image_service.image_check import ImageLimits
from image_service.providers import ImageProvider
from image_service.providers.chain import ImageChain
from image_service.settings import ImageSettings

CHAIN_VARIABLE = "CASECRAFT_IMAGE_PROVIDERS"


def _local(settings: ImageSettings) -> ImageProvider:
    from image_service.providers.local import LocalRenderer

    return LocalRenderer()


def _openrouter(settings: ImageSettings) -> ImageProvider:
    from image_service.providers.openrouter import OpenRouterImages

    return OpenRouterImages(
        api_key=_key(settings, "openrouter"),
        base_url=settings.openrouter_base_url,
        model=settings.openrouter_model,
        fast_model=settings.openrouter_fast_model,
        image_size=settings.openrouter_image_size,
        fast_image_size=settings.openrouter_fast_image_size,
        limits=image_limits(settings),
        timeout_s=settings.attempt_timeout_s,
    )


def _openai(settings: ImageSettings) -> ImageProvider:
    from image_service.providers.openai_images import OpenAIImages

    return OpenAIImages(
        api_key=_key(settings, "openai"),
        base_url=settings.openai_base_url,
        model=settings.openai_model,
        fast_model=settings.openai_fast_model,
        quality=settings.openai_quality,
        fast_quality=settings.openai_fast_quality,
        limits=image_limits(settings),
        timeout_s=settings.attempt_timeout_s,
    )


FACTORIES: dict[str, Callable[[ImageSettings], ImageProvider]] = {
    "local": _local,
    "openrouter": _openrouter,
    "openai": _openai,
}


def build_chain(settings: ImageSettings) -> list[ImageProvider]:
    """The configured providers in order; an unknown name or a missing key fails at start-up."""
    return build_providers(settings.provider_chain, FACTORIES, settings, variable=CHAIN_VARIABLE)


def resilient(
    providers: list[ImageProvider],
    settings: ImageSettings,
    *,
    sleep: Callable[[float], Awaitable[None]] | None = None,
    clock: Callable[[], float] | None = None,
) -> ImageChain:
    """The providers as one chain with the configured retries, timeouts and cooldown;
    ``sleep``/``clock`` for tests."""
    return ImageChain(
        providers,
        policy=settings.retry_policy(sleep),
        cooldown=settings.cooldown(clock),
        attempt_timeout_s=settings.attempt_timeout_s,
    )


def image_limits(settings: ImageSettings) -> ImageLimits:
    return ImageLimits(max_bytes=settings.max_image_bytes, max_pixels=settings.max_image_pixels)


def _key(settings: ImageSettings, provider: str) -> SecretStr:
    secret, variable = {
        "openrouter": (settings.openrouter_api_key, "OPENROUTER_API_KEY"),
        "openai": (settings.openai_api_key, "OPENAI_API_KEY"),
    }[provider]
    return SecretStr(required_key(secret, provider=provider, key=variable, chain=CHAIN_VARIABLE))
