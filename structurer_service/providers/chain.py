"""The configured providers as one: retries, fallback and cooldown around streamed structuring.

Each attempt runs in a task of its own under the per-attempt timeout, so the timeout covers the
provider's work only; its drafts reach the caller as they arrive. When an attempt fails partway,
the next attempt (a retry or the next provider) starts over: field groups already announced stand,
and the final case study is the successful attempt's.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence

from opentelemetry import trace

from casecraft.errors import ProviderError
from casecraft.resilience import AttemptRecord, Cooldown, RetryPolicy, run_chain
from casecraft.v1 import structurer_pb2
from structurer_service.providers import Draft, Structured, StructurerProvider

log = logging.getLogger(__name__)
_DONE = object()


def record_attempt(record: AttemptRecord) -> None:
    """Each provider call as a span event on the current span; failures are logged too."""
    attributes: dict[str, str | int | float] = {
        "casecraft.provider": record.provider,
        "casecraft.attempt": record.number,
        "casecraft.duration_s": round(record.duration_s, 4),
    }
    if record.error is not None:
        attributes["casecraft.error"] = record.error.message
        if record.wait_s is not None:
            attributes["casecraft.retry_in_s"] = round(record.wait_s, 4)
        log.warning(
            "structuring attempt failed",
            extra={
                "provider": record.provider,
                "attempt": record.number,
                "error": str(record.error),
            },
        )
    trace.get_current_span().add_event("provider_attempt", attributes)


class ChainStructurer:
    def __init__(
        self,
        providers: Sequence[StructurerProvider],
        *,
        policy: RetryPolicy,
        cooldown: Cooldown,
        attempt_timeout_s: float,
    ) -> None:
        self.providers = tuple(providers)
        self.name = ",".join(p.name for p in self.providers)
        self._policy = policy
        self._cooldown = cooldown
        self._attempt_timeout_s = attempt_timeout_s

    async def aclose(self) -> None:
        """Close the providers' HTTP clients."""
        for provider in self.providers:
            aclose = getattr(provider, "aclose", None)
            if aclose is not None:
                await aclose()

    async def structure(self, notes: str, *, fast: bool) -> AsyncIterator[Draft | Structured]:
        queue: asyncio.Queue[object] = asyncio.Queue()

        def attempt(provider: StructurerProvider) -> Callable[[], Awaitable[Structured]]:
            async def run() -> Structured:
                final: Structured | None = None
                stream = provider.structure(notes, fast=fast)
                try:
                    async for item in stream:
                        if isinstance(item, Draft):
                            queue.put_nowait(item)
                        else:
                            final = item
                finally:
                    aclose = getattr(stream, "aclose", None)
                    if aclose is not None:
                        await aclose()
                if final is None:
                    raise ProviderError(provider.name, "ended without a case study")
                return final

            return run

        task = asyncio.create_task(
            run_chain(
                [(p.name, attempt(p)) for p in self.providers],
                policy=self._policy,
                cooldown=self._cooldown,
                attempt_timeout_s=self._attempt_timeout_s,
                on_attempt=record_attempt,
            )
        )
        task.add_done_callback(lambda _: queue.put_nowait(_DONE))
        try:
            while (item := await queue.get()) is not _DONE:
                assert isinstance(item, Draft)
                yield item
            result = task.result()
        finally:
            if not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        structured = result.value
        usage = structurer_pb2.Usage()
        usage.CopyFrom(structured.usage)
        # Calls that failed before the winner count too (the winner counted its own re-asks).
        usage.attempts = max(usage.attempts, 1) + result.attempts - 1
        yield Structured(structured.case_study, usage, structured.warnings)
