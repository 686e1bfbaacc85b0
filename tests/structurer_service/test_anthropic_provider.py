"""The anthropic provider, through the official SDK, against the loopback Anthropic fake."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest
from anthropic import AsyncAnthropic, BadRequestError
from google.protobuf import json_format
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan

from casecraft.casestudy_schema import schema
from casecraft.cooldown import Cooldown
from casecraft.errors import AllProvidersFailed
from casecraft.retry import RetryPolicy
from casecraft.telemetry import configure_tracing
from casecraft.v1 import case_study_pb2, structurer_pb2, structurer_pb2_grpc
from structurer_service import server as structurer_server
from structurer_service.providers import Draft, Structured, StructurerProvider
from structurer_service.providers.anthropic import AnthropicStructurer, ClaudeModel
from structurer_service.providers.chain import ChainStructurer
from structurer_service.providers.llm import Prices
from structurer_service.providers.openai_compatible import ChatModel, OpenAICompatibleStructurer
from structurer_service.providers.registry import build_chain, resilient
from structurer_service.settings import StructurerSettings
from tests.fakes.anthropic import FakeAnthropic, thinking_signature
from tests.fakes.clock import Clock, Sleeps
from tests.fakes.faults import drop, hang, invalid, local_answer, no_tool, status, stream_error
from tests.fakes.notes import NOTES
from tests.fakes.openai_chat import FakeOpenAIChat
from tests.fakes.server import serve
from tests.support.spans import step_span

KEY = "sk-ant-test-key-0123456789abcdef"
SONNET = ClaudeModel("claude-sonnet-5-5", Prices(2.0, 10.0))
HAIKU = ClaudeModel("claude-haiku-5-5", Prices(0.10, 0.50))


@pytest.fixture
async def fake() -> AsyncIterator[tuple[FakeAnthropic, str]]:
    fake = FakeAnthropic()
    async with serve(fake.app) as base_url:
        yield fake, base_url


_open: list[AnthropicStructurer | OpenAICompatibleStructurer | ChainStructurer] = []


@pytest.fixture(autouse=True)
async def close_clients() -> AsyncIterator[None]:
    yield
    while _open:
        await _open.pop().aclose()


def claude(base_url: str) -> AnthropicStructurer:
    provider = AnthropicStructurer(api_key=KEY, base_url=base_url, model=SONNET, fast_model=HAIKU)
    _open.append(provider)
    return provider


def chain(
    *providers: StructurerProvider,
    sleeps: Sleeps | None = None,
    attempts: int = 3,
    timeout_s: float = 10.0,
    cooldown: Cooldown | None = None,
) -> ChainStructurer:
    return ChainStructurer(
        providers,
        policy=RetryPolicy(max_attempts=attempts, sleep=sleeps or Sleeps()),
        cooldown=cooldown or Cooldown(),
        attempt_timeout_s=timeout_s,
    )


async def run(provider: StructurerProvider, fast: bool = False) -> tuple[list[Draft], Structured]:
    drafts: list[Draft] = []
    async for item in provider.structure(NOTES, fast=fast):
        if isinstance(item, Draft):
            drafts.append(item)
        else:
            return drafts, item
    raise AssertionError("no Structured")


async def expected() -> dict[str, Any]:
    return json_format.MessageToDict(
        json_format.ParseDict(await local_answer(NOTES), case_study_pb2.CaseStudy()),
        preserving_proto_field_name=True,
    )


def as_dict(structured: Structured) -> dict[str, Any]:
    return json_format.MessageToDict(structured.case_study, preserving_proto_field_name=True)


async def test_happy_path_streams_drafts_in_field_order(fake: tuple[FakeAnthropic, str]) -> None:
    server, base_url = fake
    drafts, final = await run(claude(base_url))

    assert as_dict(final) == await expected()
    order = list(schema()["properties"])
    for draft in drafts:
        assert list(draft.fields) == order[: len(draft.fields)]
    assert [len(d.fields) for d in drafts] == sorted(len(d.fields) for d in drafts)
    want = await expected()
    headline_done = next(d.fields for d in drafts if "metrics" in d.fields)
    assert {k: headline_done[k] for k in order[:4]} == {k: want[k] for k in order[:4]}
    assert "challenge" not in headline_done, "the hero's fields arrive before the prose"
    assert final.usage.provider == "anthropic" and final.usage.model == "claude-sonnet-5-5"
    assert final.usage.input_tokens > 0 and final.usage.output_tokens > 0
    assert final.usage.attempts == 1
    expected_cost = (final.usage.input_tokens * 2 + final.usage.output_tokens * 10) / 1e6
    assert final.usage.cost_usd == pytest.approx(expected_cost)

    request = server.requests[0]
    assert request["stream"] is True
    # Asked for, not forced: the fake answers a forced tool_choice for this model with a 400.
    assert request["tool_choice"] == {"type": "auto"}
    assert request["tools"][0]["strict"] is True
    assert request["tools"][0]["input_schema"] == schema()
    assert server.api_keys == [KEY]


async def test_fast_mode_uses_the_fast_model(fake: tuple[FakeAnthropic, str]) -> None:
    server, base_url = fake
    _, final = await run(claude(base_url), fast=True)
    assert server.requests[0]["model"] == "claude-haiku-5-5"
    assert final.usage.model == "claude-haiku-5-5"


async def test_json_split_mid_token_still_parses() -> None:
    server = FakeAnthropic(largest_chunk=2, seed=3)
    async with serve(server.app) as base_url:
        drafts, final = await run(claude(base_url))
    assert as_dict(final) == await expected()
    assert len(drafts) >= 5


async def test_invalid_output_then_a_successful_reask(fake: tuple[FakeAnthropic, str]) -> None:
    server, base_url = fake
    server.script(invalid())
    _, final = await run(claude(base_url))

    assert as_dict(final) == await expected()
    assert final.usage.attempts == 2
    assert len(server.requests) == 2
    first_in = len(json.dumps(server.requests[0])) // 4
    second_in = len(json.dumps(server.requests[1])) // 4
    assert final.usage.input_tokens == first_in + second_in
    reask = server.requests[1]["messages"]
    assert [m["role"] for m in reask] == ["user", "assistant", "user"]
    tool_use = reask[1]["content"][0]
    tool_result = reask[2]["content"][0]
    assert tool_use["type"] == "tool_use" and tool_use["input"]["client_name"] == 42
    assert tool_result["type"] == "tool_result" and tool_result["is_error"] is True
    assert tool_result["tool_use_id"] == tool_use["id"]
    assert "client_name: 42 is not of type 'string'" in tool_result["content"]


async def test_a_thinking_model_gets_its_signed_thinking_back_in_the_reask() -> None:
    """The API wants a thinking block back exactly as it came, signature and all, before the
    tool call it led to; the drafts come from the tool's input alone (block 1, not block 0)."""
    thought = "The notes give dispatch times before and after; metrics first, then phases."
    server = FakeAnthropic(thinking=thought)
    server.script(invalid())
    async with serve(server.app) as base_url:
        drafts, final = await run(claude(base_url))

    assert as_dict(final) == await expected()
    assert all("client_name" in draft.fields for draft in drafts)
    answered = server.requests[1]["messages"][1]["content"]
    assert [block["type"] for block in answered] == ["thinking", "tool_use"]
    assert answered[0]["thinking"] == thought
    assert answered[0]["signature"] == thinking_signature(thought)
    assert answered[1]["input"]["client_name"] == 42  # the invalid answer, as it came


