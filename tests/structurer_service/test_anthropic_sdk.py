"""The one private function of the anthropic SDK the Claude provider uses, held to what the
provider relies on. pyproject pins anthropic to the minor versions this passed with; when a new
SDK fails here, adapt structurer_service/providers/anthropic.py before widening the pin."""

from __future__ import annotations

import inspect
import json
from importlib.metadata import version
from typing import Any

from anthropic.lib.streaming._messages import accumulate_event
from anthropic.types import RawMessageStreamEvent
from pydantic import TypeAdapter

EVENTS = TypeAdapter(RawMessageStreamEvent)
TOOL_INPUT = {"client_name": "Acme Freight", "metrics": [{"label": "Dispatch time"}]}


def raw(event: dict[str, Any]) -> RawMessageStreamEvent:
    return EVENTS.validate_python(event)


def stream() -> list[RawMessageStreamEvent]:
    text = json.dumps(TOOL_INPUT)
    usage = {"input_tokens": 120, "output_tokens": 1}
    return [
        raw(
            {
                "type": "message_start",
                "message": {
                    "id": "msg_1",
                    "type": "message",
                    "role": "assistant",
                    "model": "claude-sonnet-5-5",
                    "content": [],
                    "stop_reason": None,
                    "stop_sequence": None,
                    "usage": usage,
                },
            }
        ),
        raw(
            {
                "type": "content_block_start",
                "index": 0,
                "content_block": {
                    "type": "tool_use",
                    "id": "toolu_1",
                    "name": "record_case_study",
                    "input": {},
                },
            }
        ),
        *(
            raw(
                {
                    "type": "content_block_delta",
                    "index": 0,
                    "delta": {"type": "input_json_delta", "partial_json": part},
                }
            )
            for part in (text[:20], text[20:])
        ),
        raw({"type": "content_block_stop", "index": 0}),
        raw(
            {
                "type": "message_delta",
                "delta": {"stop_reason": "tool_use", "stop_sequence": None},
                "usage": {"output_tokens": 42},
            }
        ),
        raw({"type": "message_stop"}),
    ]


def test_accumulate_event_keeps_the_signature_the_provider_calls() -> None:
    signature = inspect.signature(accumulate_event)
    keyword_only = {
        name
        for name, parameter in signature.parameters.items()
        if parameter.kind is inspect.Parameter.KEYWORD_ONLY
    }
    assert {"event", "current_snapshot", "json_bufs"} <= keyword_only, (
        f"anthropic {version('anthropic')} changed accumulate_event{signature}"
    )


def test_accumulate_event_folds_a_streamed_tool_call_into_the_message() -> None:
    message = None
    json_bufs: dict[int, bytes] = {}
    partial_inputs = []
    for event in stream():
        message = accumulate_event(event=event, current_snapshot=message, json_bufs=json_bufs)
        if event.type == "content_block_delta":
            block = message.content[0]
            assert block.type == "tool_use"
            partial_inputs.append(block.input)
    assert message is not None, f"anthropic {version('anthropic')}: no message folded"
    (block,) = message.content
    assert block.type == "tool_use" and block.name == "record_case_study"
    assert block.input == TOOL_INPUT
    # The provider reads drafts from the partial input as it grows.
    assert partial_inputs[-1] == TOOL_INPUT and partial_inputs[0] != TOOL_INPUT
    assert message.stop_reason == "tool_use"
    assert (message.usage.input_tokens, message.usage.output_tokens) == (120, 42)
