"""Any OpenAI-compatible ``/chat/completions`` (OpenRouter by default), streamed as JSON.

Structured output through ``response_format: json_schema`` with the CaseStudy schema; the growing
answer is parsed with jiter's partial mode into Drafts; invalid output gets one re-ask.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import jiter
from httpx_sse import aconnect_sse

from casecraft.casestudy_schema import schema, validate
from casecraft.errors import ProviderError
from casecraft.resilience import error_from_http
from structurer_service.providers import Draft, Structured
from structurer_service.providers.llm import Drafts, Prices, UsageTotals
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
    ) -> None:
        self._client = httpx.AsyncClient(
            base_url=base_url.rstrip("/") + "/",
            headers={"Authorization": f"Bearer {api_key}"},
            timeout=timeout,
        )
        self._models = {False: model, True: fast_model}
        self._max_tokens = max_tokens

    async def aclose(self) -> None:
        await self._client.aclose()

    async def structure(self, notes: str, *, fast: bool) -> AsyncIterator[Draft | Structured]:
        model = self._models[fast]
        usage = UsageTotals(self.name, model.id, model.prices)
        messages: list[dict[str, Any]] = [
            {"role": "system", "content": SYSTEM},
            {"role": "user", "content": user_message(notes)},
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
        async with aconnect_sse(self._client, "POST", "chat/completions", json=request) as events:
            response = events.response
            if response.status_code >= 400:
                await response.aread()
                raise error_from_http(
                    self.name, response.status_code, response.headers, response.content
                )
            async for event in events.aiter_sse():
                if event.data == "[DONE]":
                    break
                chunk = json.loads(event.data)
                if "error" in chunk:
                    raise error_from_http(self.name, 200, response.headers, chunk)
                if chunk.get("usage"):
                    usage.add(
                        chunk["usage"].get("prompt_tokens", 0),
                        chunk["usage"].get("completion_tokens", 0),
                    )
                for choice in chunk.get("choices") or []:
                    if choice.get("finish_reason") == "length":
                        raise ProviderError(self.name, "the answer was cut off at max_tokens")
                    content = (choice.get("delta") or {}).get("content")
                    if not content:
                        continue
                    answer.append(content)
                    draft = drafts.update(_partial("".join(answer)))
                    if draft is not None:
                        yield draft


def _partial(text: str) -> Any:
    try:
        return jiter.from_json(text.encode("utf-8"), partial_mode=True)
    except ValueError:
        return None


def _check(text: str) -> tuple[Any, list[str]]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return None, [f"the answer is not one JSON object ({exc.msg} at character {exc.pos})"]
    return validate(data)
