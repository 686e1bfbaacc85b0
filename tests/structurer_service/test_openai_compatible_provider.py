"""The OpenAI-compatible provider against the loopback /chat/completions fake."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest
from google.protobuf import json_format

from casecraft.casestudy_schema import schema
from casecraft.cooldown import Cooldown
from casecraft.errors import AllProvidersFailed
from casecraft.retry import RetryPolicy
from structurer_service.providers import Draft, Structured
from structurer_service.providers.chain import ChainStructurer
from structurer_service.providers.llm import Prices
from structurer_service.providers.openai_compatible import ChatModel, OpenAICompatibleStructurer
from tests.fakes.clock import Sleeps
from tests.fakes.faults import invalid, local_answer, status, stream_error
from tests.fakes.notes import NOTES
from tests.fakes.openai_chat import FakeOpenAIChat
from tests.fakes.server import serve

KEY = "sk-or-v1-test-0123456789abcdef"


@pytest.fixture
async def fake() -> AsyncIterator[tuple[FakeOpenAIChat, OpenAICompatibleStructurer]]:
    server = FakeOpenAIChat()
    async with serve(server.app) as base_url:
        provider = OpenAICompatibleStructurer(
            api_key=KEY,
            base_url=f"{base_url}/api/v1",
            model=ChatModel("anthropic/claude-sonnet-4.5", Prices(3, 15)),
            fast_model=ChatModel("anthropic/claude-haiku-4.5", Prices(1, 5)),
        )
        yield server, provider
        await provider.aclose()


def chained(provider: OpenAICompatibleStructurer, sleeps: Sleeps) -> ChainStructurer:
    return ChainStructurer(
        [provider],
        policy=RetryPolicy(max_attempts=3, sleep=sleeps),
        cooldown=Cooldown(),
        attempt_timeout_s=10,
    )


async def run(provider: object) -> tuple[list[Draft], Structured]:
    drafts: list[Draft] = []
    async for item in provider.structure(NOTES, fast=False):  # type: ignore[attr-defined]
        if isinstance(item, Draft):
            drafts.append(item)
        else:
            return drafts, item
    raise AssertionError("no Structured")


def as_dict(structured: Structured) -> dict[str, object]:
    return json_format.MessageToDict(
        structured.case_study,
        preserving_proto_field_name=True,
        always_print_fields_with_no_presence=True,
    )


async def test_happy_path_streams_json_schema_output(
    fake: tuple[FakeOpenAIChat, OpenAICompatibleStructurer],
) -> None:
    server, provider = fake
    drafts, final = await run(provider)
    assert as_dict(final) == await local_answer(NOTES)
    order = list(schema()["properties"])
    assert all(list(d.fields) == order[: len(d.fields)] for d in drafts)
    assert len(drafts) >= 5
    request = server.requests[0]
    assert request["stream"] is True
    assert request["response_format"]["json_schema"]["schema"] == schema()
    assert server.authorizations == [f"Bearer {KEY}"]
    assert final.usage.provider == "openai_compatible" and final.usage.attempts == 1
    assert final.usage.input_tokens > 0 and final.usage.output_tokens > 0
    assert final.usage.cost_usd == pytest.approx(
        (final.usage.input_tokens * 3 + final.usage.output_tokens * 15) / 1e6
    )


async def test_invalid_output_then_a_successful_reask(
    fake: tuple[FakeOpenAIChat, OpenAICompatibleStructurer],
) -> None:
    server, provider = fake
    server.script(invalid())
    _, final = await run(provider)
    assert as_dict(final) == await local_answer(NOTES)
    assert final.usage.attempts == 2 and len(server.requests) == 2
    reask = server.requests[1]["messages"]
    assert [m["role"] for m in reask] == ["system", "user", "assistant", "user"]
    assert "client_name: 42 is not of type 'string'" in reask[3]["content"]
    assert final.usage.input_tokens == sum(len(json.dumps(r)) // 4 for r in server.requests)


async def test_429_retry_after_then_success(
    fake: tuple[FakeOpenAIChat, OpenAICompatibleStructurer],
) -> None:
    server, provider = fake
    server.script(status(429, retry_after="3"))
    sleeps = Sleeps()
    _, final = await run(chained(provider, sleeps))
    assert sleeps.waits == [3.0] and final.usage.attempts == 2


async def test_mid_stream_error_is_retried(
    fake: tuple[FakeOpenAIChat, OpenAICompatibleStructurer],
) -> None:
    server, provider = fake
    server.script(stream_error(after_chunks=4))
    sleeps = Sleeps()
    _, final = await run(chained(provider, sleeps))
    assert len(sleeps.waits) == 1 and len(server.requests) == 2
    assert as_dict(final) == await local_answer(NOTES)


async def test_a_400_is_not_retried_and_the_key_stays_out_of_the_error(
    fake: tuple[FakeOpenAIChat, OpenAICompatibleStructurer],
) -> None:
    server, provider = fake
    server.script(status(401, message=f"Incorrect API key provided: {KEY}"))
    sleeps = Sleeps()
    with pytest.raises(AllProvidersFailed) as caught:
        await run(chained(provider, sleeps))
    assert sleeps.waits == [] and len(server.requests) == 1
    assert "HTTP 401" in str(caught.value)
    assert KEY[6:] not in str(caught.value)
