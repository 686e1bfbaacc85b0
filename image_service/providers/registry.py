"""Provider names as configured, mapped to their constructors: one line per provider."""

from __future__ import annotations

from collections.abc import Callable

from image_service.providers import ImageProvider
from image_service.settings import ImageSettings


def _local(settings: ImageSettings) -> ImageProvider:
    from image_service.providers.local import LocalRenderer

    return LocalRenderer()


FACTORIES: dict[str, Callable[[ImageSettings], ImageProvider]] = {
    "local": _local,
}


def build_chain(settings: ImageSettings) -> list[ImageProvider]:
    """The configured providers in order; an unknown name is an error at start-up."""
    chain = settings.provider_chain
    unknown = [name for name in chain if name not in FACTORIES]
    if unknown or not chain:
        raise ValueError(
            f"CASECRAFT_IMAGE_PROVIDERS={settings.providers!r}: unknown provider(s) "
            f"{unknown or '(none given)'}; choose from {', '.join(FACTORIES)}"
        )
    return [FACTORIES[name](settings) for name in chain]
