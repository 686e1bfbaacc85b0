"""Unusual HTTP input: every kind gets a 4xx problem+json that says what to fix, never a 5xx or a
read of more body than the limit allows."""

from __future__ import annotations

import base64
import gzip
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest

from gateway.app import create_app
from gateway.body import MAX_BODY_BYTES
from gateway.openapi import openapi_document
from gateway.settings import GatewaySettings
from tests.conftest import stack
from tests.support.providers import RecordingImages, ScriptedStructurer, png

JSON = {"content-type": "application/json"}
CHUNK = 64 * 1024

RAW_BODIES: list[tuple[str, bytes, int, str]] = [
    ("lone surrogate in notes", b'{"notes": "Acme \\ud800 freight"}', 422, "notes"),
    ("lone low surrogate in notes", b'{"notes": "\\udc00"}', 422, "surrogate"),
    ("lone surrogate in a field name", b'{"notes": "n", "\\ud800": 1}', 422, "surrogate"),
    ("lone surrogate in options", b'{"notes": "n", "options": {"f\\udfff": 1}}', 422, "surrogate"),
    (
        "nested too deeply",
        b'{"notes": "n", "x": ' + b"[" * 50_000 + b"]" * 50_000 + b"}",
        400,
        "nest",
    ),
    ("nested just past the stack", b"[" * 2_000 + b"]" * 2_000, 400, "nest"),
    ("integer with 5,000 digits as notes", b'{"notes": ' + b"9" * 5_000 + b"}", 400, "digits"),
    (
        "integer with 5,000 digits in options",
        b'{"notes": "n", "options": {"fast": ' + b"1" * 5_000 + b"}}",
        400,
        "digits",
    ),
    ("notes given twice", b'{"notes": "", "notes": "Client: Acme"}', 422, "notes"),
    ("fast given twice", b'{"notes": "n", "options": {"fast": true, "fast": false}}', 422, "fast"),
    ("zero-width notes", '{"notes": "\u200b\u200d\ufeff"}'.encode(), 422, "notes"),
    ("control-character notes", b'{"notes": "\\u0000\\u0001\\u007f"}', 422, "notes"),
    ("not UTF-8", '{"notes": "Acmé"}'.encode("latin-1"), 400, "UTF-8"),
]


@pytest.mark.parametrize(
    ("case", "raw", "status", "names"), RAW_BODIES, ids=[c[0] for c in RAW_BODIES]
)
async def test_unusual_json_gets_a_problem_saying_what_to_fix(
    case: str, raw: bytes, status: int, names: str
) -> None:
    images = RecordingImages()
    async with stack(ScriptedStructurer(), images) as client:
        response = await client.post("/v1/case-studies", content=raw, headers=JSON)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == status
    assert names in problem["detail"]
    assert not images.jobs


@pytest.mark.parametrize("encoding", ["gzip", "br", "deflate, gzip"])
async def test_a_compressed_body_is_415_asking_for_it_uncompressed(encoding: str) -> None:
    async with stack(ScriptedStructurer(), RecordingImages()) as client:
        response = await client.post(
            "/v1/case-studies",
            content=gzip.compress(b'{"notes": "Client: Acme"}'),
            headers={**JSON, "content-encoding": encoding},
        )
    assert response.status_code == 415, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["accept-encoding"] == "identity"
    assert "uncompressed" in response.json()["detail"]


async def test_identity_content_encoding_is_accepted() -> None:
    async with stack(ScriptedStructurer(), RecordingImages()) as client:
        response = await client.post(
            "/v1/case-studies",
            json={"notes": "Client: Acme"},
            headers={"content-encoding": "identity"},
        )
    assert response.status_code == 200, response.text


