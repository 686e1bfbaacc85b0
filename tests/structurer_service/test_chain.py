"""The structurer chain: drafts stream through, failures retry or fall back, attempts add up."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan

from casecraft.cooldown import Cooldown
from casecraft.errors import AllProvidersFailed, ProviderError
from casecraft.retry import RetryPolicy
from casecraft.telemetry import configure_tracing, span_capture
from casecraft.v1 import case_study_pb2, structurer_pb2
from structurer_service.providers import Draft, Structured
from structurer_service.providers.chain import ChainStructurer
from tests.fakes.clock import Sleeps


class Scripted:
    """A provider that writes one draft, then fails or answers as scripted per call."""

    def __init__(self, name: str, outcomes: list[str]) -> None:
        self.name = name
        self.calls = 0
        self.closed = 0
        self._outcomes = outcomes
        self.started = asyncio.Event()

    async def structure(self, notes: str, *, fast: bool) -> AsyncIterator[Draft | Structured]:
        outcome = self._outcomes[self.calls]
        self.calls += 1
        try:
            yield Draft({"client_name": f"{self.name} {self.calls}"})
            self.started.set()
            if outcome == "overloaded":
                raise ProviderError(self.name, "overloaded", retryable=True, status=529)
            if outcome == "hang":
                await asyncio.Event().wait()
            yield Structured(
                case_study_pb2.CaseStudy(client_name=self.name),
                structurer_pb2.Usage(provider=self.name, model=f"{self.name}-model", attempts=1),
            )
        finally:
            self.closed += 1


def chain(*providers: Scripted, attempts: int = 2, timeout_s: float = 10) -> ChainStructurer:
    return ChainStructurer(
        providers,
        policy=RetryPolicy(max_attempts=attempts, sleep=Sleeps()),
        cooldown=Cooldown(),
        attempt_timeout_s=timeout_s,
    )


async def collect(structurer: ChainStructurer) -> list[Draft | Structured]:
    return [item async for item in structurer.structure("notes", fast=False)]


async def test_drafts_of_every_attempt_stream_through_and_attempts_add_up() -> None:
    first = Scripted("a", ["overloaded", "overloaded"])
    second = Scripted("b", ["ok"])
    items = await collect(chain(first, second))
    drafts = [i.fields["client_name"] for i in items if isinstance(i, Draft)]
    assert drafts == ["a 1", "a 2", "b 1"]
    final = items[-1]
    assert isinstance(final, Structured)
    assert final.case_study.client_name == "b" and final.usage.attempts == 3
    assert first.closed == 2 and second.closed == 1


async def test_every_provider_failing_raises_all_providers_failed() -> None:
    with pytest.raises(AllProvidersFailed, match="a: overloaded"):
        await collect(chain(Scripted("a", ["overloaded"]), attempts=1))


async def test_a_caller_that_goes_away_cancels_the_attempt() -> None:
    provider = Scripted("a", ["hang"])
    stream = chain(provider).structure("notes", fast=False)
    first = await anext(stream)
    assert isinstance(first, Draft)
    await provider.started.wait()
    await stream.aclose()  # type: ignore[attr-defined]
    assert provider.closed == 1


async def traced(structurer: ChainStructurer) -> ReadableSpan:
    """The chain run under a ``structure`` span, as the servicer runs it; that span, ended."""
    configure_tracing("tests")
    parent = trace.get_tracer(__name__).start_span("structure")
    with span_capture().capture(parent) as spans:
        with trace.use_span(parent, end_on_exit=True):
            await collect(structurer)
    (root,) = [s for s in spans if s.name == "structure"]
    return root


def attempts(span: ReadableSpan) -> list[dict[str, object]]:
    return [dict(e.attributes or {}) for e in span.events if e.name == "provider_attempt"]


async def test_each_attempt_is_an_event_that_says_how_it_ended() -> None:
    root = await traced(chain(Scripted("a", ["overloaded", "ok"])))
    failed, succeeded = attempts(root)

    assert failed["casecraft.provider"] == "a"
    assert failed["casecraft.attempt"] == 1
    assert failed["error.type"] == "529"
    assert "overloaded" in str(failed["casecraft.error"]).lower()
    assert "casecraft.retry_in_s" in failed

    assert set(succeeded) == {"casecraft.provider", "casecraft.attempt", "casecraft.duration_s"}
    assert succeeded["casecraft.attempt"] == 2
    # No span per attempt: the attempts are the structure span's events, in order.
    assert [e.name for e in root.events] == ["provider_attempt", "provider_attempt"]


async def test_an_attempt_cut_off_by_its_deadline_is_a_timeout() -> None:
    root = await traced(chain(Scripted("a", ["hang", "ok"]), timeout_s=0.05))
    failed, succeeded = attempts(root)
    assert failed["error.type"] == "TimeoutError"
    assert "error.type" not in succeeded
