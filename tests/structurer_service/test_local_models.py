"""What local servers (Ollama, llama.cpp, vLLM, LM Studio) do, against the loopback fake: empty
answers, missing fields, JSON in prose or fences, near-valid JSON, streams that stall. The provider
repairs what it can, re-asks once, fails as a timeout rather than hanging, and the chain falls
back to the local extractor with a warning naming what happened."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from casecraft.cooldown import Cooldown
from casecraft.errors import ProviderError
from casecraft.retry import RetryPolicy
from structurer_service.providers import Draft, Structured, StructurerProvider
from structurer_service.providers.chain import ChainStructurer
from structurer_service.providers.llm import Prices
from structurer_service.providers.local import LocalStructurer
from structurer_service.providers.openai_compatible import ChatModel, OpenAICompatibleStructurer
from tests.fakes.clock import Sleeps
from tests.fakes.faults import (
    empty,
    local_answer,
    missing_fields,
    near_valid,
    stall,
    wrapped,
)
from tests.fakes.notes import NOTES
from tests.fakes.openai_chat import FakeOpenAIChat
from tests.fakes.server import serve
from tests.structurer_service.test_openai_compatible_provider import as_dict


@pytest.fixture
async def ollama() -> AsyncIterator[tuple[FakeOpenAIChat, OpenAICompatibleStructurer]]:
    fake = FakeOpenAIChat()
    async with serve(fake.app) as base_url:
        provider = OpenAICompatibleStructurer(
            api_key="ollama",
            base_url=f"{base_url}/v1",
            model=ChatModel("qwen3:8b", Prices(0, 0)),
            fast_model=ChatModel("qwen3:4b", Prices(0, 0)),
            idle_timeout_s=1.5,  # long enough for a loaded machine; a stall waits it out
        )
        yield fake, provider
        await provider.aclose()


async def final(provider: StructurerProvider) -> Structured:
    async for item in provider.structure(NOTES, fast=False):
        if isinstance(item, Structured):
            return item
        assert isinstance(item, Draft)
    raise AssertionError("no Structured")


def with_local(provider: OpenAICompatibleStructurer) -> ChainStructurer:
    return ChainStructurer(
        [provider, LocalStructurer()],
        policy=RetryPolicy(max_attempts=2, sleep=Sleeps()),
        cooldown=Cooldown(),
        attempt_timeout_s=30,
    )


async def test_requests_structured_output_with_the_json_schema_response_format(
    ollama: tuple[FakeOpenAIChat, OpenAICompatibleStructurer],
) -> None:
    fake, provider = ollama
    await final(provider)
    response_format = fake.requests[0]["response_format"]
    assert response_format["type"] == "json_schema"
    assert "client_name" in response_format["json_schema"]["schema"]["properties"]


@pytest.mark.parametrize("quirk", [wrapped, near_valid], ids=["prose_and_fences", "near_valid"])
async def test_json_in_prose_fences_or_near_valid_is_read_without_a_reask(
    ollama: tuple[FakeOpenAIChat, OpenAICompatibleStructurer], quirk: object
) -> None:
    fake, provider = ollama
    fake.script(quirk())  # type: ignore[operator]
    structured = await final(provider)
    assert len(fake.requests) == 1
    assert as_dict(structured) == await local_answer(NOTES)


async def test_an_answer_in_fences_still_streams_its_field_groups(
    ollama: tuple[FakeOpenAIChat, OpenAICompatibleStructurer],
) -> None:
    fake, provider = ollama
    fake.script(wrapped())
    drafts = [item async for item in provider.structure(NOTES, fast=False)][:-1]
    assert drafts and "client_name" in drafts[0].fields  # type: ignore[union-attr]


async def test_an_empty_answer_is_reasked(
    ollama: tuple[FakeOpenAIChat, OpenAICompatibleStructurer],
) -> None:
    fake, provider = ollama
    fake.script(empty())
    structured = await final(provider)
    assert len(fake.requests) == 2
    assert "the answer is empty" in fake.requests[1]["messages"][-1]["content"]
    assert as_dict(structured) == await local_answer(NOTES)


async def test_missing_fields_are_reasked_by_name(
    ollama: tuple[FakeOpenAIChat, OpenAICompatibleStructurer],
) -> None:
    fake, provider = ollama
    fake.script(missing_fields())
    structured = await final(provider)
    reask = fake.requests[1]["messages"][-1]["content"]
    for name in ("challenge", "solution", "results"):
        assert f"'{name}' is a required property" in reask
    assert structured.case_study.results


async def test_a_half_empty_answer_is_never_returned_as_complete(
    ollama: tuple[FakeOpenAIChat, OpenAICompatibleStructurer],
) -> None:
    fake, provider = ollama
    fake.script(missing_fields(), missing_fields())
    with pytest.raises(ProviderError, match="invalid case study after one re-ask"):
        await final(provider)


async def test_a_stalled_stream_is_a_timeout_and_the_retry_answers(
    ollama: tuple[FakeOpenAIChat, OpenAICompatibleStructurer],
) -> None:
    fake, provider = ollama
    fake.script(stall())
    structured = await final(with_local(provider))
    assert len(fake.requests) == 2
    assert structured.usage.provider == "openai_compatible"
    assert structured.usage.attempts == 2


async def test_a_stream_that_keeps_stalling_falls_back_to_the_local_extractor(
    ollama: tuple[FakeOpenAIChat, OpenAICompatibleStructurer],
) -> None:
    fake, provider = ollama
    fake.script(stall(), stall())
    structured = await final(with_local(provider))
    assert structured.usage.provider == "local"
    assert as_dict(structured) == await local_answer(NOTES)
    assert structured.warnings[0] == (
        "openai_compatible failed (the stream stalled: nothing new for 1.5s "
        "(CASECRAFT_STRUCTURER_STREAM_IDLE_TIMEOUT_S)); the case study was written by local"
    )


async def test_a_model_that_answers_nothing_twice_falls_back_with_a_warning(
    ollama: tuple[FakeOpenAIChat, OpenAICompatibleStructurer],
) -> None:
    fake, provider = ollama
    fake.script(empty(), empty())
    structured = await final(with_local(provider))
    assert structured.usage.provider == "local"
    assert len(fake.requests) == 2  # not retryable: the same request would be answered the same
    assert (
        "openai_compatible failed (invalid case study after one re-ask: the answer is empty"
        in (structured.warnings[0])
    )
