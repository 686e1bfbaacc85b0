"""What every HTTP answer carries whatever route made it: security headers and a request id.

``X-Request-Id`` is echoed when the caller sent a usable one (so a request can be followed across
a proxy's logs and ours) and made up otherwise; every log record written while the request runs
carries it as ``request_id``.
"""

from __future__ import annotations

import contextvars
import logging
import re
import uuid

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUEST_ID_HEADER = "x-request-id"
# Printable, no spaces, short: anything else is replaced, never logged as sent.
_USABLE_ID = re.compile(r"[A-Za-z0-9._:@/+=-]{1,128}")
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Resource-Policy": "same-origin",
}

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("casecraft_request_id", default="")


class RequestIdFilter(logging.Filter):
    """Adds the current request's id to each record (as ``request_id``) when there is one."""

    def filter(self, record: logging.LogRecord) -> bool:
        current = request_id.get()
        if current and not hasattr(record, "request_id"):
            record.request_id = current
        return True


class HttpHygiene:
    """ASGI middleware: the request id (in, out and in the logs) and the security headers."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        sent = Headers(scope=scope).get(REQUEST_ID_HEADER, "")
        current = sent if _USABLE_ID.fullmatch(sent) else uuid.uuid4().hex
        token = request_id.set(current)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers[REQUEST_ID_HEADER] = current
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            request_id.reset(token)
