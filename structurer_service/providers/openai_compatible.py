"""Any OpenAI-compatible ``/chat/completions`` (OpenRouter by default), streamed as JSON.

Structured output through ``response_format: json_schema`` with the CaseStudy schema (what
OpenRouter, Ollama, llama.cpp's server, vLLM and LM Studio all accept); the growing answer is
parsed with jiter's partial mode into Drafts. Local servers do not always hold to the schema:
an answer wrapped in prose or ``` fences is unwrapped, near-valid JSON is repaired (json-repair),
and an empty, invalid or half-empty answer gets one re-ask naming what is missing, after which the
attempt fails and the chain falls back. A stream that sends nothing new for ``idle_timeout_s`` is
a stall: the attempt fails as a timeout instead of waiting on it.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import jiter
import json_repair
from httpx_sse import aconnect_sse

from casecraft.casestudy_schema import schema, validate
from casecraft.errors import ProviderError
from casecraft.http_errors import error_from_http
from casecraft.keys import usable_key
from structurer_service import checks
from structurer_service.providers import Draft, Refinement, Structured
from structurer_service.providers.llm import Drafts, Prices, UsageTotals, cut_off, refine_request
from structurer_service.providers.prompt import SYSTEM, TOOL_NAME, reask, user_message


@dataclass(frozen=True)
class ChatModel:
    id: str
    prices: Prices


class OpenAICompatibleStructurer:
    name = "openai_compatible"

    def __init__(
        self,
        *,
        api_key: str,
        base_url: str,
        model: ChatModel,
        fast_model: ChatModel,
        max_tokens: int = 8192,
        timeout: httpx.Timeout | float = 60.0,
        idle_timeout_s: float = 30.0,
    ) -> None:
        self._client = httpx.AsyncClient(
            base_url=base_url.rstrip("/") + "/",
            headers={"Authorization": f"Bearer {usable_key(self.name, api_key)}"},
            timeout=timeout,
        )
        self._models = {False: model, True: fast_model}
        self._max_tokens = max_tokens
        self._idle_timeout_s = idle_timeout_s

    async def aclose(self) -> None:
        await self._client.aclose()

    def model_for(self, fast: bool) -> str:
        """The model a call of this speed uses (part of the structuring cache's key)."""
        return self._models[fast].id

    async def structure(self, notes: str, *, fast: bool) -> AsyncIterator[Draft | Structured]:
        review = checks.current()  # the request's own instructions (anonymize), if any
        instructions = review.instructions() if review else ""
        async for item in self._answer(user_message(notes, instructions), fast=fast):
            yield item

    async def refine(
        self, refinement: Refinement, *, fast: bool
    ) -> AsyncIterator[Draft | Structured]:
        review = checks.current()
        request = refine_request(refinement, review.instructions() if review else "")
        async for item in self._answer(request, fast=fast):
            yield item

    async def _answer(self, request: str, *, fast: bool) -> AsyncIterator[Draft | Structured]:
        """One call asking for the case study (``request`` is the user turn); invalid output
        gets one re-ask."""
        model = self._models[fast]
        usage = UsageTotals(self.name, model.id, model.prices)
        review = checks.current()
        messages: list[dict[str, Any]] = [
            {"role": "system", "content": SYSTEM},
            {"role": "user", "content": request},
        ]
        answer: list[str] = []
        async for draft in self._stream(model.id, messages, usage, answer):
            yield draft
        case_study, errors = _check("".join(answer))
        if errors:
            messages += [
                {"role": "assistant", "content": "".join(answer)},
                {"role": "user", "content": reask(errors, tool=False)},
            ]
            answer = []
            async for draft in self._stream(model.id, messages, usage, answer):
                yield draft
            case_study, errors = _check("".join(answer))
        if case_study is None:
            raise ProviderError(
                self.name, "invalid case study after one re-ask: " + "; ".join(errors[:3])
            )
        problems = review.problems(case_study) if review else []
        if problems:
            # Valid, but a figure is not in the notes or a name is still there: asked once more;
            # a second answer that is not valid leaves the first one standing.
            messages += [
                {"role": "assistant", "content": "".join(answer)},
                {"role": "user", "content": checks.review_reask(problems, tool=False)},
            ]
            answer = []
            async for draft in self._stream(model.id, messages, usage, answer):
                yield draft
            again, _ = _check("".join(answer))
            case_study = again if again is not None else case_study
        yield Structured(case_study=case_study, usage=usage.message())

    async def _stream(
        self,
        model: str,
        messages: list[dict[str, Any]],
        usage: UsageTotals,
        answer: list[str],
    ) -> AsyncIterator[Draft]:
        usage.calls += 1
        request = {
            "model": model,
            "messages": messages,
            "max_tokens": self._max_tokens,
            "stream": True,
            "stream_options": {"include_usage": True},
            "response_format": {
                "type": "json_schema",
                "json_schema": {"name": TOOL_NAME, "strict": False, "schema": schema()},
            },
        }
        drafts = Drafts()
        loop = asyncio.get_running_loop()
        # A stall is a timeout: connected, but nothing new (keep-alives do not count) for
        # idle_timeout_s. Local servers can stall near the end of an answer.
        deadline = loop.time() + self._idle_timeout_s
        # Why the answer ended: a finish_reason, or "[DONE]" alone; None while it has not.
        finished: str | None = None
        async with aconnect_sse(self._client, "POST", "chat/completions", json=request) as events:
            response = events.response
            if response.status_code >= 400:
                await response.aread()
                raise error_from_http(
                    self.name, response.status_code, response.headers, response.content
                )
            content_type = response.headers.get("content-type", "")
            if "text/event-stream" not in content_type:
                await response.aread()
                raise self._not_a_stream(response, content_type)
            stream = events.aiter_sse()
            while True:
                try:
                    async with asyncio.timeout_at(deadline):
                        event = await anext(stream)
                except StopAsyncIteration:
                    break
                except TimeoutError as exc:
                    raise ProviderError(
                        self.name,
                        f"the stream stalled: nothing new for {self._idle_timeout_s:g}s "
                        "(CASECRAFT_STRUCTURER_STREAM_IDLE_TIMEOUT_S)",
                        retryable=True,
                    ) from exc
                if event.data == "[DONE]":
                    finished = finished or "[DONE]"
                    break
                if not event.data:
                    continue
                chunk = self._chunk(event.data)
                if "error" in chunk:
                    raise error_from_http(self.name, 200, response.headers, chunk)
                if chunk.get("usage"):
                    usage.add(
                        chunk["usage"].get("prompt_tokens", 0),
                        chunk["usage"].get("completion_tokens", 0),
                    )
                for choice in chunk.get("choices") or []:
                    finished = choice.get("finish_reason") or finished
                    content = (choice.get("delta") or {}).get("content")
                    if finished or content:
                        deadline = loop.time() + self._idle_timeout_s
                    if not content:
                        continue
                    answer.append(content)
                    draft = drafts.update(_partial("".join(answer)))
                    if draft is not None:
                        yield draft
        # Read to the end first: the usage chunk comes after the finish_reason, billed all the same.
        if finished == "length":
            raise cut_off(self.name, self._max_tokens)
        if finished == "content_filter":
            raise ProviderError(self.name, "the provider's content filter stopped the answer")
        if finished is None:
            # Not an answer to re-ask about: the rest of it never arrived.
            raise ProviderError(
                self.name, "the stream ended before the answer finished", retryable=True
            )

    def _chunk(self, data: str) -> dict[str, Any]:
        """One event's JSON object; anything else is a corrupted stream, worth another try."""
        try:
            chunk = json.loads(data)
        except ValueError:
            chunk = None
        if not isinstance(chunk, dict):
            raise ProviderError(
                self.name, "the stream carried an event that is not a JSON object", retryable=True
            )
        return chunk

    def _not_a_stream(self, response: httpx.Response, content_type: str) -> ProviderError:
        """A 200 answer that is not an event stream: an error object in JSON, or a wrong URL."""
        try:
            body = json.loads(response.content)
        except ValueError:
            body = None
        if isinstance(body, dict) and "error" in body:
            return error_from_http(self.name, 200, response.headers, body)
        url = response.request.url
        return ProviderError(
            self.name,
            f"answered {content_type or 'without a content type'}, not an event stream: "
            f"check the base URL ({url.netloc.decode()}{url.path})",
        )


def _partial(text: str) -> Any:
    start = text.find("{")  # past a preamble or a ``` fence
    if start < 0:
        return None
    try:
        return jiter.from_json(text[start:].encode("utf-8"), partial_mode=True)
    except ValueError:
        return None


# Fields a model must write for the case study to be complete; the local extractor may leave
# them empty when the notes lack them, a model asked for a case study may not.
_ESSENTIAL = ("title", "challenge", "solution", "results")


def _check(text: str) -> tuple[Any, list[str]]:
    """The case study in the answer, or what is wrong with it (each problem one line)."""
    if not text.strip():
        return None, ["the answer is empty; answer with the case study as one JSON object"]
    data = _json_object(text)
    if data is None:
        return None, ["the answer holds no JSON object; answer with one JSON object only"]
    case_study, errors = validate(data)
    if case_study is None:
        return None, errors
    empty = [name for name in _ESSENTIAL if not getattr(case_study, name).strip()]
    if empty:
        return None, [f"{name}: empty; write it from the notes" for name in empty]
    return case_study, []


def _json_object(text: str) -> Any:
    """The JSON object in ``text``: as it is, out of prose or ``` fences, or repaired."""
    try:
        return json.loads(text)
    except ValueError:
        pass
    start, end = text.find("{"), text.rfind("}")
    inner = text[start : end + 1] if 0 <= start < end else text[start:] if start >= 0 else ""
    if not inner:
        return None
    try:
        return json.loads(inner)
    except ValueError:
        repaired = json_repair.loads(inner)
    return repaired if isinstance(repaired, dict) and repaired else None
