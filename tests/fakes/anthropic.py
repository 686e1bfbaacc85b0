"""A loopback Anthropic Messages API (``POST /v1/messages``) the official SDK talks to unmodified.

It builds its answer from the request: the notes in the user message go through the project's
local extractor (or any ``answer`` function), and the result is sent as the input of the forced
tool, keys in the tool's ``input_schema`` order, streamed as ``input_json_delta`` chunks cut at
arbitrary points. Faults are scripted per request (see ``tests.fakes.faults``).

    fake = FakeAnthropic()
    fake.script(status(429, retry_after_ms="20"), ok())
    async with serve(fake.app) as base_url:   # ANTHROPIC_BASE_URL=base_url
        ...
"""

from __future__ import annotations

import asyncio
import json
import random
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from structurer_service.providers.prompt import notes_in
from tests.fakes.faults import (
    Behaviour,
    Pace,
    Script,
    in_schema_order,
    local_answer,
    refined_answer,
    shaped,
    split_anywhere,
    violate,
)
from tests.fakes.server import DropConnection


def _sse(event: str, data: dict[str, Any]) -> str:
    return f"event: {event}\ndata: {json.dumps(data)}\n\n"


# Models that answer a forced tool_choice ("tool" or "any") with a 400, as Anthropic documents.
NO_FORCED_TOOL_USE = frozenset({"claude-sonnet-5-5", "claude-opus-5-5", "claude-fable-5-1"})


def _error_body(error_type: str, message: str) -> dict[str, Any]:
    return {"type": "error", "error": {"type": error_type, "message": message}}


def _texts(messages: list[dict[str, Any]]) -> list[str]:
    texts: list[str] = []
    for message in messages:
        content = message.get("content")
        if isinstance(content, str):
            texts.append(content)
        else:
            texts += [
                block.get("text", "")
                for block in content or []
                if isinstance(block, dict) and block.get("type") == "text"
            ]
    return texts


def _first_notes(messages: list[dict[str, Any]]) -> str:
    for text in _texts(messages):
        notes = notes_in(text)
        if notes is not None:
            return notes
    return ""


