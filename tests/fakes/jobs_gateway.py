"""A gateway that speaks the jobs API of CONTRACTS.md and replays one scripted job.

``POST /v1/case-studies`` with ``Prefer: respond-async`` answers 202 + ``Location``;
``GET /v1/case-studies/{id}/events`` streams the script as server-sent events (``id``, ``event``,
``data`` lines; resumable with ``Last-Event-ID``); ``GET /v1/images/{sha256}`` serves the PNGs.
``mode`` makes it an older gateway instead: ``"sync"`` ignores ``Prefer`` and answers 200 at once,
``"refuses_async"`` answers 415 to ``Prefer``, ``"hangs"`` never answers.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import io
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from PIL import Image
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from tests.fakes.server import DropConnection

JOB_ID = "job-7f3a"
Event = tuple[str, dict[str, Any]]


def png(color: tuple[int, int, int], size: tuple[int, int] = (160, 90)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format="PNG")
    return buffer.getvalue()


IMAGES = {
    "hero": png((35, 64, 142)),
    "metrics": png((20, 140, 90)),
    "timeline": png((200, 120, 30)),
}
SHA = {name: hashlib.sha256(data).hexdigest() for name, data in IMAGES.items()}
BY_SHA = {SHA[name]: data for name, data in IMAGES.items()}

HEADLINE = {
    "client_name": "Harbor Freightways",
    "industry": "Logistics",
    "title": "Harbor Freightways cut missed pickups by 85%",
    "subtitle": "A live load board replaced the whiteboards",
}
STUDY = {
    **HEADLINE,
    "metrics": [{"label": "Missed pickups", "before": "20%", "after": "3%", "improvement": "85%"}],
    "phases": [{"name": "Pilot", "period": "Q1", "description": "One depot"}],
    "challenge": "Dispatch ran on whiteboards.",
    "solution": "A load board fed from the TMS.",
    "results": "Missed pickups fell.",
    "quote": {"text": "We see every load.", "author": "Dana", "role": "COO"},
}


def image_result(component: str) -> dict[str, Any]:
    return {
        "component": component,
        "status": "ok",
        "url": f"/v1/images/{SHA[component]}",
        "sha256": SHA[component],
        "media_type": "image/png",
        "width": 160,
        "height": 90,
        "provider": "local",
        "cache_hit": False,
    }


def answer(*, inline: bool = False) -> dict[str, Any]:
    """The job's answer: today's synchronous answer plus id, status and links."""
    images = [image_result(name) for name in IMAGES]
    if inline:
        for image in images:
            data = base64.b64encode(IMAGES[image["component"]]).decode()
            image["data_url"] = f"data:image/png;base64,{data}"
    return {
        "id": JOB_ID,
        "status": "done",
        "version": 1,
        "links": {"self": f"/v1/case-studies/{JOB_ID}"},
        "case_study": STUDY,
        "images": images,
        "warnings": [],
        "usage": {},
        "timings": {
            "total_ms": 120.0,
            "trace_id": "0" * 32,
            "steps": [
                {
                    "name": "POST /v1/case-studies",
                    "service": "gateway",
                    "start_ms": 0.0,
                    "duration_ms": 120.0,
                    "depth": 0,
                    "span_id": "a",
                },
                {
                    "name": "structure",
                    "service": "structurer_service",
                    "start_ms": 5.0,
                    "duration_ms": 80.0,
                    "depth": 1,
                    "span_id": "b",
                },
            ],
            "critical_path": [{"span_id": "b", "start_ms": 5.0, "duration_ms": 80.0}],
        },
    }


def image_event(component: str) -> Event:
    result = image_result(component)
    return ("image", {**result, "status": "done", "version": 1})


def done_script() -> list[Event]:
    """A job as the early mode runs it: each image starts when its field group is complete."""
    return [
        ("status", {"status": "queued"}),
        ("status", {"status": "structuring"}),
        ("field_group", {"group": "headline", "fields": HEADLINE}),
        image_event("hero"),
        ("field_group", {"group": "metrics", "fields": {"metrics": STUDY["metrics"]}}),
        ("field_group", {"group": "phases", "fields": {"phases": STUDY["phases"]}}),
        ("status", {"status": "rendering"}),
        image_event("metrics"),
        image_event("timeline"),
        ("field_group", {"group": "narrative", "fields": {"challenge": STUDY["challenge"]}}),
        ("warning", {"message": "the quote's role was guessed"}),
        ("done", answer()),
    ]


def failed_script(detail: str) -> list[Event]:
    problem = {"type": "about:blank", "title": "Provider unavailable", "status": 503}
    return [
        ("status", {"status": "structuring"}),
        ("failed", {"problem": {**problem, "detail": detail}}),
    ]


@dataclass
class JobsGateway:
    """The fake; ``posts`` and ``event_requests`` record what the client sent."""

    script: list[Event] = field(default_factory=done_script)
    mode: str = "jobs"
    # Cut the first event stream after this many events (the client should resume).
    drop_after: int | None = None
    # Keep the stream open after the script, as a job still running does.
    hold_open: bool = False
    posts: list[tuple[dict[str, str], dict[str, Any]]] = field(default_factory=list)
    event_requests: list[dict[str, str]] = field(default_factory=list)
    image_requests: list[str] = field(default_factory=list)

    @property
    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/v1/case-studies", self.post, methods=["POST"]),
                Route("/v1/case-studies/{id}/events", self.events, methods=["GET"]),
                Route("/v1/images/{sha}", self.image, methods=["GET"]),
            ]
        )

    async def _hang(self) -> None:
        # Never answers; the server's shutdown ends the wait with the request.
        await asyncio.Event().wait()

    async def post(self, request: Request) -> Response:
        body = await request.json()
        self.posts.append((dict(request.headers), body))
        if self.mode == "hangs":
            await self._hang()
        wants_job = "respond-async" in request.headers.get("prefer", "")
        if wants_job and self.mode == "refuses_async":
            return JSONResponse(
                {"title": "Unsupported", "status": 415, "detail": "no jobs here"},
                status_code=415,
                media_type="application/problem+json",
            )
        if not wants_job or self.mode in ("sync", "refuses_async"):
            return JSONResponse(answer(inline=True))
        location = f"/v1/case-studies/{JOB_ID}"
        links = {"self": location, "events": f"{location}/events"}
        return JSONResponse(
            {"id": JOB_ID, "status": "queued", "links": links},
            status_code=202,
            headers={"Location": location},
        )

    async def events(self, request: Request) -> Response:
        if request.path_params["id"] != JOB_ID:
            return JSONResponse({"title": "Not found", "status": 404}, status_code=404)
        self.event_requests.append(dict(request.headers))
        if self.mode == "hangs":
            await self._hang()
        last = request.headers.get("last-event-id", "")
        start = int(last) if last.isdigit() else 0
        cut = self.drop_after if len(self.event_requests) == 1 else None

        async def stream() -> AsyncIterator[bytes]:
            yield b": keep-alive\n\n"
            for number, (kind, data) in enumerate(self.script, start=1):
                if number <= start:
                    continue
                if cut is not None and number > cut:
                    raise DropConnection
                payload = json.dumps({"job_id": JOB_ID, "trace_id": "0" * 32, **data})
                yield f"id: {number}\nevent: {kind}\ndata: {payload}\n\n".encode()
            if self.hold_open:
                await self._hang()

        return StreamingResponse(stream(), media_type="text/event-stream")

    async def image(self, request: Request) -> Response:
        sha = request.path_params["sha"]
        self.image_requests.append(sha)
        if sha not in BY_SHA:
            return JSONResponse({"title": "Not found", "status": 404}, status_code=404)
        return Response(BY_SHA[sha], media_type="image/png")
