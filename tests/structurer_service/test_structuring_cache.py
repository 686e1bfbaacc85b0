"""The structuring cache over a real gRPC server, counted on the loopback Claude fake; each test
runs on the memory backend and on the real Redis (a random key prefix per test)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest

from casecraft.v1 import structurer_pb2, structurer_pb2_grpc
from structurer_service import structuring_cache
from structurer_service.providers import prompt
from structurer_service.providers.anthropic import AnthropicStructurer, ClaudeModel
from structurer_service.providers.llm import Prices
from tests.conftest import running_structurer
from tests.fakes.anthropic import FakeAnthropic
from tests.fakes.notes import NOTES
from tests.fakes.server import serve
from tests.support.providers import ACME, ScriptedStructurer
from tests.support.redis import delete_prefix, private_redis, random_prefix, shared_redis

KEY = "sk-ant-test-key-0123456789abcdef"
SONNET = ClaudeModel("claude-sonnet-5-5", Prices(2.0, 10.0))
HAIKU = ClaudeModel("claude-haiku-5-5", Prices(0.10, 0.50))
HIT, MISS, BYPASS = (
    structurer_pb2.CACHE_OUTCOME_HIT,
    structurer_pb2.CACHE_OUTCOME_MISS,
    structurer_pb2.CACHE_OUTCOME_BYPASS,
)


@pytest.fixture
async def claude() -> AsyncIterator[tuple[FakeAnthropic, AnthropicStructurer]]:
    fake = FakeAnthropic()
    async with serve(fake.app) as base_url:
        provider = AnthropicStructurer(
            api_key=KEY, base_url=base_url, model=SONNET, fast_model=HAIKU
        )
        yield fake, provider
        await provider.aclose()


@pytest.fixture(params=["memory", "redis"])
async def backend(request: pytest.FixtureRequest) -> AsyncIterator[dict[str, Any]]:
    if request.param == "memory":
        yield {}
        return
    url, prefix = await shared_redis(), random_prefix()
    yield {"redis_url": url, "redis_prefix": prefix}
    await delete_prefix(url, prefix)


def ask(notes: str = NOTES, **options: bool) -> structurer_pb2.StructureRequest:
    return structurer_pb2.StructureRequest(
        notes=notes, options=structurer_pb2.StructureOptions(**options)
    )


async def structure(port: int, request: structurer_pb2.StructureRequest) -> Any:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        return await structurer_pb2_grpc.StructurerStub(channel).Structure(request)


async def test_identical_notes_are_answered_from_the_cache_without_calling_claude(
    claude: tuple[FakeAnthropic, AnthropicStructurer], backend: dict[str, Any]
) -> None:
    fake, provider = claude
    async with running_structurer(provider, **backend) as server:  # type: ignore[arg-type]
        first = await structure(server.port, ask())
        again = await structure(server.port, ask())
        other_notes = await structure(server.port, ask(NOTES + "\nPhase 4: rollout."))
        fast = await structure(server.port, ask(fast=True))
    assert len(fake.requests) == 3  # the repeat called nobody
    assert [r["model"] for r in fake.requests][2] == "claude-haiku-5-5"
    assert (first.cache, again.cache, other_notes.cache, fast.cache) == (MISS, HIT, MISS, MISS)
    assert again.case_study == first.case_study and list(again.warnings) == list(first.warnings)
    assert (again.usage.provider, again.usage.model) == ("anthropic", "claude-sonnet-5-5")
    assert (again.usage.attempts, again.usage.input_tokens, again.usage.cost_usd) == (0, 0, 0)
    assert first.usage.attempts == 1 and first.usage.input_tokens > 0
    assert "structure" in {span.name for span in again.spans}


async def test_fresh_structures_again_and_replaces_the_cached_answer(
    claude: tuple[FakeAnthropic, AnthropicStructurer], backend: dict[str, Any]
) -> None:
    fake, provider = claude
    async with running_structurer(provider, **backend) as server:  # type: ignore[arg-type]
        await structure(server.port, ask())
        fresh = await structure(server.port, ask(fresh=True))
        after = await structure(server.port, ask())
    assert len(fake.requests) == 2
    assert (fresh.cache, after.cache) == (BYPASS, HIT)
    assert fresh.usage.attempts == 1


async def test_a_hit_streams_every_field_group_then_the_final_answer_at_once(
    claude: tuple[FakeAnthropic, AnthropicStructurer], backend: dict[str, Any]
) -> None:
    fake, provider = claude
    async with (
        running_structurer(provider, **backend) as server,  # type: ignore[arg-type]
        grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel,
    ):
        stub = structurer_pb2_grpc.StructurerStub(channel)
        missed = [event async for event in stub.StructureStream(ask())]
        hit = [event async for event in stub.StructureStream(ask())]
    assert len(fake.requests) == 1
    assert missed[-1].final.cache == MISS
    [event] = hit
    assert [group.group for group in event.field_groups] == [
        structurer_pb2.FIELD_GROUP_HEADLINE,
        structurer_pb2.FIELD_GROUP_METRICS,
        structurer_pb2.FIELD_GROUP_PHASES,
        structurer_pb2.FIELD_GROUP_NARRATIVE,
    ]
    assert event.final.cache == HIT and event.final.case_study == missed[-1].final.case_study
    # The final's case study holds every group's fields: the groups come without partials.
    assert not any(group.HasField("partial") for group in event.field_groups)


async def test_cache_off_calls_claude_every_time(
    claude: tuple[FakeAnthropic, AnthropicStructurer],
) -> None:
    fake, provider = claude
    async with running_structurer(provider, cache="off") as server:  # type: ignore[arg-type]
        answers = [await structure(server.port, ask()) for _ in range(2)]
    assert len(fake.requests) == 2
    assert {a.cache for a in answers} == {structurer_pb2.CACHE_OUTCOME_UNSPECIFIED}


async def test_what_changes_the_output_changes_the_key(
    claude: tuple[FakeAnthropic, AnthropicStructurer], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, provider = claude
    key = structuring_cache.structuring_key
    other_model = AnthropicStructurer(
        api_key=KEY, base_url="http://127.0.0.1:1", model=HAIKU, fast_model=HAIKU
    )
    try:
        assert key(ask(), provider) == key(ask(fresh=True), provider)
        assert key(ask(), provider) != key(ask(), other_model)
        assert key(ask(fast=True), provider) == key(ask(fast=True), other_model)  # same model
        assert key(ask(), provider) != key(ask(fast=True), provider)
        assert key(ask(), provider) != key(ask(NOTES + " "), provider)
    finally:
        await other_model.aclose()
    before = structuring_cache._prompt_fingerprint()
    monkeypatch.setattr(prompt, "SYSTEM", prompt.SYSTEM + "\n- Write in French.")
    assert structuring_cache._prompt_fingerprint() != before


async def test_a_lost_redis_makes_a_miss_not_a_failure(
    claude: tuple[FakeAnthropic, AnthropicStructurer],
) -> None:
    fake, provider = claude
    async with private_redis() as redis_server:
        settings = {"redis_url": redis_server.url, "redis_prefix": random_prefix()}
        async with running_structurer(provider, **settings) as server:  # type: ignore[arg-type]
            assert (await structure(server.port, ask())).cache == MISS
            assert (await structure(server.port, ask())).cache == HIT
            await redis_server.stop()
            down = await structure(server.port, ask())
    assert down.cache == MISS and down.case_study.title
    assert len(fake.requests) == 2


class CountingStructurer(ScriptedStructurer):
    """The scripted case study, held after its first group until released; counts its calls."""

    def __init__(self) -> None:
        super().__init__(hold_after=1)
        self.calls = 0

    def structure(self, notes: str, *, fast: bool) -> Any:
        self.calls += 1
        return super().structure(notes, fast=fast)


async def test_identical_requests_in_flight_share_one_call(backend: dict[str, Any]) -> None:
    provider = CountingStructurer()
    async with (
        running_structurer(provider, **backend) as server,
        grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel,
    ):
        stub = structurer_pb2_grpc.StructurerStub(channel)
        leader = stub.StructureStream(ask("n"))
        await leader.read()  # the headline: the call is under way, held by the provider
        others = [asyncio.ensure_future(stub.Structure(ask("n"))) for _ in range(5)]
        provider.release.set()
        led = []
        while (event := await leader.read()) is not grpc.aio.EOF:
            led.append(event)
        answers = await asyncio.gather(*others)
    assert provider.calls == 1
    assert led[-1].final.cache == MISS
    assert {answer.cache for answer in answers} == {HIT}
    assert all(answer.case_study == led[-1].final.case_study for answer in answers)
    assert {answer.usage.attempts for answer in answers} == {0}


async def test_when_the_first_caller_leaves_the_others_still_get_an_answer() -> None:
    provider = CountingStructurer()
    async with (
        running_structurer(provider) as server,
        grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel,
    ):
        stub = structurer_pb2_grpc.StructurerStub(channel)
        leader = stub.StructureStream(ask("n"))
        await leader.read()
        others = [asyncio.ensure_future(stub.Structure(ask("n"))) for _ in range(3)]
        leader.cancel()
        await provider.cancelled.wait()  # the leader's call was cancelled with it
        provider.release.set()
        answers = await asyncio.gather(*others)
    assert all(answer.case_study.title == ACME.title for answer in answers)
    assert provider.calls == 2  # one of the others structured the notes again, once