class FakeAnthropic:
    def __init__(
        self,
        *,
        answer: Callable[[str], Awaitable[dict[str, Any]]] = local_answer,
        pace: Pace | None = None,
        seed: int = 7,
        largest_chunk: int = 12,
        thinking: str = "",
    ) -> None:
        self.requests: list[dict[str, Any]] = []
        self.api_keys: list[str] = []
        self.traceparents: list[str] = []
        # The usage each answer reported (input, output tokens), as far as its stream got.
        self.reported: list[tuple[int, int]] = []
        self.pace = pace or Pace()
        self._answer = answer
        self._rng = random.Random(seed)
        self._largest_chunk = largest_chunk
        # With extended thinking on, a model thinks first: a signed thinking block at index 0
        # (streamed answers).
        self.thinking = thinking
        self._script = Script()
        self.hung_up = asyncio.Event()
        self.app = Starlette(routes=[Route("/v1/messages", self._messages, methods=["POST"])])

    def script(self, *behaviours: Behaviour) -> None:
        self._script.script(*behaviours)

    async def _messages(self, request: Request) -> Response:
        body = await request.json()
        self.requests.append(body)
        bearer = request.headers.get("authorization", "").removeprefix("Bearer ")
        self.api_keys.append(request.headers.get("x-api-key", bearer))
        self.traceparents.append(request.headers.get("traceparent", ""))
        forced = (body.get("tool_choice") or {}).get("type") in ("tool", "any")
        if forced and body.get("model") in NO_FORCED_TOOL_USE:
            return JSONResponse(
                _error_body(
                    "invalid_request_error",
                    'tool_choice: type "tool" and "any" are not supported for this model.',
                ),
                status_code=400,
                headers={"request-id": f"req_{uuid.uuid4().hex[:12]}"},
            )
        behaviour = self._script.next()
        if behaviour.kind == "status":
            return JSONResponse(
                _error_body(behaviour.error_type, behaviour.message),
                status_code=behaviour.status,
                headers={"request-id": f"req_{uuid.uuid4().hex[:12]}", **behaviour.headers},
            )
        if behaviour.kind == "hang":
            while (await request.receive())["type"] != "http.disconnect":
                pass
            self.hung_up.set()  # the caller gave up on the call: cancelled, or past its deadline
            return Response(status_code=499)
        tool = body["tools"][0]
        schema = tool["input_schema"]
        notes = _first_notes(body["messages"])
        refined = refined_answer(_texts(body["messages"]))
        if refined is None:
            refined = await self._answer(notes)
        answer = in_schema_order(shaped(refined, behaviour, notes, body), schema)
        if behaviour.kind == "invalid":
            answer = violate(answer, schema)
        text = json.dumps(answer, ensure_ascii=False)
        if behaviour.kind == "no_tool":
            text = "Here is the case study: " + text  # prose, no tool call
        input_tokens = len(json.dumps(body)) // 4
        output_tokens = max(1, len(text) // 4)
        if not body.get("stream"):
            self.reported.append((input_tokens, output_tokens))
            return JSONResponse(
                {
                    "id": f"msg_{uuid.uuid4().hex[:12]}",
                    "type": "message",
                    "role": "assistant",
                    "model": body["model"],
                    "content": [
                        {"type": "text", "text": text}
                        if behaviour.kind == "no_tool"
                        else {
                            "type": "tool_use",
                            "id": _tool_id(),
                            "name": tool["name"],
                            "input": answer,
                        }
                    ],
                    "stop_reason": "end_turn" if behaviour.kind == "no_tool" else "tool_use",
                    "stop_sequence": None,
                    "usage": {"input_tokens": input_tokens, "output_tokens": output_tokens},
                }
            )
        events = self._events(
            body["model"], tool["name"], text, input_tokens, output_tokens, behaviour
        )
        return StreamingResponse(events, media_type="text/event-stream")

    async def _events(
        self,
        model: str,
        tool_name: str,
        text: str,
        input_tokens: int,
        output_tokens: int,
        behaviour: Behaviour,
    ) -> AsyncIterator[str]:
        await self.pace.before_first()
        self.reported.append((input_tokens, 1))
        yield _sse(
            "message_start",
            {
                "type": "message_start",
                "message": {
                    "id": f"msg_{uuid.uuid4().hex[:12]}",
                    "type": "message",
                    "role": "assistant",
                    "model": model,
                    "content": [],
                    "stop_reason": None,
                    "stop_sequence": None,
                    "usage": {"input_tokens": input_tokens, "output_tokens": 1},
                },
            },
        )
        index = 0
        if self.thinking:
            yield _sse(
                "content_block_start",
                {
                    "type": "content_block_start",
                    "index": 0,
                    "content_block": {"type": "thinking", "thinking": "", "signature": ""},
                },
            )
            for piece in split_anywhere(self.thinking, self._rng, self._largest_chunk):
                yield _sse(
                    "content_block_delta",
                    {
                        "type": "content_block_delta",
                        "index": 0,
                        "delta": {"type": "thinking_delta", "thinking": piece},
                    },
                )
            yield _sse(
                "content_block_delta",
                {
                    "type": "content_block_delta",
                    "index": 0,
                    "delta": {
                        "type": "signature_delta",
                        "signature": thinking_signature(self.thinking),
                    },
                },
            )
            yield _sse("content_block_stop", {"type": "content_block_stop", "index": 0})
            index = 1
        prose = behaviour.kind == "no_tool"
        block = (
            {"type": "text", "text": ""}
            if prose
            else {"type": "tool_use", "id": _tool_id(), "name": tool_name, "input": {}}
        )
        yield _sse(
            "content_block_start",
            {"type": "content_block_start", "index": index, "content_block": block},
        )
        yield _sse("ping", {"type": "ping"})
        chunks = split_anywhere(text, self._rng, self._largest_chunk)
        for number, chunk in enumerate(chunks):
            if number == behaviour.after_chunks:
                if behaviour.kind == "stream_error":
                    yield _sse("error", _error_body(behaviour.error_type, behaviour.message))
                    return
                if behaviour.kind == "drop":
                    raise DropConnection
                if behaviour.kind == "truncated":
                    return
                if behaviour.kind == "malformed":
                    yield 'event: content_block_delta\ndata: {"type": "content_block_delta", "ind\n\n'
                    return
                if behaviour.kind == "max_tokens":
                    cut_off = max(1, sum(map(len, chunks[:number])) // 4)
                    self.reported[-1] = (input_tokens, cut_off)
                    yield _sse("content_block_stop", {"type": "content_block_stop", "index": index})
                    yield _sse(
                        "message_delta",
                        {
                            "type": "message_delta",
                            "delta": {"stop_reason": "max_tokens", "stop_sequence": None},
                            "usage": {"output_tokens": cut_off},
                        },
                    )
                    yield _sse("message_stop", {"type": "message_stop"})
                    return
            yield _sse(
                "content_block_delta",
                {
                    "type": "content_block_delta",
                    "index": index,
                    "delta": (
                        {"type": "text_delta", "text": chunk}
                        if prose
                        else {"type": "input_json_delta", "partial_json": chunk}
                    ),
                },
            )
            await self.pace.after(chunk)
        yield _sse("content_block_stop", {"type": "content_block_stop", "index": index})
        self.reported[-1] = (input_tokens, output_tokens)
        yield _sse(
            "message_delta",
            {
                "type": "message_delta",
                "delta": {
                    "stop_reason": "end_turn" if prose else "tool_use",
                    "stop_sequence": None,
                },
                "usage": {"output_tokens": output_tokens},
            },
        )
        yield _sse("message_stop", {"type": "message_stop"})


def thinking_signature(thinking: str) -> str:
    """The opaque signature the API puts on a thinking block (here: derived from its text)."""
    return "sig_" + uuid.uuid5(uuid.NAMESPACE_OID, thinking).hex


def _tool_id() -> str:
    return f"toolu_{uuid.uuid4().hex[:20]}"
