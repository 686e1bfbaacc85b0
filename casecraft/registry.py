"""Building a service's ordered provider chain from its configured names."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TypeVar

from casecraft.errors import ConfigurationError

S = TypeVar("S")
P = TypeVar("P")


def build_providers(
    names: list[str], factories: Mapping[str, Callable[[S], P]], settings: S, *, variable: str
) -> list[P]:
    """The named providers in order; an unknown name (or none) is an error at start-up."""
    unknown = [name for name in names if name not in factories]
    if unknown or not names:
        raise ConfigurationError(
            f"{variable}={','.join(names)!r}: unknown provider(s) "
            f"{unknown or '(none given)'}; choose from {', '.join(factories)}"
        )
    return [factories[name](settings) for name in names]