async def test_an_answer_without_the_tool_call_is_asked_once_more(
    fake: tuple[FakeAnthropic, str],
) -> None:
    server, base_url = fake
    server.script(no_tool())
    _, final = await run(claude(base_url))

    assert as_dict(final) == await expected()
    assert final.usage.attempts == 2
    assert sum(i for i, _ in server.reported) == final.usage.input_tokens
    reask = server.requests[1]["messages"]
    assert [m["role"] for m in reask] == ["user", "assistant", "user"]
    # The prose answer goes back as it came, then the request to call the tool.
    assert reask[1]["content"][0]["type"] == "text"
    assert reask[1]["content"][0]["text"].startswith("Here is the case study")
    assert "record_case_study" in reask[2]["content"]


async def test_a_forced_tool_choice_is_what_the_fake_refuses() -> None:
    """The fake holds the provider to the 5.5 models' rule: a forced tool_choice is a 400."""
    server = FakeAnthropic()
    async with serve(server.app) as base_url:
        client = AsyncAnthropic(api_key=KEY, base_url=base_url, max_retries=0)
        with pytest.raises(BadRequestError, match='type "tool" and "any" are not supported'):
            await client.messages.create(
                model="claude-sonnet-5-5",
                max_tokens=64,
                messages=[{"role": "user", "content": "hi"}],
                tools=[{"name": "t", "input_schema": {"type": "object"}}],
                tool_choice={"type": "tool", "name": "t"},
            )
        await client.close()


