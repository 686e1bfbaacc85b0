"""A loopback OpenAI-compatible ``/chat/completions`` for the structurer's LLM side.

Streams ``chat.completion.chunk`` SSE (``data:`` lines, a usage chunk, ``data: [DONE]``) whose
content is the JSON answer built from the request: the notes in the user message through the local
extractor, keys in the order of ``response_format.json_schema.schema`` (or of a forced tool's
parameters). Errors use OpenAI's body shape; mid-stream errors use OpenRouter's (an ``error``
object inside a chunk). Serve it and point OPENROUTER_BASE_URL at ``{base_url}/api/v1``.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
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
    written,
)
from tests.fakes.server import DropConnection


def _schema_of(body: dict[str, Any]) -> dict[str, Any]:
    response_format = body.get("response_format") or {}
    if response_format.get("type") == "json_schema":
        found: dict[str, Any] = response_format["json_schema"]["schema"]
        return found
    for tool in body.get("tools") or []:
        return dict(tool["function"]["parameters"])
    return {}


def _notes(messages: list[dict[str, Any]]) -> str:
    for message in messages:
        content = message.get("content")
        if message.get("role") == "user" and isinstance(content, str):
            notes = notes_in(content)
            if notes is not None:
                return notes
    return ""


class FakeOpenAIChat:
    def __init__(
        self,
        *,
        answer: Callable[[str], Awaitable[dict[str, Any]]] = local_answer,
        pace: Pace | None = None,
        seed: int = 11,
    ) -> None:
        self.requests: list[dict[str, Any]] = []
        self.authorizations: list[str] = []
        # The usage each streamed answer reported (prompt, completion tokens); None: no usage chunk.
        self.reported: list[tuple[int, int] | None] = []
        self.pace = pace or Pace()
        self._answer = answer
        self._rng = random.Random(seed)
        self._script = Script()
        routes = [
            Route(path, self._completions, methods=["POST"])
            for path in ("/chat/completions", "/v1/chat/completions", "/api/v1/chat/completions")
        ]
        self.app = Starlette(routes=routes)

    def script(self, *behaviours: Behaviour) -> None:
        self._script.script(*behaviours)

    async def _completions(self, request: Request) -> Response:
        body = await request.json()
        self.requests.append(body)
        self.authorizations.append(request.headers.get("authorization", ""))
        behaviour = self._script.next()
        if behaviour.kind == "status":
            return JSONResponse(
                {
                    "error": {
                        "message": behaviour.message,
                        "type": behaviour.error_type,
                        "code": behaviour.status,
                    }
                },
                status_code=behaviour.status,
                headers=behaviour.headers,
            )
        if behaviour.kind == "hang":
            while (await request.receive())["type"] != "http.disconnect":
                pass
            return Response(status_code=499)
        if behaviour.kind == "not_sse":
            return HTMLResponse("<!DOCTYPE html><html><body><h1>Welcome</h1></body></html>")
        schema = _schema_of(body)
        notes = _notes(body["messages"])
        texts = [m["content"] for m in body["messages"] if isinstance(m.get("content"), str)]
        refined = refined_answer(texts)
        if refined is None:
            refined = await self._answer(notes)
        answer = in_schema_order(shaped(refined, behaviour, notes, body), schema)
        if behaviour.kind == "invalid":
            answer = violate(answer, schema)
        text = written(json.dumps(answer, ensure_ascii=False), behaviour)
        usage = {
            "prompt_tokens": len(json.dumps(body)) // 4,
            "completion_tokens": max(1, len(text) // 4),
        }
        usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
        return StreamingResponse(
            self._chunks(body["model"], text, usage, behaviour), media_type="text/event-stream"
        )

    async def _chunks(
        self, model: str, text: str, usage: dict[str, int], behaviour: Behaviour
    ) -> AsyncIterator[str]:
        ident = f"gen-{uuid.uuid4().hex[:16]}"
        created = int(time.time())

        def chunk(choices: list[dict[str, Any]], **extra: Any) -> str:
            data = {
                "id": ident,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "choices": choices,
                **extra,
            }
            return f"data: {json.dumps(data)}\n\n"

        await self.pace.before_first()
        self.reported.append(None)
        yield chunk(
            [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}]
        )
        pieces = split_anywhere(text, self._rng)
        for number, piece in enumerate(pieces):
            if behaviour.kind == "stall" and number == max(0, len(pieces) - 2):
                while True:  # connected, sending nothing but keep-alives; ends when cancelled
                    yield ": keep-alive\n\n"
                    await asyncio.sleep(0.05)
            if number == behaviour.after_chunks:
                if behaviour.kind == "stream_error":
                    yield chunk(
                        [{"index": 0, "delta": {"content": ""}, "finish_reason": "error"}],
                        error={"code": 502, "message": "Provider returned error"},
                    )
                    return
                if behaviour.kind == "drop":
                    raise DropConnection
                if behaviour.kind == "truncated":
                    return
                if behaviour.kind == "malformed":
                    yield 'data: {"id": "gen-broken", "object": "chat.comp\n\n'
                    return
                if behaviour.kind == "max_tokens":
                    cut_off = max(1, sum(map(len, pieces[:number])) // 4)
                    partial = {**usage, "completion_tokens": cut_off}
                    partial["total_tokens"] = partial["prompt_tokens"] + cut_off
                    self.reported[-1] = (partial["prompt_tokens"], cut_off)
                    yield chunk([{"index": 0, "delta": {}, "finish_reason": "length"}])
                    yield chunk([], usage=partial)
                    yield "data: [DONE]\n\n"
                    return
            yield chunk([{"index": 0, "delta": {"content": piece}, "finish_reason": None}])
            await self.pace.after(piece)
        yield chunk([{"index": 0, "delta": {}, "finish_reason": "stop"}])
        self.reported[-1] = (usage["prompt_tokens"], usage["completion_tokens"])
        yield chunk([], usage=usage)
        yield "data: [DONE]\n\n"
