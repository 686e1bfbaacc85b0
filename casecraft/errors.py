"""Failures a caller can act on, shared by the services; each maps to one gRPC status."""

from __future__ import annotations


class ProviderError(Exception):
    """One provider attempt failed. ``retryable`` says whether trying again may help."""

    def __init__(self, provider: str, message: str, *, retryable: bool = False) -> None:
        super().__init__(f"{provider}: {message}")
        self.provider = provider
        self.retryable = retryable


class AllProvidersFailed(Exception):
    """Every provider in the chain failed; the message lists why, provider by provider."""

    def __init__(self, failures: list[str]) -> None:
        super().__init__("every provider failed: " + "; ".join(failures))
        self.failures = failures
