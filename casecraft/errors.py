"""Failures a caller can act on, shared by the services; each maps to one gRPC status."""

from __future__ import annotations


class ProviderError(Exception):
    """One provider attempt failed. ``retryable`` says whether trying again may help.

    ``status`` is the HTTP status when the provider answered one; ``retry_after_s`` is the wait the
    provider asked for (``retry-after-ms`` / ``retry-after``), when it asked. The message carries the
    status and the provider's own error message only: never a key, a header or the request.
    """

    def __init__(
        self,
        provider: str,
        message: str,
        *,
        retryable: bool = False,
        status: int | None = None,
        retry_after_s: float | None = None,
    ) -> None:
        super().__init__(f"{provider}: {message}")
        self.provider = provider
        self.message = message
        self.retryable = retryable
        self.status = status
        self.retry_after_s = retry_after_s


class AllProvidersFailed(Exception):
    """Every provider in the chain failed; the message lists why, provider by provider."""

    def __init__(self, failures: list[str]) -> None:
        super().__init__("every provider failed: " + "; ".join(failures))
        self.failures = failures


class ConfigurationError(ValueError):
    """A service cannot start as configured (a provider without its key, a port in use); the
    message names the setting to change. Services exit with it as one line, not a traceback."""
