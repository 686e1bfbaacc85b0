"""A loopback OpenAI Images API: ``/v1/images/generations`` and multipart ``/v1/images/edits``.

    fake = FakeOpenAIImages(api_key="sk-proj-test")
    fake.faults.script(status(429, retry_after_ms="10"))
    async with fake.running() as base_url:       # OPENAI_BASE_URL=base_url
        ...
    fake.requests[0].files[0].data               # the logo that arrived as image[]

Answers are built from the request: a real image of the requested ``size`` and ``output_format``
showing the prompt's first words, returned as ``data[0].b64_json``. Errors use OpenAI's format
(``{"error": {"message", "type", "param", "code"}}``); a wrong key is answered the way OpenAI does,
quoting the key it received, so tests can prove that casecraft never repeats it.
"""

from __future__ import annotations

import base64
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from email import policy
from email.parser import BytesParser
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from tests.fakes.openrouter_images import (
    NOT_BASE64,
    Faults,
    ReceivedRequest,
    Reply,
    UploadedFile,
    bearer,
    huge_answer,
    image_for,
)
from tests.fakes.server import serve

SIZES = {"1024x1024": (1024, 1024), "1536x1024": (1536, 1024), "1024x1536": (1024, 1536)}
FORMATS = {"png": "PNG", "jpeg": "JPEG", "webp": "WEBP"}
_ERROR_TYPES = {400: "invalid_request_error", 401: "invalid_request_error", 429: "requests"}
_ERROR_CODES = {401: "invalid_api_key", 429: "rate_limit_exceeded"}


class FakeOpenAIImages:
    """OpenAI's Images API for GPT image models."""

    def __init__(self, *, api_key: str = "sk-proj-fake-key-0000", latency_s: float = 0.0) -> None:
        self.api_key = api_key
        self.faults = Faults(latency_s=latency_s)
        self.requests: list[ReceivedRequest] = []
        # Set while running: the base URL to configure the provider with.
        self.base_url = ""
        self.app = Starlette(
            routes=[
                Route("/v1/images/generations", self._generations, methods=["POST"]),
                Route("/v1/images/edits", self._edits, methods=["POST"]),
            ]
        )

    @asynccontextmanager
    async def running(self) -> AsyncIterator[str]:
        """Serve on 127.0.0.1 port 0; yields the base URL to use as OPENAI_BASE_URL."""
        async with serve(self.app) as url:
            self.base_url = f"{url}/v1"
            try:
                yield self.base_url
            finally:
                self.faults.release()

    async def _generations(self, request: Request) -> Response:
        body = await request.json()
        received = ReceivedRequest(request.url.path, dict(request.headers), json=body)
        fields = {key: str(value) for key, value in body.items()}
        return await self._answer(request, received, fields)

    async def _edits(self, request: Request) -> Response:
        fields, files = parse_multipart(
            request.headers.get("content-type", ""), await request.body()
        )
        received = ReceivedRequest(
            request.url.path, dict(request.headers), fields=fields, files=files
        )
        if not files:
            self.requests.append(received)
            return _error(400, "Missing required parameter: 'image'.", param="image")
        return await self._answer(request, received, fields)

    async def _answer(
        self, request: Request, received: ReceivedRequest, fields: Mapping[str, str]
    ) -> Response:
        self.requests.append(received)
        key = bearer(request)
        if key != self.api_key:
            return _error(401, f"Incorrect API key provided: {key}. You can find your API key ...")
        if not fields.get("prompt"):
            return _error(400, "Missing required parameter: 'prompt'.", param="prompt")
        size = fields.get("size", "1024x1024")
        if size not in SIZES:
            return _error(
                400,
                f"Invalid value: '{size}'. Supported values are: "
                "'1024x1024', '1024x1536', '1536x1024', and 'auto'.",
                param="size",
            )
        output_format = fields.get("output_format", "png")
        if output_format not in FORMATS:
            return _error(400, f"Invalid value: '{output_format}'.", param="output_format")
        reply = self.faults.next(fields["prompt"])
        await self.faults.delay()
        if reply.kind == "hang":
            await self.faults.hang()
            return _error(503, "the fake stopped")
        if reply.kind == "status":
            return _error(reply.status, reply.message, headers=reply.headers)
        if reply.kind == "huge":
            prefix = b'{"created": 0, "data": [{"b64_json": "'
            return StreamingResponse(huge_answer(prefix), media_type="application/json")
        return JSONResponse(self._images(reply, fields, SIZES[size], output_format))

    def _images(
        self, reply: Reply, fields: Mapping[str, str], size: tuple[int, int], output_format: str
    ) -> dict[str, Any]:
        answer: dict[str, Any] = {
            "created": int(time.time()),
            "background": "opaque",
            "output_format": output_format,
            "quality": fields.get("quality", "auto"),
            "size": fields.get("size", "1024x1024"),
            "usage": {"input_tokens": 50, "output_tokens": 4160, "total_tokens": 4210},
        }
        if reply.kind in ("no_images", "error_object"):
            answer["data"] = []
            return answer
        data = image_for(reply, fields["prompt"], size, FORMATS[output_format])
        encoded = base64.b64encode(data).decode("ascii")
        answer["data"] = [{"b64_json": NOT_BASE64 if reply.kind == "bad_base64" else encoded}]
        return answer


def parse_multipart(content_type: str, body: bytes) -> tuple[dict[str, str], list[UploadedFile]]:
    """A multipart/form-data body's fields and files (the standard library's MIME parser)."""
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    message = BytesParser(policy=policy.HTTP).parsebytes(head + body)
    fields: dict[str, str] = {}
    files: list[UploadedFile] = []
    if not message.is_multipart():
        return fields, files
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition") or ""
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        filename = part.get_filename()
        if filename is None:
            fields[str(name)] = data.decode("utf-8")
        else:
            files.append(UploadedFile(str(name), filename, part.get_content_type(), data))
    return fields, files


def _error(
    code: int,
    message: str,
    *,
    param: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    body = {
        "error": {
            "message": message,
            "type": _ERROR_TYPES.get(code, "server_error"),
            "param": param,
            "code": _ERROR_CODES.get(code),
        }
    }
    return JSONResponse(body, status_code=code, headers=dict(headers or {}))
