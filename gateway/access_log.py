"""One JSON access-log line per request: method, path, status, duration, the API key's name
when there is one, and (from the log formatter and filter) the request's trace id and request id. It replaces uvicorn's access log, which is off."""

from __future__ import annotations

import logging
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.auth import caller

log = logging.getLogger("gateway.access")


class AccessLog:
    """ASGI middleware inside the OpenTelemetry one, so each line carries its request's trace."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        # What the client was told; 500 if the app failed before answering.
        status = 500

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            line = {
                "method": scope["method"],
                "path": scope["path"],
                "status": status,
                "duration_ms": round((time.perf_counter() - started) * 1000, 3),
            }
            key = caller(scope)  # the key's name, never the key
            if key is not None:
                line["api_key"] = key.name
            log.info("request", extra=line)
