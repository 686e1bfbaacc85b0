"""The CLI's gateway client: following a job's event stream."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx

from casecraft.gateway_client import GatewayClient

JOB = "http://gateway.test/v1/case-studies/job-1"


class BreaksWhenCancelled(httpx.AsyncByteStream):
    """An event stream that sends one event, then waits; cancelled, it fails as a broken read
    (what a transport closing under a cancellation can raise in its place)."""

    def __init__(self, opened: asyncio.Event) -> None:
        self._opened = opened

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield b"id: 1\nevent: status\ndata: {}\n\n"
        self._opened.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            raise httpx.ReadError("connection closed") from None


async def test_a_cancelled_follow_ends_even_when_the_stream_breaks_as_it_is_cancelled() -> None:
    opened, requests = asyncio.Event(), []

    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        if len(requests) == 1:
            stream: httpx.AsyncByteStream = BreaksWhenCancelled(opened)
        else:  # a reconnect: end the job, so a follow that carried on returns instead of hanging
            stream = httpx.ByteStream(b'event: done\ndata: {"id": "job-1"}\n\n')
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, stream=stream)

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        follow = asyncio.create_task(
            GatewayClient("http://gateway.test", client).follow(JOB, lambda event, data: None)
        )
        await opened.wait()
        follow.cancel()
        outcome = (await asyncio.gather(follow, return_exceptions=True))[0]

    assert isinstance(outcome, asyncio.CancelledError), outcome
    assert len(requests) == 1
