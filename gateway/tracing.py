"""Each HTTP request's server span, and the ``X-Trace-Id`` header that tells the caller its trace.

The span continues the caller's trace (``traceparent``, or whatever ``OTEL_PROPAGATORS`` names),
is named ``{method} {route}`` once the route is known ("GET /v1/case-studies/{id}", one name
however many jobs there are; the method alone for a path no route takes), and carries OpenTelemetry's HTTP server attributes: ``http.request.method``,
``url.scheme``, ``url.path``, ``http.route``, ``http.response.status_code``, ``client.address``
and ``user_agent.original``. A 5xx answer, or an exception out of the app, makes it an error.
Probes and static files stay untraced. Its duration is casecraft.request.duration
(casecraft/prometheus.py).

This is what opentelemetry-instrumentation-asgi's middleware does for a request, at about half its
cost (docs/performance.md): that middleware also wraps every message sent and received, and
collects attributes this gateway never reads.
"""

from __future__ import annotations

import re
from typing import Any

from opentelemetry import propagate, trace
from opentelemetry.propagators.textmap import Getter
from opentelemetry.trace import SpanKind, Status, StatusCode
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from casecraft.prometheus import HTTP_SCOPE

TRACE_ID_HEADER = "x-trace-id"


class _HeaderGetter(Getter[Scope]):
    """Reads a propagation header from an ASGI scope's raw headers."""

    def get(self, carrier: Scope, key: str) -> list[str] | None:
        name = key.lower().encode("latin-1")
        values = [value.decode("latin-1") for k, value in carrier["headers"] if k == name]
        return values or None

    def keys(self, carrier: Scope) -> list[str]:
        return [key.decode("latin-1") for key, _ in carrier["headers"]]


_headers = _HeaderGetter()
_tracer = trace.get_tracer(HTTP_SCOPE)


class RequestSpan:
    """ASGI middleware: the request's server span, current while the app answers, and its trace
    id in an ``X-Trace-Id`` header on the answer."""

    def __init__(self, app: ASGIApp, untraced: str) -> None:
        self.app = app
        self._untraced = re.compile(untraced)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self._untraced.fullmatch(scope["path"]):
            await self.app(scope, receive, send)
            return
        method = scope["method"]
        span = _tracer.start_span(
            f"{method} {scope['path']}",
            propagate.extract(scope, getter=_headers),
            kind=SpanKind.SERVER,
            attributes=_request_attributes(scope),
        )
        trace_id = format(span.get_span_context().trace_id, "032x").encode()
        status = 0

        async def send_with_trace_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), (b"x-trace-id", trace_id)]
            await send(message)

        try:
            with trace.use_span(span, record_exception=False, set_status_on_exception=False):
                await self.app(scope, receive, send_with_trace_id)
        except Exception as exc:
            span.record_exception(exc)
            span.set_status(Status(StatusCode.ERROR, f"{type(exc).__name__}: {exc}"))
            raise
        finally:
            route = getattr(scope.get("route"), "path", None)
            if route is None:
                span.update_name(method)  # no route: scanned paths do not make a name each
            else:
                span.update_name(f"{method} {route}")
                span.set_attribute("http.route", route)
            if status:
                span.set_attribute("http.response.status_code", status)
                if status >= 500:
                    span.set_status(Status(StatusCode.ERROR))
            span.end()


def _request_attributes(scope: Scope) -> dict[str, Any]:
    attributes: dict[str, Any] = {
        "http.request.method": scope["method"],
        "url.scheme": scope.get("scheme", "http"),
        "url.path": scope["path"],
    }
    client = scope.get("client")
    if client:
        attributes["client.address"] = client[0]
    for name, value in scope["headers"]:
        if name == b"user-agent":
            attributes["user_agent.original"] = value.decode("latin-1")
            break
    return attributes
