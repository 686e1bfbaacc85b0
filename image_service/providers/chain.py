"""The ordered image provider chain: retries, fallback, cooldown and per-attempt timeouts.

The loop itself is ``casecraft.retry.run_chain``, shared with the structurer; this module adds
what is particular to images: each attempt as a ``provider_attempt`` event on the job's
``image.generate`` span, and the winning provider, model and attempt count for the ImageResult.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass

from casecraft.cooldown import Cooldown
from casecraft.errors import AllProvidersFailed, ProviderError
from casecraft.http_errors import error_from_exception
from casecraft.keys import redact
from casecraft.retry import AttemptRecord, RetryPolicy, attempt_event, run_chain
from casecraft.v1 import image_pb2
from image_service.providers import GeneratedImage, ImageProvider

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
        policy: RetryPolicy,
        cooldown: Cooldown,
        attempt_timeout_s: float | Mapping[str, float],
    ) -> None:
        if not providers:
            raise ValueError("an image chain needs at least one provider")
        self.providers = tuple(providers)
        self._policy = policy
        self._cooldown = cooldown
        self._attempt_timeout_s = attempt_timeout_s

    def next_provider(self) -> ImageProvider:
        """The provider a job started now would try first: the first one not resting."""
        for provider in self.providers:
            if self._cooldown.state(provider.name) != "open":
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
                policy=self._policy,
                cooldown=self._cooldown,
                attempt_timeout_s=self._attempt_timeout_s,
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