async def test_429_then_success_waits_as_the_header_says(fake: tuple[FakeAnthropic, str]) -> None:
    server, base_url = fake
    server.script(status(429, retry_after_ms="1500", retry_after="2"))
    sleeps = Sleeps()
    _, final = await run(chain(claude(base_url), sleeps=sleeps))
    assert sleeps.waits == [1.5]
    assert final.usage.attempts == 2 and len(server.requests) == 2


async def test_529_overloaded_is_retried_with_backoff(fake: tuple[FakeAnthropic, str]) -> None:
    server, base_url = fake
    server.script(status(529), status(529))
    sleeps = Sleeps()
    _, final = await run(chain(claude(base_url), sleeps=sleeps))
    assert len(sleeps.waits) == 2 and all(0 < w <= 8 for w in sleeps.waits)
    assert final.usage.attempts == 3


async def test_other_4xx_is_not_retried(fake: tuple[FakeAnthropic, str]) -> None:
    server, base_url = fake
    server.script(status(400, retry_after="1"))
    sleeps = Sleeps()
    with pytest.raises(AllProvidersFailed, match="HTTP 400"):
        await run(chain(claude(base_url), sleeps=sleeps))
    assert sleeps.waits == [] and len(server.requests) == 1


async def test_a_dropped_connection_is_retried(fake: tuple[FakeAnthropic, str]) -> None:
    server, base_url = fake
    server.script(drop(after_chunks=4))
    _, final = await run(chain(claude(base_url)))
    assert as_dict(final) == await expected()
    assert final.usage.attempts == 2


async def test_mid_stream_error_falls_back_to_the_next_provider(
    fake: tuple[FakeAnthropic, str],
) -> None:
    server, base_url = fake
    server.script(stream_error("overloaded_error", after_chunks=5))
    other = FakeOpenAIChat()
    async with serve(other.app) as other_url:
        backup = OpenAICompatibleStructurer(
            api_key="sk-or-test-0123456789",
            base_url=f"{other_url}/api/v1",
            model=ChatModel("anthropic/claude-sonnet-4.5", Prices(3, 15)),
            fast_model=ChatModel("anthropic/claude-haiku-4.5", Prices(1, 5)),
        )
        _open.append(backup)
        drafts, final = await run(chain(claude(base_url), backup, attempts=1))
    assert final.usage.provider == "openai_compatible"
    assert final.usage.attempts == 2
    assert as_dict(final) == await expected()
    assert drafts, "drafts of the broken stream and of the backup reach the caller"


async def test_tokens_of_failed_attempts_are_counted_and_priced(
    fake: tuple[FakeAnthropic, str],
) -> None:
    """A stream cut off by an error, then an invalid answer and its re-ask: all were billed."""
    server, base_url = fake
    server.script(stream_error("overloaded_error", after_chunks=5), invalid())
    _, final = await run(chain(claude(base_url)))
    assert len(server.reported) == 3
    spent_in = sum(tokens for tokens, _ in server.reported)
    spent_out = sum(tokens for _, tokens in server.reported)
    assert (final.usage.input_tokens, final.usage.output_tokens) == (spent_in, spent_out)
    assert final.usage.cost_usd == pytest.approx(SONNET.prices.cost(spent_in, spent_out))
    assert final.usage.attempts == 3


async def test_each_call_to_claude_sends_the_steps_trace_context_and_makes_no_span(
    fake: tuple[FakeAnthropic, str],
) -> None:
    """The SDK's own span (which follows every streamed event) is off; each call, answer and
    re-ask, still carries the trace on, as a child of the structure step's span."""
    server, base_url = fake
    server.script(invalid())
    with step_span("structure") as spans:
        await run(claude(base_url))
    step = spans[-1]
    assert [s.name for s in spans] == ["structure"]
    trace_id = format(step.context.trace_id, "032x")
    step_id = format(step.context.span_id, "016x")
    assert [t.split("-")[1:3] for t in server.traceparents] == [[trace_id, step_id]] * 2


