"""The configured providers as one: retries, fallback and cooldown around streamed structuring.

Each attempt runs in a task of its own under the per-attempt timeout, so the timeout covers the
provider's work only; its drafts reach the caller as they arrive. When an attempt fails partway,
the next attempt (a retry or the next provider) starts over: field groups already announced stand,
and the final case study is the successful attempt's.

Each attempt is a ``provider_attempt`` event on the ``structure`` span, with its duration and the
chain's verdict (a cut-off attempt reads as a timeout); the provider's HTTP calls nest below that
span, one per attempt.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from typing import TypeVar

from opentelemetry import trace

from casecraft.cooldown import Cooldown
from casecraft.errors import AllProvidersFailed, ProviderError
from casecraft.retry import AttemptRecord, ChainResult, RetryPolicy, attempt_event, run_chain
from casecraft.v1 import structurer_pb2
from structurer_service.providers import (
    CANNOT_REFINE,
    CannotRefine,
    Draft,
    Refinement,
    RefiningProvider,
    Structured,
    StructurerProvider,
)
from structurer_service.providers.llm import UsageTotals, ledger_context, unanswered

log = logging.getLogger(__name__)
_DONE = object()
P = TypeVar("P", bound=StructurerProvider)


def record_attempt(record: AttemptRecord) -> None:
    """Each provider call as an event on the ``structure`` span; failures are logged too."""
    if record.error is not None:
        log.warning(
            "structuring attempt failed",
            extra={
                "provider": record.provider,
                "attempt": record.number,
                "error": str(record.error),
            },
        )
    attempt_event(record)


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

    def structure(self, notes: str, *, fast: bool) -> AsyncIterator[Draft | Structured]:
        return self._run(self.providers, lambda provider: provider.structure(notes, fast=fast))

    def refine(self, refinement: Refinement, *, fast: bool) -> AsyncIterator[Draft | Structured]:
        """The rewrite by the first provider of the chain that can follow an instruction;
        ``CannotRefine`` when none of them can."""
        refiners = [p for p in self.providers if isinstance(p, RefiningProvider)]
        if not refiners:
            raise CannotRefine(CANNOT_REFINE)
        return self._run(refiners, lambda provider: provider.refine(refinement, fast=fast))

    async def _run(
        self,
        providers: Sequence[P],
        start: Callable[[P], AsyncIterator[Draft | Structured]],
    ) -> AsyncIterator[Draft | Structured]:
        queue: asyncio.Queue[object] = asyncio.Queue()

        async def consume(provider: P) -> Structured:
            final: Structured | None = None
            stream = start(provider)
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

        ledger: list[UsageTotals] = []
        task = asyncio.create_task(
            run_chain(
                [(p.name, functools.partial(consume, p)) for p in providers],
                policy=self._policy,
                cooldown=self._cooldown,
                attempt_timeout_s=self._attempt_timeout_s,
                on_attempt=record_attempt,
            ),
            context=ledger_context(ledger),
        )
        task.add_done_callback(lambda _: queue.put_nowait(_DONE))
        try:
            while (item := await queue.get()) is not _DONE:
                assert isinstance(item, Draft)
                yield item
            result = task.result()
        except AllProvidersFailed:
            # No answer carries them, but the tokens were spent: the step's span (and from it
            # the token metrics) says how many.
            input_tokens, output_tokens, _ = unanswered(ledger)
            trace.get_current_span().set_attributes(
                {
                    "gen_ai.usage.input_tokens": input_tokens,
                    "gen_ai.usage.output_tokens": output_tokens,
                }
            )
            raise
        finally:
            if not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        structured = result.value
        usage = structurer_pb2.Usage()
        usage.CopyFrom(structured.usage)
        # Calls that failed before the winner count too (the winner counted its own re-asks),
        # and so do their tokens and cost.
        usage.attempts = max(usage.attempts, 1) + result.attempts - 1
        input_tokens, output_tokens, cost_usd = unanswered(ledger)
        usage.input_tokens += input_tokens
        usage.output_tokens += output_tokens
        usage.cost_usd += cost_usd
        yield Structured(
            structured.case_study,
            usage,
            (*_fell_back(result), *structured.warnings),
            structured.needs_review,
        )


def _fell_back(result: ChainResult[Structured]) -> tuple[str, ...]:
    """One warning per provider that failed before the one that answered, naming what happened."""
    return tuple(
        f"{failure.provider} failed ({failure.message}); the case study was written by "
        f"{result.provider}"
        for failure in result.failures
    )
