"""The structurer chain: drafts stream through, failures retry or fall back, attempts add up."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from casecraft.errors import AllProvidersFailed, ProviderError
from casecraft.resilience import Cooldown, RetryPolicy
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
                raise ProviderError(self.name, "overloaded", retryable=True)
            if outcome == "hang":
                await asyncio.Event().wait()
            yield Structured(
                case_study_pb2.CaseStudy(client_name=self.name),
                structurer_pb2.Usage(provider=self.name, attempts=1),
            )
        finally:
            self.closed += 1


def chain(*providers: Scripted, attempts: int = 2) -> ChainStructurer:
    return ChainStructurer(
        providers,
        policy=RetryPolicy(max_attempts=attempts, sleep=Sleeps()),
        cooldown=Cooldown(),
        attempt_timeout_s=10,
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
