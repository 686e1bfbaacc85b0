"""Claude through the official SDK: a strict tool whose input is the CaseStudy, streamed.

The call is asked for in the prompt with ``tool_choice`` auto, not forced; an answer without it
gets one re-ask.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from anthropic import AsyncAnthropic, Timeout

# The SDK's own fold of raw stream events into a message (what its MessageStream runs), used
# without the derived events MessageStream builds on top. Not exported by the SDK: pyproject pins
# anthropic to the minor versions tested, and tests/structurer_service/test_anthropic_sdk.py
# fails loudly when this function changes.
from anthropic.lib.streaming._messages import accumulate_event
from anthropic.types import MessageParam, ParsedMessage, ToolParam
from opentelemetry.propagate import inject

from casecraft.casestudy_schema import schema, validate
from casecraft.errors import ProviderError
from casecraft.keys import usable_key
from structurer_service import checks
from structurer_service.providers import Draft, Refinement, Structured
from structurer_service.providers.anthropic_errors import SDK_ERRORS, error_from_sdk
from structurer_service.providers.llm import Drafts, Prices, UsageTotals, cut_off, refine_request
from structurer_service.providers.prompt import (
    SYSTEM,
    TOOL_DESCRIPTION,
    TOOL_NAME,
    reask,
    user_message,
)


@dataclass(frozen=True)
class ClaudeModel:
    id: str
    prices: Prices


@dataclass
class _ToolCall:
    id: str = ""
    input: Any = field(default_factory=dict)
    stop_reason: str | None = None
    # The whole answer, every block as the API sent it, for the re-ask.
    content: list[Any] = field(default_factory=list)


class AnthropicStructurer:
    """Streams ``record_case_study``'s input as Drafts; invalid output gets one re-ask.

    The SDK's own retries are off (``max_retries=0``): the chain around this provider retries.
    """

    name = "anthropic"

    def __init__(
        self,
        *,
        api_key: str,
        base_url: str | None,
        model: ClaudeModel,
        fast_model: ClaudeModel,
        max_tokens: int = 8192,
        read_timeout_s: float = 60.0,
        connect_timeout_s: float = 10.0,
    ) -> None:
        self._client = AsyncAnthropic(
            api_key=usable_key(self.name, api_key),
            base_url=base_url,
            max_retries=0,
            timeout=Timeout(read_timeout_s, connect=connect_timeout_s),
            # No span of the SDK's own: it follows each of the hundreds of streamed events (even
            # with tracing off, through a no-op tracer) to record what the structure step's span
            # already holds (model, tokens, time to first chunk; each attempt an event). Without
            # it the SDK sends no trace context, so each call sends the step's (below).
            open_telemetry={"traces": False},
        )
        self._models = {False: model, True: fast_model}
        self._max_tokens = max_tokens
        # Strict: sampling is held to the schema. The call is asked for in the prompt, not forced
        # with tool_choice: the 5.5 models answer a forced tool_choice with a 400.
        self._tool: ToolParam = {
            "name": TOOL_NAME,
            "description": TOOL_DESCRIPTION,
            "input_schema": schema(),
            "strict": True,
        }

    async def aclose(self) -> None:
        await self._client.close()

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
        messages: list[MessageParam] = [{"role": "user", "content": request}]
        call = _ToolCall()
        async for draft in self._stream(model.id, messages, usage, call):
            yield draft
        case_study, errors = self._check(call)
        if errors:
            # The answer goes back as it came (thinking blocks included: a model that thought
            # wants them back), followed by what was wrong with it.
            messages += [
                {"role": "assistant", "content": call.content},
                _reask_turn(call, reask(errors)),
            ]
            call = _ToolCall()
            async for draft in self._stream(model.id, messages, usage, call):
                yield draft
            case_study, errors = self._check(call)
        if case_study is None:
            raise ProviderError(
                self.name, "invalid case study after one re-ask: " + "; ".join(errors[:3])
            )
        problems = review.problems(case_study) if review else []
        if problems:
            # Valid, but a figure is not in the notes or a name is still there: asked once more;
            # a second answer that is not even valid leaves the first one standing.
            messages += [
                {"role": "assistant", "content": call.content},
                _reask_turn(call, checks.review_reask(problems)),
            ]
            call = _ToolCall()
            async for draft in self._stream(model.id, messages, usage, call):
                yield draft
            again, _ = self._check(call)
            case_study = again if again is not None else case_study
        yield Structured(case_study=case_study, usage=usage.message())

    async def _stream(
        self, model: str, messages: list[MessageParam], usage: UsageTotals, call: _ToolCall
    ) -> AsyncIterator[Draft]:
        """One streamed call: the SDK's raw events, folded into the message by the SDK's own
        accumulator. ``messages.stream()`` would also build a second, derived event for each of
        the hundreds of raw ones, through the SDK's generic model constructor: most of the
        stream's CPU, for events this provider does not read."""
        drafts = Drafts()
        usage.calls += 1
        message: ParsedMessage[None] | None = None
        stopped = False
        trace_context: dict[str, str] = {}
        inject(trace_context)  # traceparent: the provider's side joins the request's trace
        try:
            stream = await self._client.messages.create(
                model=model,
                max_tokens=self._max_tokens,
                system=SYSTEM,
                messages=messages,
                tools=[self._tool],
                tool_choice={"type": "auto"},
                stream=True,
                extra_headers=trace_context,
            )
            async with stream:
                json_bufs: dict[int, bytes] = {}
                async for event in stream:
                    if message is None and event.type != "message_start":
                        continue  # as the SDK's MessageStream does: nothing to fold it into yet
                    message = accumulate_event(
                        event=event, current_snapshot=message, json_bufs=json_bufs
                    )
                    if (
                        event.type == "content_block_delta"
                        and event.delta.type == "input_json_delta"
                    ):
                        block = message.content[event.index]
                        draft = drafts.update(block.input) if block.type == "tool_use" else None
                        if draft is not None:
                            yield draft
                    elif event.type == "message_stop":
                        stopped = True
        except SDK_ERRORS as exc:
            raise error_from_sdk(self.name, exc) from exc
        except ValueError as exc:
            raise _not_json(self.name, exc) from exc
        finally:
            if message is not None:  # what the stream reported was billed, cut off or not
                usage.add(message.usage.input_tokens, message.usage.output_tokens)
        if message is None or not stopped:
            # Not an answer to re-ask about: the rest of it never arrived.
            raise ProviderError(self.name, "the stream ended before message_stop", retryable=True)
        call.stop_reason = message.stop_reason
        call.content = [block.to_dict() for block in message.content]
        for block in message.content:
            if block.type == "tool_use" and block.name == TOOL_NAME:
                call.id, call.input = block.id, block.input

    def _check(self, call: _ToolCall) -> tuple[Any, list[str]]:
        if call.stop_reason == "max_tokens":
            raise cut_off(self.name, self._max_tokens)
        if not call.id:
            return None, [f"the answer did not call {TOOL_NAME}"]
        return validate(call.input)


def _not_json(provider: str, exc: ValueError) -> ProviderError:
    """An event, or the tool input it carries, that does not parse: a corrupted stream, worth
    another try. Only what failed: the SDK's message quotes the answer."""
    what = "an event" if isinstance(exc, json.JSONDecodeError) else "tool input"
    return ProviderError(provider, f"the stream carried {what} that is not JSON", retryable=True)


def _reask_turn(call: _ToolCall, text: str) -> MessageParam:
    """The user turn that asks once more: the tool's result when it was called, else a request
    to call it."""
    if not call.id:
        return {"role": "user", "content": f"Call {TOOL_NAME} with the complete case study."}
    return {
        "role": "user",
        "content": [
            {
                "type": "tool_result",
                "tool_use_id": call.id,
                "is_error": True,
                "content": text,
            }
        ],
    }
