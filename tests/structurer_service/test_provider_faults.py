"""The LLM providers under faults, through the official SDK and httpx, against the loopback fakes:
what is retried, what falls back, what each failure says, and that keys never show."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from opentelemetry.sdk.trace import ReadableSpan

from casecraft.cooldown import Cooldown
from casecraft.errors import AllProvidersFailed
from casecraft.retry import RetryPolicy
from structurer_service.providers import Draft, Structured, StructurerProvider
from structurer_service.providers.anthropic import AnthropicStructurer, ClaudeModel
from structurer_service.providers.chain import ChainStructurer
from structurer_service.providers.llm import Prices
from structurer_service.providers.openai_compatible import ChatModel, OpenAICompatibleStructurer
from tests.fakes.anthropic import FakeAnthropic
from tests.fakes.clock import Sleeps
from tests.fakes.faults import (
    Behaviour,
    malformed,
    max_tokens,
    not_sse,
    status,
    stream_error,
    truncated,
)
from tests.fakes.notes import NOTES
from tests.fakes.openai_chat import FakeOpenAIChat
from tests.fakes.server import closed_port, serve
from tests.support.spans import attempt_errors, step_span

ANTHROPIC_KEY = "sk-ant-api03-faults-0123456789abcdef"
# Keys of OpenAI-compatible hosts and proxies come in any shape, not only ``sk-...``.
ODD_KEY = "gsk_Faults0123456789abcdefghijklmnop"
SONNET = ClaudeModel("claude-sonnet-5-5", Prices(2.0, 10.0))
CHAT = ChatModel("anthropic/claude-sonnet-4.5", Prices(3, 15))

_open: list[AnthropicStructurer | OpenAICompatibleStructurer] = []


@pytest.fixture(autouse=True)
async def close_clients() -> AsyncIterator[None]:
    yield
    while _open:
        await _open.pop().aclose()


@pytest.fixture
async def claude_fake() -> AsyncIterator[tuple[FakeAnthropic, str]]:
    fake = FakeAnthropic()
    async with serve(fake.app) as base_url:
        yield fake, base_url


@pytest.fixture
async def chat_fake() -> AsyncIterator[tuple[FakeOpenAIChat, str]]:
    fake = FakeOpenAIChat()
    async with serve(fake.app) as base_url:
        yield fake, f"{base_url}/api/v1"


def claude(
    base_url: str, *, key: str = ANTHROPIC_KEY, name: str = "anthropic"
) -> AnthropicStructurer:
    provider = AnthropicStructurer(api_key=key, base_url=base_url, model=SONNET, fast_model=SONNET)
    provider.name = name
    _open.append(provider)
    return provider


def chat(base_url: str, *, key: str = ODD_KEY) -> OpenAICompatibleStructurer:
    provider = OpenAICompatibleStructurer(
        api_key=key, base_url=base_url, model=CHAT, fast_model=CHAT
    )
    _open.append(provider)
    return provider


def chain(*providers: StructurerProvider, sleeps: Sleeps, attempts: int = 3) -> ChainStructurer:
    return ChainStructurer(
        providers,
        policy=RetryPolicy(max_attempts=attempts, sleep=sleeps),
        cooldown=Cooldown(failure_threshold=100),
        attempt_timeout_s=10,
    )


async def run(provider: StructurerProvider) -> Structured:
    async for item in provider.structure(NOTES, fast=False):
        if not isinstance(item, Draft):
            return item
    raise AssertionError("no Structured")


def telemetry_text(spans: list[ReadableSpan], caplog: pytest.LogCaptureFixture) -> str:
    """Every captured span's attributes and events, and every log record with its extras."""
    parts = [repr(vars(record)) + record.getMessage() for record in caplog.records]
    for span in spans:
        parts.append(repr(dict(span.attributes or {})))
        parts += [f"{e.name} {dict(e.attributes or {})!r}" for e in span.events]
        parts.append(repr(span.status.description))
    return "\n".join(parts)


# --- streams that end wrong ---------------------------------------------------------------------


async def test_an_anthropic_stream_that_ends_without_message_stop_is_retried_not_reasked(
    claude_fake: tuple[FakeAnthropic, str],
) -> None:
    server, base_url = claude_fake
    server.script(truncated(after_chunks=5))
    sleeps = Sleeps()
    final = await run(chain(claude(base_url), sleeps=sleeps))
    assert len(server.requests) == 2 and len(sleeps.waits) == 1
    # A fresh request, not a re-ask that sends the cut-off answer back as if it were complete.
    assert [m["role"] for m in server.requests[1]["messages"]] == ["user"]
    assert final.usage.attempts == 2
    # The cut-off stream's tokens were billed and are counted.
    assert final.usage.input_tokens == sum(i for i, _ in server.reported)


