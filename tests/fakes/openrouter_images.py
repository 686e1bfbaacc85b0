"""A loopback OpenRouter that draws: chat completions with ``message.images``, faults on demand.

    fake = FakeOpenRouter(api_key="sk-or-v1-test")
    fake.faults.script(status(429, retry_after="0.01"), NO_IMAGES)   # then normal answers
    async with fake.running() as base_url:       # OPENROUTER_BASE_URL=base_url
        ...
    fake.requests[0].json["messages"]            # what arrived

Answers are built from the request: a real PNG at the size the prompt asks for ("about WxH
pixels", else the requested aspect ratio), showing the prompt's first words. The scripted replies
(``Faults``) are shared with the OpenAI Images fake.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import io
import random
import re
import struct
import time
import zlib
from collections import deque
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

from PIL import Image, ImageDraw, ImageFont
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from tests.fakes.server import serve

Kind = Literal[
    "ok",
    "status",
    "hang",
    "no_images",
    "error_object",
    "garbage",
    "oversized",
    "bomb",
    "gif",
    "bad_base64",
    "huge",
    "photo_sized",
]


@dataclass(frozen=True)
class Reply:
    """What the fake does with one request."""

    kind: Kind
    status: int = 200
    headers: Mapping[str, str] = field(default_factory=dict)
    message: str = ""


OK = Reply("ok")
# Never answers (until the fake stops): for attempt timeouts.
HANG = Reply("hang")
# A 200 answer with text and no image.
NO_IMAGES = Reply("no_images")
# A 200 answer whose image bytes are not an image.
GARBAGE = Reply("garbage")
# A real PNG of noise at the requested size: large in bytes.
OVERSIZED = Reply("oversized")
# A tiny PNG whose header declares 9000x9000 pixels (under Pillow's own bomb limit).
BOMB = Reply("bomb")
# A real image of a type casecraft does not pass on.
GIF = Reply("gif")
# A 200 answer whose image field is not base64.
BAD_BASE64 = Reply("bad_base64")
# A 200 answer streamed in chunks without a content-length, far larger than any image limit.
HUGE = Reply("huge")


def photo_sized(size_bytes: int) -> Reply:
    """A real PNG of about ``size_bytes`` (noise, so incompressible): a generated photograph's
    weight (a megabyte or two), where the drawn default is a few kilobytes."""
    return Reply("photo_sized", message=str(size_bytes))


HUGE_BYTES = 16 * 1024 * 1024
NOT_BASE64 = "iVBORw0KGgo!!this is not base64: <html>…</html>"


async def huge_answer(prefix: bytes) -> AsyncIterator[bytes]:
    """``prefix``, then base64-looking bytes 1 MiB at a time (HUGE_BYTES in all), then the JSON end."""
    yield prefix
    block = b"A" * (1024 * 1024)
    for _ in range(HUGE_BYTES // len(block)):
        yield block
    yield b'"}]}'


def status(
    code: int,
    message: str = "",
    *,
    retry_after: str | None = None,
    retry_after_ms: str | None = None,
) -> Reply:
    """An HTTP error answer in the provider's error format, with optional retry headers."""
    headers = {}
    if retry_after is not None:
        headers["retry-after"] = retry_after
    if retry_after_ms is not None:
        headers["retry-after-ms"] = retry_after_ms
    return Reply("status", code, headers, message or _REASONS.get(code, "error"))


def error_object(code: int, message: str = "Provider returned error") -> Reply:
    """A 200 answer carrying an ``error`` object instead of a completion."""
    return Reply("error_object", code, {}, message)


_REASONS = {
    400: "Bad request",
    401: "No auth credentials found",
    429: "Rate limit exceeded",
    500: "Internal server error",
    502: "Upstream provider error",
    503: "Service temporarily unavailable",
}


