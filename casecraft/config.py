"""Loading a service's settings: a bad environment variable stops the service with its name."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Literal, TypeVar

from pydantic import AliasChoices, BeforeValidator, ValidationError
from pydantic_settings import BaseSettings

from casecraft.errors import ConfigurationError

S = TypeVar("S", bound=BaseSettings)
# What a *_LOG_LEVEL may say, in any case.
LogLevel = Annotated[
    Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"],
    BeforeValidator(lambda value: value.upper() if isinstance(value, str) else value),
]


def unprefixed(name: str) -> AliasChoices:
    """Read a field from the variable its provider documents (``ANTHROPIC_API_KEY``), without the
    service's prefix. The settings class sets ``validate_by_name`` so code can still pass the
    field by its name."""
    return AliasChoices(name)


def load_settings(settings_class: type[S]) -> S:
    """The settings read from the environment. A value that does not fit exits the process with
    each variable to fix and why (never the value itself: it may be a key)."""
    try:
        return settings_class()
    except ValidationError as exc:
        problems = [
            f"{_variable(settings_class, error['loc'])}: {error['msg']}" for error in exc.errors()
        ]
        raise SystemExit("casecraft: invalid setting: " + "; ".join(problems)) from None


def _variable(settings_class: type[BaseSettings], loc: tuple[int | str, ...]) -> str:
    """The environment variable a field is read from."""
    name = str(loc[0]) if loc else ""
    field = settings_class.model_fields.get(name)
    alias = field.validation_alias if field is not None else None
    if isinstance(alias, str):
        return alias
    if isinstance(alias, AliasChoices):
        return " or ".join(str(choice) for choice in alias.choices)
    return f"{settings_class.model_config.get('env_prefix', '')}{name}".upper()


@contextmanager
def exit_on_configuration_error() -> Iterator[None]:
    """A service that cannot start as configured exits with one line saying what to change."""
    try:
        yield
    except ConfigurationError as exc:
        raise SystemExit(f"casecraft: {exc}") from None
