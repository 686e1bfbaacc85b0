"""A service's ordered provider chain from its configuration: the settings both services share,
the providers by name, and the retry policy and cooldown around them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import TypeVar

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings

from casecraft.cooldown import Cooldown
from casecraft.errors import ConfigurationError
from casecraft.retry import RetryPolicy

S = TypeVar("S")
P = TypeVar("P")


class ChainSettings(BaseSettings):
    """The provider chain's knobs, named the same in every service (each adds its own prefix:
    ``CASECRAFT_STRUCTURER_RETRY_MAX_ATTEMPTS``, ``CASECRAFT_IMAGE_RETRY_MAX_ATTEMPTS`` ...)."""

    providers: str = Field(
        default="local",
        description="Ordered provider chain, comma-separated; the first that succeeds wins.",
    )
    attempt_timeout_s: float = Field(
        default=60.0,
        gt=0,
        description="One provider call; a call past it is cut off and counts as a failed, "
        "retryable attempt.",
    )
    retry_max_attempts: int = Field(
        default=3,
        ge=1,
        le=10,
        description="Calls per provider, the first included; only retryable failures are "
        "retried (408, 409, 429, 5xx, connection errors, timeouts), then the next provider is "
        "tried.",
    )
    retry_base_delay_s: float = Field(
        default=0.5,
        ge=0,
        description="First backoff between two calls to one provider (exponential, jittered).",
    )
    retry_max_delay_s: float = Field(default=8.0, ge=0, description="Longest backoff.")
    retry_after_max_s: float = Field(
        default=30.0,
        ge=0,
        description="A provider asking (`retry-after`) to wait longer than this is not retried: "
        "the next one is tried at once.",
    )
    cooldown_failures: int = Field(
        default=3,
        ge=1,
        description="Consecutive failed calls after which a provider rests, skipped by every "
        "request in the process; then one call probes it.",
    )
    cooldown_s: float = Field(default=30.0, ge=0, description="How long a provider rests.")

    @property
    def provider_chain(self) -> list[str]:
        return [name.strip() for name in self.providers.split(",") if name.strip()]

    def retry_policy(self, sleep: Callable[[float], Awaitable[None]] | None = None) -> RetryPolicy:
        """The configured retries; ``sleep`` for tests."""
        return RetryPolicy(
            max_attempts=self.retry_max_attempts,
            base_delay_s=self.retry_base_delay_s,
            max_delay_s=self.retry_max_delay_s,
            retry_after_max_s=self.retry_after_max_s,
            **({"sleep": sleep} if sleep is not None else {}),
        )

    def cooldown(self, clock: Callable[[], float] | None = None) -> Cooldown:
        """A new, healthy cooldown with the configured threshold and rest; ``clock`` for tests."""
        return Cooldown(
            self.cooldown_failures,
            self.cooldown_s,
            **({"clock": clock} if clock is not None else {}),
        )


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


def required_key(secret: SecretStr | None, *, provider: str, key: str, chain: str) -> str:
    """The key a provider named in the chain needs; its absence is an error at start-up that
    names the variable to set (``key``) and the chain's variable (``chain``)."""
    if secret is None or not secret.get_secret_value().strip():
        raise ConfigurationError(
            f"{chain} names {provider!r} but {key} is not set; "
            f"set {key}, or remove {provider!r} from {chain}"
        )
    return secret.get_secret_value()
