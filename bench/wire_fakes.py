"""Remote providers for the load bench: Anthropic and OpenAI Images answers replayed on loopback.

A load bench that runs the real providers (the official SDKs, our streaming and image checks) needs
servers that answer in the providers' wire formats, without costing the machine what a remote
provider costs its own: this process shares the two cores with the services it feeds.

So each answer is produced once by the test fakes (tests/fakes: FakeAnthropic's SSE stream of the
bench case study, FakeOpenAIImages' JSON with a real base64 image of the asked size) and then
replayed byte for byte to every request that asks the same thing (model and tool; size and format).
The services do all their per-event and per-image work; this process sends prepared bytes.

    python -m bench.wire_fakes    # prints {"event": "serving", "port": N}

Point the services at it with ANTHROPIC_BASE_URL=http://127.0.0.1:N and
OPENAI_BASE_URL=http://127.0.0.1:N/v1 (keys: ``ANTHROPIC_KEY`` and ``OPENAI_KEY`` in bench/serve.py).
"""

from __future__ import annotations

import asyncio
import json
import signal

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bench.serve import OPENAI_KEY, case_study_answer
from casecraft import eventloop
from tests.fakes.anthropic import FakeAnthropic
from tests.fakes.openai_images import FakeOpenAIImages
from tests.fakes.server import serve

_FORWARDED = ("content-type", "authorization", "x-api-key", "anthropic-version")


class Replayer:
    """Answers each request with the bytes the fake gave the first request of its kind."""

    def __init__(self) -> None:
        anthropic = FakeAnthropic(answer=case_study_answer)
        openai = FakeOpenAIImages(api_key=OPENAI_KEY)
        self._origin = {
            "/v1/messages": httpx.AsyncClient(
                transport=httpx.ASGITransport(anthropic.app), base_url="http://anthropic"
            ),
            "/v1/images/generations": httpx.AsyncClient(
                transport=httpx.ASGITransport(openai.app), base_url="http://openai"
            ),
        }
        self._answers: dict[tuple[str, ...], Response] = {}
        self._lock = asyncio.Lock()
        self.app = Starlette(
            routes=[Route(path, self._replay, methods=["POST"]) for path in self._origin]
        )

    async def _replay(self, request: Request) -> Response:
        raw = await request.body()
        body = json.loads(raw)
        path = request.url.path
        if path == "/v1/messages":
            kind = (path, body.get("model", ""), str(body.get("stream")), json.dumps(body["tools"]))
        else:
            kind = (
                path,
                body.get("model", ""),
                body.get("size", ""),
                body.get("output_format", ""),
            )
        answer = self._answers.get(kind)
        if answer is None:
            async with self._lock:
                answer = self._answers.get(kind) or await self._first(request, path, raw, kind)
        return answer

    async def _first(
        self, request: Request, path: str, raw: bytes, kind: tuple[str, ...]
    ) -> Response:
        headers = {k: v for k, v in request.headers.items() if k in _FORWARDED}
        origin = await self._origin[path].post(path, content=raw, headers=headers)
        answer = Response(
            origin.content,
            status_code=origin.status_code,
            media_type=origin.headers.get("content-type"),
        )
        if origin.status_code == 200:
            self._answers[kind] = answer  # errors are never replayed: each is answered afresh
        return answer


async def main() -> None:
    async with serve(Replayer().app) as url:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        print(json.dumps({"event": "serving", "port": int(url.rsplit(":", 1)[1])}), flush=True)
        await stop.wait()


if __name__ == "__main__":
    eventloop.run(main())