async def test_no_span_holds_the_notes_whatever_the_sdks_own_variables_say(
    fake: tuple[FakeAnthropic, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The SDK's variables would turn its span back on with the prompt in it; they do not."""
    monkeypatch.setenv("ANTHROPIC_OPEN_TELEMETRY", "true")
    monkeypatch.setenv("ANTHROPIC_OPEN_TELEMETRY_TRACES_CONTENT_MODE", "content")
    _, base_url = fake
    with step_span("structure") as spans:
        await run(claude(base_url))
    assert [s.name for s in spans] == ["structure"]
    recorded = json.dumps([dict(s.attributes or {}) for s in spans]) + json.dumps(
        [dict(event.attributes or {}) for s in spans for event in s.events]
    )
    long_lines = [line.strip() for line in NOTES.splitlines() if len(line.strip()) >= 40]
    assert long_lines and not [line for line in long_lines if json.dumps(line)[1:-1] in recorded]


async def test_tokens_spent_when_every_attempt_fails_are_on_the_step_span(
    fake: tuple[FakeAnthropic, str],
) -> None:
    server, base_url = fake
    server.script(invalid(), invalid())
    configure_tracing("tests")
    span = trace.get_tracer(__name__).start_span("structure")
    with trace.use_span(span, end_on_exit=True):
        with pytest.raises(AllProvidersFailed, match="after one re-ask"):
            await run(chain(claude(base_url), attempts=1))
    assert isinstance(span, ReadableSpan) and span.attributes is not None
    assert span.attributes["gen_ai.usage.input_tokens"] == sum(i for i, _ in server.reported)
    assert span.attributes["gen_ai.usage.output_tokens"] == sum(o for _, o in server.reported)
    assert len(server.reported) == 2


async def test_a_hung_provider_is_cut_off_and_the_next_used(
    fake: tuple[FakeAnthropic, str],
) -> None:
    server, base_url = fake
    server.script(hang())
    second = FakeAnthropic()
    async with serve(second.app) as second_url:
        backup = claude(second_url)
        backup.name = "anthropic_backup"
        _, final = await run(chain(claude(base_url), backup, attempts=1, timeout_s=0.2))
    assert len(server.requests) == 1 and len(second.requests) == 1
    assert final.usage.attempts == 2


async def test_cooldown_skips_a_failing_provider_then_brings_it_back(
    fake: tuple[FakeAnthropic, str],
) -> None:
    server, base_url = fake
    clock = Clock()
    cooldown = Cooldown(failure_threshold=2, cooldown_s=60, clock=clock)
    backup = FakeAnthropic()
    async with serve(backup.app) as backup_url:
        spare = claude(backup_url)
        spare.name = "spare"
        structurer = chain(claude(base_url), spare, attempts=1, cooldown=cooldown)
        server.script(status(500), status(500))
        for _ in range(2):
            await run(structurer)
        assert len(server.requests) == 2 and cooldown.state("anthropic") == "open"

        await run(structurer)
        assert len(server.requests) == 2 and len(backup.requests) == 3

        clock.now += 60
        await run(structurer)
        assert len(server.requests) == 3 and cooldown.state("anthropic") == "closed"


async def test_every_provider_down_is_unavailable_and_keys_stay_secret(
    fake: tuple[FakeAnthropic, str], caplog: pytest.LogCaptureFixture
) -> None:
    server, base_url = fake
    echoed = f"invalid x-api-key {KEY}"
    server.script(status(401, message=echoed))
    caplog.set_level(logging.DEBUG)
    settings = StructurerSettings(
        providers="anthropic",
        anthropic_api_key=KEY,
        anthropic_base_url=base_url,
        retry_max_attempts=1,
    )
    structurer = resilient(build_chain(settings), settings)
    _open.append(structurer)
    running = await structurer_server.start(
        StructurerSettings(port=0, shutdown_grace_s=1), structurer
    )
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            stub = structurer_pb2_grpc.StructurerStub(channel)
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await stub.Structure(structurer_pb2.StructureRequest(notes=NOTES))
    finally:
        await running.server.stop(None)
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
    details = caught.value.details() or ""
    assert "HTTP 401" in details
    assert KEY not in details and KEY[8:] not in details
    assert KEY not in caplog.text and KEY[8:] not in caplog.text
    assert server.api_keys == [KEY]


def test_a_provider_without_its_key_fails_at_start_up() -> None:
    settings = StructurerSettings(providers="anthropic,local", anthropic_api_key=None)
    with pytest.raises(ValueError, match="ANTHROPIC_API_KEY"):
        build_chain(settings)
    settings = StructurerSettings(providers="openai_compatible", openrouter_api_key=None)
    with pytest.raises(ValueError, match="OPENROUTER_API_KEY"):
        build_chain(settings)