class CountingBody:
    """A request body streamed in chunks, counting how much of it the server asked for."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.sent = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while self.sent < self.size:
            chunk = b" " * min(CHUNK, self.size - self.sent)
            self.sent += len(chunk)
            yield chunk


async def test_a_streamed_body_over_the_limit_is_413_without_reading_it_all() -> None:
    body = CountingBody(MAX_BODY_BYTES * 3)
    async with stack(ScriptedStructurer(), RecordingImages()) as client:
        response = await client.post("/v1/case-studies", content=body, headers=JSON)
    assert response.status_code == 413, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert f"{MAX_BODY_BYTES:,}" in response.json()["detail"]
    assert body.sent <= MAX_BODY_BYTES + CHUNK


async def test_a_declared_length_over_the_limit_is_413_before_any_of_the_body_is_read() -> None:
    body = CountingBody(MAX_BODY_BYTES + 1)
    async with stack(ScriptedStructurer(), RecordingImages()) as client:
        response = await client.post(
            "/v1/case-studies",
            content=body,
            headers={**JSON, "content-length": str(MAX_BODY_BYTES + 1)},
        )
    assert response.status_code == 413, response.text
    assert f"{MAX_BODY_BYTES + 1:,}" in response.json()["detail"]
    assert body.sent == 0


async def test_a_client_that_leaves_mid_upload_is_499_not_an_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = create_app(GatewaySettings())
    messages = iter(
        [
            {"type": "http.request", "body": b'{"notes": "half of th', "more_body": True},
            {"type": "http.disconnect"},
        ]
    )
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return next(messages)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/v1/case-studies",
        "raw_path": b"/v1/case-studies",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"gateway"), (b"content-type", b"application/json")],
        "client": ("127.0.0.1", 50000),
        "server": ("gateway", 80),
    }
    await app(scope, receive, send)
    assert sent[0]["status"] == 499
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_a_wrong_method_names_the_allowed_ones_in_the_allow_header() -> None:
    async with stack(ScriptedStructurer(), RecordingImages()) as client:
        response = await client.put("/v1/case-studies", json={"notes": "n"})
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert response.headers["content-type"] == "application/problem+json"


async def test_an_unknown_field_names_the_fields_the_request_takes() -> None:
    async with stack(ScriptedStructurer(), RecordingImages()) as client:
        top = await client.post("/v1/case-studies", json={"note": "n"})
        nested = await client.post(
            "/v1/case-studies", json={"notes": "n", "options": {"quick": True}}
        )
    assert top.status_code == nested.status_code == 422
    unknown = {e["field"]: e["message"] for e in top.json()["errors"]}["note"]
    assert all(name in unknown for name in ("notes", "logo", "components", "options"))
    assert "fast" in {e["field"]: e["message"] for e in nested.json()["errors"]}["options.quick"]


@pytest.mark.parametrize(
    "body",
    [
        {"notes": "n", "components": ["poster"] * 100_000},
        {"notes": "n", "components": ["hero"] * 100_000},
        {"notes": "n", **{f"field{i}": 0 for i in range(100_000)}},
    ],
    ids=["many unknown components", "one component many times", "many unknown fields"],
)
async def test_a_problem_stays_small_however_many_errors_the_body_has(body: dict[str, Any]) -> None:
    async with stack(ScriptedStructurer(), RecordingImages()) as client:
        response = await client.post("/v1/case-studies", json=body)
    assert response.status_code == 422
    assert len(response.content) < 4_000
    problem = response.json()
    assert problem["errors"] and len(problem["errors"]) <= 10


async def test_a_logo_in_wrapped_base64_is_told_to_drop_the_line_breaks() -> None:
    wrapped = "data:image/png;base64," + base64.encodebytes(png()).decode()
    async with stack(ScriptedStructurer(), RecordingImages()) as client:
        response = await client.post("/v1/case-studies", json={"notes": "n", "logo": wrapped})
    assert response.status_code == 422
    assert "line breaks" in response.json()["detail"]


async def test_notes_with_unusual_but_valid_unicode_are_accepted() -> None:
    notes = "Client: Acme 😀\nDispatch went from 94 min to 31 min \u202e\u0000."
    async with stack(ScriptedStructurer(), RecordingImages()) as client:
        response = await client.post(
            "/v1/case-studies", content=json.dumps({"notes": notes}), headers=JSON
        )
    assert response.status_code == 200, response.text


def test_the_openapi_document_lists_the_415() -> None:
    responses = openapi_document()["paths"]["/v1/case-studies"]["post"]["responses"]
    assert "415" in responses