async def test_a_chat_stream_that_ends_without_a_finish_reason_is_retried_not_reasked(
    chat_fake: tuple[FakeOpenAIChat, str],
) -> None:
    server, base_url = chat_fake
    server.script(truncated(after_chunks=5))
    sleeps = Sleeps()
    final = await run(chain(chat(base_url), sleeps=sleeps))
    assert len(server.requests) == 2 and len(sleeps.waits) == 1
    assert [m["role"] for m in server.requests[1]["messages"]] == ["system", "user"]
    assert final.usage.attempts == 2


@pytest.mark.parametrize("kind", ["anthropic", "openai_compatible"])
async def test_an_event_whose_data_is_not_json_is_retried(
    kind: str,
    claude_fake: tuple[FakeAnthropic, str],
    chat_fake: tuple[FakeOpenAIChat, str],
) -> None:
    server, provider = _pick(kind, claude_fake, chat_fake, malformed(after_chunks=4))
    sleeps = Sleeps()
    final = await run(chain(provider, sleeps=sleeps))
    assert len(server.requests) == 2 and len(sleeps.waits) == 1
    assert final.usage.provider == kind


def _pick(
    kind: str,
    claude_fake: tuple[FakeAnthropic, str],
    chat_fake: tuple[FakeOpenAIChat, str],
    *behaviours: Behaviour,
) -> tuple[FakeAnthropic | FakeOpenAIChat, StructurerProvider]:
    if kind == "anthropic":
        claude_fake[0].script(*behaviours)
        return claude_fake[0], claude(claude_fake[1])
    chat_fake[0].script(*behaviours)
    return chat_fake[0], chat(chat_fake[1])


async def test_an_overloaded_error_event_mid_stream_is_retried_with_backoff(
    claude_fake: tuple[FakeAnthropic, str],
) -> None:
    server, base_url = claude_fake
    server.script(stream_error("overloaded_error", after_chunks=2))
    sleeps = Sleeps()
    final = await run(chain(claude(base_url), sleeps=sleeps))
    assert len(server.requests) == 2 and len(sleeps.waits) == 1 and 0 < sleeps.waits[0] <= 8
    assert final.usage.attempts == 2


# --- answers cut off at max_tokens -----------------------------------------------------------------


async def test_an_anthropic_answer_cut_off_at_max_tokens_says_which_setting_to_raise(
    claude_fake: tuple[FakeAnthropic, str],
) -> None:
    server, base_url = claude_fake
    server.script(max_tokens(after_chunks=6))
    sleeps = Sleeps()
    with pytest.raises(AllProvidersFailed) as caught:
        await run(chain(claude(base_url), sleeps=sleeps))
    # The same request would be cut off again: neither retried nor re-asked.
    assert len(server.requests) == 1 and sleeps.waits == []
    assert "max_tokens (8192)" in str(caught.value)
    assert "CASECRAFT_STRUCTURER_MAX_OUTPUT_TOKENS" in str(caught.value)


async def test_a_chat_answer_cut_off_at_max_tokens_counts_its_tokens(
    chat_fake: tuple[FakeOpenAIChat, str],
) -> None:
    server, base_url = chat_fake
    server.script(max_tokens(after_chunks=6))
    with step_span("structure") as spans:
        with pytest.raises(AllProvidersFailed, match="CASECRAFT_STRUCTURER_MAX_OUTPUT_TOKENS"):
            await run(chain(chat(base_url), sleeps=Sleeps()))
    assert len(server.requests) == 1
    [(prompt_tokens, completion_tokens)] = [r for r in server.reported if r is not None]
    span = spans[-1]
    assert span.name == "structure" and span.attributes is not None
    # The output limit was billed in full: the step's span says so.
    assert span.attributes["gen_ai.usage.input_tokens"] == prompt_tokens
    assert span.attributes["gen_ai.usage.output_tokens"] == completion_tokens


# --- statuses ------------------------------------------------------------------------------------


@pytest.mark.parametrize("code", [500, 502, 503, 529])
async def test_server_errors_are_retried_with_bounded_backoff(
    code: int, claude_fake: tuple[FakeAnthropic, str]
) -> None:
    server, base_url = claude_fake
    server.script(status(code), status(code))
    sleeps = Sleeps()
    final = await run(chain(claude(base_url), sleeps=sleeps))
    assert len(server.requests) == 3 and len(sleeps.waits) == 2
    assert all(0 < wait <= 8 for wait in sleeps.waits)
    assert final.usage.attempts == 3


async def test_retry_after_as_an_http_date_is_the_wait(
    claude_fake: tuple[FakeAnthropic, str],
) -> None:
    server, base_url = claude_fake
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=5), usegmt=True)
    server.script(status(429, retry_after=when))
    sleeps = Sleeps()
    await run(chain(claude(base_url), sleeps=sleeps))
    [wait] = sleeps.waits
    assert 3.5 < wait <= 5.0  # the date has whole seconds; the answer took a moment


