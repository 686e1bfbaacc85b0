"""JSON-lines logs: one object per record with the trace and span ids, and no notes at DEBUG."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest
from opentelemetry import trace

from casecraft.jsonlog import _QUOTING_LOGGERS, configure_logging
from casecraft.telemetry import configure_tracing
from structurer_service.providers.anthropic import AnthropicStructurer
from tests.fakes.anthropic import FakeAnthropic
from tests.fakes.notes import NOTES
from tests.fakes.server import serve
from tests.structurer_service.test_anthropic_provider import HAIKU, KEY, SONNET, run

# A line of the notes that only the notes hold (the answer quotes other parts of them).
NOTES_LINE = next(line for line in NOTES.splitlines() if len(line) > 40)


@pytest.fixture
def restored_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    levels = {name: logging.getLogger(name).level for name in _QUOTING_LOGGERS}
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, saved in levels.items():
        logging.getLogger(name).setLevel(saved)


def lines(text: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_a_record_is_one_json_line_with_the_trace_and_span_ids(
    restored_logging: None, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_tracing("tests")
    configure_logging("gateway", "INFO")
    with trace.get_tracer("tests").start_as_current_span("step") as span:
        logging.getLogger("casecraft.test").info("sent", extra={"component": "hero"})
    context = span.get_span_context()

    [entry] = lines(capsys.readouterr().out)
    assert entry["message"] == "sent" and entry["service"] == "gateway"
    assert entry["level"] == "info" and entry["component"] == "hero"
    assert entry["trace_id"] == format(context.trace_id, "032x")
    assert entry["span_id"] == format(context.span_id, "016x")


async def sdk_debug_output(capsys: pytest.CaptureFixture[str], capture_prompts: bool) -> str:
    """Everything logged at DEBUG while the anthropic SDK structures the notes."""
    configure_logging("structurer_service", "DEBUG", capture_prompts=capture_prompts)
    fake = FakeAnthropic()
    async with serve(fake.app) as base_url:
        provider = AnthropicStructurer(
            api_key=KEY, base_url=base_url, model=SONNET, fast_model=HAIKU
        )
        try:
            await run(provider)
        finally:
            await provider.aclose()
    return capsys.readouterr().out


async def test_at_debug_the_sdks_records_that_quote_the_notes_stay_out(
    restored_logging: None, capsys: pytest.CaptureFixture[str]
) -> None:
    out = await sdk_debug_output(capsys, capture_prompts=False)

    assert lines(out), "nothing was logged at DEBUG"
    assert NOTES_LINE not in out
    assert KEY not in out


async def test_the_prompt_capture_switch_lets_the_sdks_debug_records_in(
    restored_logging: None, capsys: pytest.CaptureFixture[str]
) -> None:
    out = await sdk_debug_output(capsys, capture_prompts=True)

    assert any(str(entry["logger"]).startswith("anthropic") for entry in lines(out))
    assert NOTES_LINE in out
