"""Provider names as configured, mapped to their constructors: one line per provider."""

from __future__ import annotations

from collections.abc import Callable

from structurer_service.providers import StructurerProvider
from structurer_service.settings import StructurerSettings


def _local(settings: StructurerSettings) -> StructurerProvider:
    from structurer_service.providers.local import LocalStructurer

    return LocalStructurer()


FACTORIES: dict[str, Callable[[StructurerSettings], StructurerProvider]] = {
    "local": _local,
}


def build_chain(settings: StructurerSettings) -> list[StructurerProvider]:
    """The configured providers in order; an unknown name is an error at start-up."""
    chain = settings.provider_chain
    unknown = [name for name in chain if name not in FACTORIES]
    if unknown or not chain:
        raise ValueError(
            f"CASECRAFT_STRUCTURER_PROVIDERS={settings.providers!r}: unknown provider(s) "
            f"{unknown or '(none given)'}; choose from {', '.join(FACTORIES)}"
        )
    return [FACTORIES[name](settings) for name in chain]
