"""Tells the caller which trace their request made: an ``X-Trace-Id`` header on every answer."""

from __future__ import annotations

from opentelemetry import trace
from starlette.types import ASGIApp, Message, Receive, Scope, Send

TRACE_ID_HEADER = "x-trace-id"


class TraceIdHeader:
    """ASGI middleware inside the OpenTelemetry one: adds the request span's trace id."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        context = trace.get_current_span().get_span_context()
        if scope["type"] != "http" or not context.is_valid:
            await self.app(scope, receive, send)
            return
        value = format(context.trace_id, "032x").encode()

        async def send_with_trace_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [
                    *message.get("headers", []),
                    (TRACE_ID_HEADER.encode(), value),
                ]
            await send(message)

        await self.app(scope, receive, send_with_trace_id)
