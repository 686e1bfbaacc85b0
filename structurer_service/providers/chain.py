"""The configured providers as one: retries, fallback and cooldown around streamed structuring.

Each attempt runs in a task of its own under the per-attempt timeout, so the timeout covers the
provider's work only; its drafts reach the caller as they arrive. When an attempt fails partway,
the next attempt (a retry or the next provider) starts over: field groups already announced stand,
and the final case study is the successful attempt's.

Each attempt is a ``structure.attempt`` span, current while the provider works (its HTTP calls nest
below it) and ended with the chain's verdict, so a cut-off attempt reads as a timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence

from opentelemetry import trace

from casecraft.errors import ProviderError
from casecraft.resilience import AttemptRecord, Cooldown, RetryPolicy, run_chain
from casecraft.v1 import structurer_pb2
from structurer_service.providers import Draft, Structured, StructurerProvider

log = logging.getLogger(__name__)
tracer = trace.get_tracer(__name__)
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


def error_type(error: ProviderError) -> str:
    """The HTTP status the provider answered, else the kind of exception (``TimeoutError``...)."""
    if error.status is not None:
        return str(error.status)
    cause = error.__cause__
    return type(cause if cause is not None else error).__name__


class AttemptSpans:
    """The ``structure.attempt`` spans of one chain call, by provider and attempt number."""

    def __init__(self) -> None:
        self._open: dict[tuple[str, int], trace.Span] = {}

    @contextlib.contextmanager
    def attempt(self, provider: str, number: int) -> Iterator[trace.Span]:
        """The attempt's span, current inside the block and left open for ``finish``."""
        span = tracer.start_span(
            "structure.attempt",
            attributes={"casecraft.provider": provider, "casecraft.attempt": number},
        )
        self._open[(provider, number)] = span
        with trace.use_span(
            span, end_on_exit=False, record_exception=False, set_status_on_exception=False
        ):
            yield span

    def finish(self, record: AttemptRecord) -> None:
        """End the attempt's span with the chain's verdict on it."""
        span = self._open.pop((record.provider, record.number), None)
        if span is None:
            return
        if record.error is not None:
            span.record_exception(record.error)
            span.set_attribute("error.type", error_type(record.error))
            if record.wait_s is not None:
                span.set_attribute("casecraft.retry_in_s", round(record.wait_s, 4))
            span.set_status(trace.StatusCode.ERROR, str(record.error))
        span.end()

    def close(self) -> None:
        """End the spans of attempts the chain never judged (their caller went away)."""
        for span in self._open.values():
            span.set_attribute("casecraft.cancelled", True)
            span.end()
        self._open.clear()


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
        spans = AttemptSpans()

        def attempt(provider: StructurerProvider) -> Callable[[], Awaitable[Structured]]:
            number = 0

            async def run() -> Structured:
                nonlocal number
                number += 1
                with spans.attempt(provider.name, number) as span:
                    final = await consume(provider)
                    if final.usage.model:
                        span.set_attribute("gen_ai.request.model", final.usage.model)
                    return final

            return run

        async def consume(provider: StructurerProvider) -> Structured:
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

        def on_attempt(record: AttemptRecord) -> None:
            spans.finish(record)
            record_attempt(record)

        task = asyncio.create_task(
            run_chain(
                [(p.name, attempt(p)) for p in self.providers],
                policy=self._policy,
                cooldown=self._cooldown,
                attempt_timeout_s=self._attempt_timeout_s,
                on_attempt=on_attempt,
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
            spans.close()
        structured = result.value
        usage = structurer_pb2.Usage()
        usage.CopyFrom(structured.usage)
        # Calls that failed before the winner count too (the winner counted its own re-asks).
        usage.attempts = max(usage.attempts, 1) + result.attempts - 1
        yield Structured(structured.case_study, usage, structured.warnings)