async def test_a_retry_after_beyond_the_cap_falls_back_at_once_and_says_when(
    claude_fake: tuple[FakeAnthropic, str],
) -> None:
    server, base_url = claude_fake
    server.script(status(529, retry_after_ms="600000"))
    backup = FakeAnthropic()
    sleeps = Sleeps()
    async with serve(backup.app) as backup_url:
        structurer = chain(claude(base_url), claude(backup_url, name="spare"), sleeps=sleeps)
        with step_span("structure") as spans:
            final = await run(structurer)
    assert sleeps.waits == [] and len(server.requests) == 1 and len(backup.requests) == 1
    assert final.usage.provider == "spare" and final.usage.attempts == 2
    [failed, _] = attempt_errors(spans[-1])
    assert "HTTP 529" in failed and "retry after 600s" in failed


async def test_a_403_is_not_retried_and_says_to_check_the_key(
    claude_fake: tuple[FakeAnthropic, str],
) -> None:
    server, base_url = claude_fake
    server.script(status(403, message="API key does not have access to this model"))
    sleeps = Sleeps()
    with pytest.raises(AllProvidersFailed) as caught:
        await run(chain(claude(base_url), sleeps=sleeps))
    assert len(server.requests) == 1 and sleeps.waits == []
    message = str(caught.value)
    assert "HTTP 403" in message and "does not have access" in message
    assert "check the API key" in message


@pytest.mark.parametrize("kind", ["anthropic", "openai_compatible"])
async def test_a_key_quoted_back_in_a_401_stays_out_of_errors_logs_and_spans(
    kind: str,
    claude_fake: tuple[FakeAnthropic, str],
    chat_fake: tuple[FakeOpenAIChat, str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A proxy or an OpenAI-compatible host may echo the key it got, in whatever shape it has."""
    caplog.set_level(logging.DEBUG)
    echo = status(401, message=f"Invalid API key: {ODD_KEY}")
    if kind == "anthropic":
        claude_fake[0].script(echo)
        server: FakeAnthropic | FakeOpenAIChat = claude_fake[0]
        provider: StructurerProvider = claude(claude_fake[1], key=ODD_KEY)
    else:
        server, provider = _pick(kind, claude_fake, chat_fake, echo)
    sleeps = Sleeps()
    with step_span("structure") as spans, pytest.raises(AllProvidersFailed) as caught:
        await run(chain(provider, sleeps=sleeps))
    assert len(server.requests) == 1 and sleeps.waits == []
    message = str(caught.value)
    assert "HTTP 401" in message and "Invalid API key" in message
    assert "check the API key" in message
    assert ODD_KEY not in message and ODD_KEY[4:] not in message
    seen = telemetry_text(spans, caplog)
    assert "provider_attempt" in seen and "Invalid API key" in seen
    assert ODD_KEY[4:] not in seen


async def test_a_key_read_with_a_trailing_newline_is_sent_without_it(
    claude_fake: tuple[FakeAnthropic, str],
) -> None:
    """A key read from a file often ends in a newline, which no HTTP header can carry."""
    server, base_url = claude_fake
    await run(chain(claude(base_url, key=ODD_KEY + "\n"), sleeps=Sleeps()))
    assert server.api_keys == [ODD_KEY]


@pytest.mark.parametrize("kind", ["anthropic", "openai_compatible"])
def test_a_key_no_header_can_carry_is_refused_at_start_up_without_showing_it(kind: str) -> None:
    """Sent, it would fail every attempt, and the HTTP library's own debug log would quote it."""
    broken = "gsk_Faults0123\n456789abcdefghij"
    with pytest.raises(ValueError, match=f"API key for {kind} .* check the key") as caught:
        if kind == "anthropic":
            claude("http://127.0.0.1:9", key=broken)
        else:
            chat("http://127.0.0.1:9", key=broken)
    assert "456789abcdefghij" not in str(caught.value)


# --- connections and wire formats ----------------------------------------------------------------


async def test_a_refused_connection_is_retried_and_the_error_names_the_host() -> None:
    port = closed_port()
    sleeps = Sleeps()
    with pytest.raises(AllProvidersFailed) as caught:
        await run(chain(claude(f"http://127.0.0.1:{port}"), sleeps=sleeps, attempts=2))
    assert len(sleeps.waits) == 1
    message = str(caught.value)
    assert f"127.0.0.1:{port}" in message and "ConnectError" in message


async def test_a_web_page_instead_of_an_event_stream_says_to_check_the_base_url(
    chat_fake: tuple[FakeOpenAIChat, str],
) -> None:
    server, base_url = chat_fake
    server.script(not_sse())
    sleeps = Sleeps()
    with pytest.raises(AllProvidersFailed) as caught:
        await run(chain(chat(base_url), sleeps=sleeps))
    assert len(server.requests) == 1 and sleeps.waits == []
    message = str(caught.value)
    assert "text/html" in message and "not an event stream" in message
    assert "base URL" in message
