"""The ordered image provider chain: retries, fallback, cooldown and per-attempt timeouts.

The loop itself is ``casecraft.resilience.run_chain``, shared with the structurer; this module adds
what is particular to images: each attempt as a ``provider_attempt`` event on the job's
``image.generate`` span, and the winning provider, model and attempt count for the ImageResult.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass

from casecraft.errors import AllProvidersFailed, ProviderError
from casecraft.resilience import (
    AttemptRecord,
    Cooldown,
    RetryPolicy,
    attempt_event,
    error_from_exception,
    redact,
    run_chain,
)
from casecraft.v1 import image_pb2
from image_service.providers import GeneratedImage, ImageProvider
from image_service.settings import ImageSettings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ChainedImage:
    image: GeneratedImage
    # The provider that produced the image.
    provider: str
    # Provider calls made for the job, retries and fallbacks included.
    attempts: int


class ImageChainFailed(AllProvidersFailed):
    """Every provider failed for one job; ``attempts`` counts the calls made."""

    def __init__(self, failures: list[str], attempts: int) -> None:
        super().__init__(failures)
        self.attempts = attempts


class ImageChain:
    """Runs a job through the providers in order; the first image wins.

    One chain serves every request of the process, so its cooldown is shared by all of them.
    """

    def __init__(
        self,
        providers: Sequence[ImageProvider],
        *,
        policy: RetryPolicy | None = None,
        cooldown: Cooldown | None = None,
        attempt_timeout_s: float | Mapping[str, float] = 60.0,
    ) -> None:
        if not providers:
            raise ValueError("an image chain needs at least one provider")
        self.providers = tuple(providers)
        self.policy = policy or RetryPolicy()
        self.cooldown = cooldown or Cooldown()
        self.attempt_timeout_s = attempt_timeout_s

    @classmethod
    def from_settings(
        cls,
        settings: ImageSettings,
        providers: Sequence[ImageProvider],
        *,
        sleep: Callable[[float], Awaitable[None]] | None = None,
        clock: Callable[[], float] | None = None,
    ) -> ImageChain:
        """A chain with the configured retry, cooldown and timeout; ``sleep``/``clock`` for tests."""
        policy = RetryPolicy(
            max_attempts=settings.max_attempts,
            base_delay_s=settings.retry_base_delay_s,
            max_delay_s=settings.retry_max_delay_s,
            max_retry_after_s=settings.retry_after_max_s,
            **({"sleep": sleep} if sleep is not None else {}),
        )
        cooldown = Cooldown(
            settings.cooldown_failures,
            settings.cooldown_s,
            **({"clock": clock} if clock is not None else {}),
        )
        return cls(
            providers,
            policy=policy,
            cooldown=cooldown,
            attempt_timeout_s=settings.attempt_timeout_s,
        )

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(provider.name for provider in self.providers)

    def next_provider(self) -> ImageProvider:
        """The provider a job started now would try first: the first one not cooling down."""
        for provider in self.providers:
            if self.cooldown.available(provider.name):
                return provider
        return self.providers[0]

    async def generate(self, job: image_pb2.ImageJob) -> ChainedImage:
        """The job's image from the first provider that succeeds, or ImageChainFailed."""
        records: list[AttemptRecord] = []

        def on_attempt(record: AttemptRecord) -> None:
            records.append(record)
            attempt_event(record)
            if record.error is not None:
                log.info(
                    "image attempt failed",
                    extra={
                        "provider": record.provider,
                        "attempt": record.number,
                        "error": str(record.error),
                        "retry_in_s": record.wait_s,
                    },
                )

        calls = [(provider.name, self._attempt(provider, job)) for provider in self.providers]
        try:
            result = await run_chain(
                calls,
                policy=self.policy,
                cooldown=self.cooldown,
                attempt_timeout_s=self.attempt_timeout_s,
                on_attempt=on_attempt,
            )
        except AllProvidersFailed as exc:
            raise ImageChainFailed(exc.failures, len(records)) from None
        return ChainedImage(result.value, result.provider, result.attempts)

    @staticmethod
    def _attempt(
        provider: ImageProvider, job: image_pb2.ImageJob
    ) -> Callable[[], Awaitable[GeneratedImage]]:
        async def attempt() -> GeneratedImage:
            try:
                return await provider.generate(job)
            except ProviderError:
                raise
            except Exception as exc:
                raise _classified(provider.name, exc) from exc

        return attempt


def _classified(provider: str, exc: Exception) -> ProviderError:
    """Connection failures and timeouts as the shared loop classifies them (retryable); any other
    exception keeps its message, redacted and bounded, because for an image provider it says what
    to fix (the local renderer's "metrics job needs at least one metric")."""
    error = error_from_exception(provider, exc)
    if error.retryable:
        return error
    return ProviderError(provider, f"failed: {type(exc).__name__}: {redact(str(exc))}")
