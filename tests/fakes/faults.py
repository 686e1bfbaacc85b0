"""What a fake does with each request: a scripted queue of behaviours, then ``ok`` forever.

    fake.script(status(429, retry_after_ms="20"), ok())

Pacing makes a fake answer like a real model: a first-chunk latency, then a steady token rate.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from google.protobuf import json_format

from casecraft import protojson
from casecraft.v1 import case_study_pb2
from structurer_service.providers import Structured
from structurer_service.providers.prompt import refinement_in

Kind = Literal[
    "ok",
    "invalid",
    "no_tool",
    "status",
    "stream_error",
    "hang",
    "drop",
    "truncated",
    "malformed",
    "max_tokens",
    "not_sse",
    "invent",
    "leak",
    "empty",
    "missing_fields",
    "wrapped",
    "near_valid",
    "stall",
]


@dataclass(frozen=True)
class Behaviour:
    kind: Kind = "ok"
    status: int = 200
    error_type: str = ""
    message: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    # For stream_error, drop, truncated, malformed and max_tokens: how many content chunks go out
    # before the failure.
    after_chunks: int = 3


def ok() -> Behaviour:
    return Behaviour()


def invent(
    sentence: str = "Revenue per dispatcher rose 23% and overtime fell by $41,500.",
) -> Behaviour:
    """A valid answer whose results add a sentence with figures the notes do not hold."""
    return Behaviour("invent", message=sentence)


def leak() -> Behaviour:
    """A valid answer that ignores the request to anonymise: the names stay in."""
    return Behaviour("leak")


def empty() -> Behaviour:
    """A stream that finishes properly with no content at all, as local servers sometimes do."""
    return Behaviour("empty")


def missing_fields() -> Behaviour:
    """Valid JSON without the prose fields (challenge, solution, results): a half-empty answer."""
    return Behaviour("missing_fields")


def wrapped() -> Behaviour:
    """The JSON answer inside prose and a ```json fence."""
    return Behaviour("wrapped")


def near_valid() -> Behaviour:
    """Near-valid JSON: a trailing comma and no closing brace."""
    return Behaviour("near_valid")


def stall() -> Behaviour:
    """A stream that stops sending content two chunks before its end and only sends keep-alive
    comments after that, until the client gives up."""
    return Behaviour("stall")


def invalid() -> Behaviour:
    """A complete answer that violates the schema (so the re-ask path runs)."""
    return Behaviour("invalid")


def no_tool() -> Behaviour:
    """An answer in prose that never calls the tool, as a model may when tool_choice is auto."""
    return Behaviour("no_tool")


_STATUS_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    408: "timeout_error",
    429: "rate_limit_error",
    500: "api_error",
    503: "api_error",
    529: "overloaded_error",
}


def status(
    code: int,
    *,
    retry_after: str | None = None,
    retry_after_ms: str | None = None,
    message: str | None = None,
) -> Behaviour:
    headers = {}
    if retry_after is not None:
        headers["retry-after"] = retry_after
    if retry_after_ms is not None:
        headers["retry-after-ms"] = retry_after_ms
    kind = _STATUS_TYPES.get(code, "api_error")
    return Behaviour("status", code, kind, message or kind.replace("_", " "), headers)


def stream_error(error_type: str = "overloaded_error", *, after_chunks: int = 3) -> Behaviour:
    """A 200 stream that carries an ``error`` event partway."""
    return Behaviour("stream_error", 200, error_type, "Overloaded", after_chunks=after_chunks)


def truncated(*, after_chunks: int = 3) -> Behaviour:
    """A 200 stream that ends cleanly partway: no ``message_stop``, no finish_reason, no [DONE]."""
    return Behaviour("truncated", after_chunks=after_chunks)


def malformed(*, after_chunks: int = 3) -> Behaviour:
    """A 200 stream whose next ``data:`` line is not JSON (a corrupted event), then its end."""
    return Behaviour("malformed", after_chunks=after_chunks)


def max_tokens(*, after_chunks: int = 3) -> Behaviour:
    """A 200 stream cut off by the output limit: the answer stops partway and the stream ends
    properly with ``stop_reason: max_tokens`` (``finish_reason: length``) and its usage."""
    return Behaviour("max_tokens", after_chunks=after_chunks)


def not_sse() -> Behaviour:
    """A 200 answer in HTML instead of an event stream, as a base URL pointing at a web site gets."""
    return Behaviour("not_sse")


def hang() -> Behaviour:
    """Never answer; the request ends only when the client gives up."""
    return Behaviour("hang")


def drop(*, after_chunks: int = 3) -> Behaviour:
    """Start a 200 stream, then cut the connection."""
    return Behaviour("drop", after_chunks=after_chunks)


@dataclass
class Pace:
    """Latency of a streamed answer: the first chunk after ``first_chunk_s``, then ``tokens_per_s``."""

    first_chunk_s: float = 0.0
    tokens_per_s: float | None = None
    chars_per_token: float = 4.0

    async def before_first(self) -> None:
        if self.first_chunk_s > 0:
            await asyncio.sleep(self.first_chunk_s)

    async def after(self, chunk: str) -> None:
        if self.tokens_per_s:
            await asyncio.sleep(len(chunk) / self.chars_per_token / self.tokens_per_s)


class Script:
    def __init__(self) -> None:
        self._queue: list[Behaviour] = []

    def script(self, *behaviours: Behaviour) -> None:
        self._queue.extend(behaviours)

    def next(self) -> Behaviour:
        return self._queue.pop(0) if self._queue else ok()


def split_anywhere(text: str, rng: random.Random, largest: int = 12) -> list[str]:
    """Cut ``text`` at arbitrary points: mid-token, mid-string, mid-escape."""
    chunks = []
    at = 0
    while at < len(text):
        size = rng.randint(1, largest)
        chunks.append(text[at : at + size])
        at += size
    return chunks


async def local_answer(notes: str) -> dict[str, Any]:
    """The case study the project's local extractor writes for ``notes``, as JSON."""
    from structurer_service.providers.local import LocalStructurer

    async for item in LocalStructurer().structure(notes, fast=False):
        if isinstance(item, Structured):
            return json_format.MessageToDict(
                item.case_study,
                preserving_proto_field_name=True,
                always_print_fields_with_no_presence=True,
            )
    raise AssertionError("the local extractor wrote no case study")


def shaped(answer: dict[str, Any], behaviour: Behaviour, notes: str, body: Any) -> dict[str, Any]:
    """The answer as the model writes it: anonymised when the request asks (unless it leaks),
    with an invented figure, or without its prose fields."""
    from structurer_service.anonymize import find_names
    from structurer_service.checks import ANONYMIZE_INSTRUCTION

    answer = dict(answer)
    if ANONYMIZE_INSTRUCTION.split(".")[0] in json.dumps(body) and behaviour.kind != "leak":
        study = protojson.from_dict(answer, case_study_pb2.CaseStudy)
        find_names(notes).apply(study)
        answer = json_format.MessageToDict(
            study, preserving_proto_field_name=True, always_print_fields_with_no_presence=True
        )
    if behaviour.kind == "invent":
        answer["results"] = f"{answer.get('results', '')} {behaviour.message}".strip()
    if behaviour.kind == "missing_fields":
        for name in ("challenge", "solution", "results"):
            answer.pop(name, None)
    return answer


def written(text: str, behaviour: Behaviour) -> str:
    """The answer's text as a local server may send it."""
    if behaviour.kind == "empty":
        return ""
    if behaviour.kind == "wrapped":
        return f"Sure! Here is the case study:\n```json\n{text}\n```\nTell me if you want changes."
    if behaviour.kind == "near_valid":
        return text.rstrip().removesuffix("}") + ",\n"
    return text


def refined_answer(texts: list[str]) -> dict[str, Any] | None:
    """What the fake model writes when asked to rewrite one section (``refine_message``): the case
    study as sent, with that section cut to its first sentence (how a model follows "shorter"),
    or, for an instruction "replace with: TEXT", exactly TEXT. None when no text asks for it."""
    for text in texts:
        found = refinement_in(text)
        if found is None:
            continue
        section, instruction, as_json = found
        study: dict[str, Any] = json.loads(as_json)
        _, said, replacement = instruction.partition("replace with:")
        if section == "quote":
            quote = dict(study.get("quote") or {"author": "", "role": ""})
            quote["text"] = replacement.strip() if said else _first_sentence(quote.get("text", ""))
            study["quote"] = quote
        else:
            study[section] = replacement.strip() if said else _first_sentence(study[section])
        return study
    return None


def _first_sentence(text: str) -> str:
    head, stop, _ = text.partition(". ")
    return head + "." if stop else text


def in_schema_order(value: Any, schema: dict[str, Any]) -> Any:
    """``value`` with object keys in the schema's property order (the order a writer follows)."""
    if isinstance(value, dict) and "properties" in schema:
        props = schema["properties"]
        ordered = {k: in_schema_order(value[k], props[k]) for k in props if k in value}
        return ordered | {k: v for k, v in value.items() if k not in props}
    if isinstance(value, list) and "items" in schema:
        return [in_schema_order(v, schema["items"]) for v in value]
    return value


def violate(answer: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """The answer broken the way models break: a wrong type and a missing required field."""
    broken = dict(answer)
    required = schema.get("required", [])
    if required:
        broken.pop(required[-1], None)
    first = next(iter(schema.get("properties", {})), None)
    if first is not None:
        broken[first] = 42
    return broken


Answerer = Callable[[str], Any]