class Faults:
    """What the fake does with each request: rules matched on the prompt, then scripted replies
    consumed one per request, then ``default``; plus latency and hangs."""

    def __init__(self, *script: Reply, latency_s: float = 0.0, default: Reply = OK) -> None:
        self._script: deque[Reply] = deque(script)
        self._rules: list[tuple[str, Reply]] = []
        self.latency_s = latency_s
        self.default = default
        self._released: asyncio.Event | None = None
        # Set to an Event to hold every request until it is set; each request's arrival is put
        # in ``arrivals`` first, so a test can await "the provider was called".
        self.gate: asyncio.Event | None = None
        self.arrivals: asyncio.Queue[None] = asyncio.Queue()

    def script(self, *replies: Reply) -> None:
        """Append replies for the next requests."""
        self._script.extend(replies)

    def when_prompt_has(self, text: str, reply: Reply) -> None:
        """Answer every request whose prompt contains ``text`` with ``reply`` (case-insensitive)."""
        self._rules.append((text.lower(), reply))

    def next(self, prompt: str = "") -> Reply:
        lowered = prompt.lower()
        for text, reply in self._rules:
            if text in lowered:
                return reply
        return self._script.popleft() if self._script else self.default

    @property
    def pending(self) -> int:
        return len(self._script)

    async def delay(self) -> None:
        self.arrivals.put_nowait(None)
        if self.gate is not None:
            await self.gate.wait()
        if self.latency_s:
            await asyncio.sleep(self.latency_s)

    async def hang(self) -> None:
        """Wait until the fake stops (``release``)."""
        if self._released is None:
            self._released = asyncio.Event()
        await self._released.wait()

    def release(self) -> None:
        if self._released is not None:
            self._released.set()


@dataclass
class UploadedFile:
    field: str
    filename: str
    content_type: str
    data: bytes


@dataclass
class ReceivedRequest:
    path: str
    headers: dict[str, str]
    json: Any = None
    fields: dict[str, str] = field(default_factory=dict)
    files: list[UploadedFile] = field(default_factory=list)


# --- images drawn from the request -------------------------------------------------------------

_SIZE_HINT = re.compile(r"about (\d{2,5})x(\d{2,5}) pixels")
_FORMATS = {"png": "PNG", "jpeg": "JPEG", "webp": "WEBP"}
MEDIA_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp", "GIF": "image/gif"}


def first_words(prompt: str, count: int = 6) -> str:
    return " ".join(prompt.split()[:count])


def draw(prompt: str, size: tuple[int, int], fmt: str = "PNG") -> bytes:
    """A real image showing the prompt's first words, its colour derived from the prompt."""
    digest = hashlib.sha256(prompt.encode("utf-8")).digest()
    image = Image.new("RGB", size, (digest[0] // 2 + 64, digest[1] // 2 + 64, digest[2] // 2 + 64))
    canvas = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=max(10, size[1] // 14))
    canvas.text((size[0] // 20, size[1] // 3), first_words(prompt), fill=(255, 255, 255), font=font)
    out = io.BytesIO()
    image.save(out, fmt)
    return out.getvalue()


def noise_png(size: tuple[int, int]) -> bytes:
    """Incompressible pixels: a valid PNG about width*height*3 bytes long."""
    rng = random.Random(size[0] * 65_537 + size[1])
    raw = rng.randbytes(size[0] * size[1] * 3)
    out = io.BytesIO()
    Image.frombytes("RGB", size, raw).save(out, "PNG", compress_level=0)
    return out.getvalue()


def bomb_png(width: int = 9_000, height: int = 9_000) -> bytes:
    """A small PNG whose header claims ``width`` x ``height``: only a header check stops it cheaply."""
    row = b"\x00" + b"\x00" * ((width + 7) // 8)
    compressor = zlib.compressobj(9)
    data = b"".join(compressor.compress(row) for _ in range(64)) + compressor.flush()

    def chunk(kind: bytes, payload: bytes) -> bytes:
        crc = binascii.crc32(kind + payload) & 0xFFFFFFFF
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")
    )


def image_for(reply: Reply, prompt: str, size: tuple[int, int], fmt: str = "PNG") -> bytes:
    """The image bytes an answering reply carries."""
    if reply.kind == "garbage":
        return b"\x89PNG\r\n\x1a\n this is not really an image " + prompt[:40].encode()
    if reply.kind == "oversized":
        return noise_png(size)
    if reply.kind == "photo_sized":
        side = max(8, int((int(reply.message) / 3) ** 0.5))
        return noise_png((side, side))
    if reply.kind == "bomb":
        return bomb_png()
    if reply.kind == "gif":
        return draw(prompt, size, "GIF")
    return draw(prompt, size, fmt)


def size_from_prompt(prompt: str, aspect_ratio: str | None) -> tuple[int, int]:
    """The size the prompt asks for, else the aspect ratio at a 1024-pixel long side."""
    hint = _SIZE_HINT.search(prompt)
    if hint:
        return int(hint.group(1)), int(hint.group(2))
    w, h = (int(part) for part in (aspect_ratio or "1:1").split(":"))
    return (1024, round(1024 * h / w)) if w >= h else (round(1024 * w / h), 1024)


def bearer(request: Request) -> str:
    value = request.headers.get("authorization", "")
    return value.removeprefix("Bearer ") if value.startswith("Bearer ") else ""


# --- the OpenRouter fake -----------------------------------------------------------------------


class FakeOpenRouter:
    """OpenRouter's ``/api/v1/chat/completions`` for image output models."""

    def __init__(self, *, api_key: str = "sk-or-v1-fake-key-0000", latency_s: float = 0.0) -> None:
        self.api_key = api_key
        self.faults = Faults(latency_s=latency_s)
        self.requests: list[ReceivedRequest] = []
        # Set while running: the base URL to configure the provider with.
        self.base_url = ""
        self.app = Starlette(
            routes=[Route("/api/v1/chat/completions", self._chat, methods=["POST"])]
        )

    @asynccontextmanager
    async def running(self) -> AsyncIterator[str]:
        """Serve on 127.0.0.1 port 0; yields the base URL to use as OPENROUTER_BASE_URL."""
        async with serve(self.app) as url:
            self.base_url = f"{url}/api/v1"
            try:
                yield self.base_url
            finally:
                self.faults.release()

    async def _chat(self, request: Request) -> Response:
        body = await request.json()
        self.requests.append(ReceivedRequest(request.url.path, dict(request.headers), json=body))
        if bearer(request) != self.api_key:
            return _error(401, "No auth credentials found")
        prompt = prompt_text(body)
        reply = self.faults.next(prompt)
        await self.faults.delay()
        if reply.kind == "hang":
            await self.faults.hang()
            return _error(503, "the fake stopped")
        if reply.kind == "status":
            return _error(reply.status, reply.message, reply.headers)
        model = body.get("model", "")
        if reply.kind == "huge":
            prefix = b'{"choices": [{"message": {"images": [{"image_url": {"url": "data:image/png;base64,'
            return StreamingResponse(huge_answer(prefix), media_type="application/json")
        if reply.kind == "error_object":
            return JSONResponse(
                {"error": {"code": reply.status, "message": reply.message}, "user_id": "user_fake"}
            )
        message: dict[str, Any] = {
            "role": "assistant",
            "content": "Here is the image you asked for.",
        }
        if reply.kind == "no_images":
            message["content"] = "I can describe that image, but I did not draw one."
        else:
            size = size_from_prompt(prompt, body.get("image_config", {}).get("aspect_ratio"))
            data = image_for(reply, prompt, size)
            media_type = "image/gif" if reply.kind == "gif" else "image/png"
            encoded = base64.b64encode(data).decode("ascii")
            if reply.kind == "bad_base64":
                encoded = NOT_BASE64
            message["images"] = [
                {"type": "image_url", "image_url": {"url": f"data:{media_type};base64,{encoded}"}}
            ]
        return JSONResponse(
            {
                "id": f"gen-{len(self.requests)}",
                "provider": "Google",
                "model": model,
                "object": "chat.completion",
                "created": int(time.time()),
                "choices": [
                    {
                        "index": 0,
                        "logprobs": None,
                        "finish_reason": "stop",
                        "native_finish_reason": "STOP",
                        "message": message,
                    }
                ],
                "usage": {"prompt_tokens": 40, "completion_tokens": 1300, "total_tokens": 1340},
            }
        )


def prompt_text(body: Mapping[str, Any]) -> str:
    """The text of the request's user message(s)."""
    texts: list[str] = []
    for message in body.get("messages", []):
        content = message.get("content")
        if isinstance(content, str):
            texts.append(content)
        else:
            texts.extend(part.get("text", "") for part in content if part.get("type") == "text")
    return "\n".join(texts)


def image_parts(body: Mapping[str, Any]) -> list[str]:
    """The URLs of the request's ``image_url`` content parts."""
    return [
        part["image_url"]["url"]
        for message in body.get("messages", [])
        if not isinstance(message.get("content"), str)
        for part in message["content"]
        if part.get("type") == "image_url"
    ]


def _error(code: int, message: str, headers: Mapping[str, str] | None = None) -> Response:
    return JSONResponse(
        {"error": {"code": code, "message": message}}, status_code=code, headers=dict(headers or {})
    )
