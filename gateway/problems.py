"""Errors as application/problem+json (RFC 9457), and the one place gRPC statuses become HTTP."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import grpc
from starlette.responses import Response

PROBLEM_TYPE_BASE = "https://casecraft.dev/problems/"

_GRPC_TO_HTTP: dict[grpc.StatusCode, int] = {
    grpc.StatusCode.INVALID_ARGUMENT: 400,
    grpc.StatusCode.FAILED_PRECONDITION: 400,
    grpc.StatusCode.OUT_OF_RANGE: 400,
    grpc.StatusCode.UNAUTHENTICATED: 401,
    grpc.StatusCode.PERMISSION_DENIED: 403,
    grpc.StatusCode.NOT_FOUND: 404,
    grpc.StatusCode.ALREADY_EXISTS: 409,
    grpc.StatusCode.ABORTED: 409,
    grpc.StatusCode.RESOURCE_EXHAUSTED: 429,
    grpc.StatusCode.CANCELLED: 499,
    grpc.StatusCode.UNIMPLEMENTED: 501,
    grpc.StatusCode.UNAVAILABLE: 503,
    grpc.StatusCode.DEADLINE_EXCEEDED: 504,
}


class Problem(Exception):
    """An error answer: status, a short title, and a detail that says what to do about it;
    ``headers`` go on the response (``Allow``, ``Accept-Encoding``), ``extra`` into its body."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str,
        *,
        headers: Mapping[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.title = title
        self.detail = detail
        self.headers = dict(headers or {})
        self.extra = extra

    def body(self) -> dict[str, Any]:
        """The problem+json object (without ``instance``)."""
        return {
            "type": PROBLEM_TYPE_BASE + self.title.lower().replace(" ", "-"),
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            **self.extra,
        }

    def response(self, instance: str = "") -> Response:
        body = self.body()
        if instance:
            body["instance"] = instance
        return Response(
            json.dumps(body),
            status_code=self.status,
            headers=self.headers,
            media_type="application/problem+json",
        )


def from_rpc_error(error: grpc.aio.AioRpcError, backend: str) -> Problem:
    """Map a failed call to ``backend`` onto the HTTP status a client expects."""
    code = error.code()
    status = _GRPC_TO_HTTP.get(code, 502)
    details = error.details() or code.name.lower()
    provider = _failed_provider(error)
    if code is grpc.StatusCode.UNAVAILABLE and provider is not None:
        return Problem(
            503,
            "Provider unavailable",
            f"{backend} is running, but its provider {provider} failed ({details}); check the "
            "provider's key and status, retry shortly, or configure another provider in the chain",
            backend=backend,
            provider=provider,
        )
    if code is grpc.StatusCode.UNAVAILABLE:
        busy = _trailer(error, RETRY_AFTER)
        return Problem(
            503,
            "Backend busy" if busy else "Backend unavailable",
            f"{backend} is busy ({details})"
            if busy
            else f"{backend} is unavailable ({details}); retry shortly or check that it is running",
            headers={"Retry-After": busy or "2"},
            backend=backend,
        )
    if code is grpc.StatusCode.DEADLINE_EXCEEDED:
        return Problem(
            504,
            "Backend timed out",
            f"{backend} did not answer in time ({details})",
            backend=backend,
        )
    if status < 500:
        return Problem(status, "Invalid request", details, backend=backend)
    return Problem(status, "Backend error", f"{backend} failed: {details}", backend=backend)


# Set by a backend on UNAVAILABLE when it ran but its providers failed; the value names them.
PROVIDER_FAILED = "casecraft-provider-failed"


# Set by a backend on UNAVAILABLE when it refused the call for load: seconds to wait.
RETRY_AFTER = "retry-after"


def _failed_provider(error: grpc.aio.AioRpcError) -> str | None:
    found = _trailer(error, PROVIDER_FAILED)
    return None if found is None else found or "chain"


def _trailer(error: grpc.aio.AioRpcError, name: str) -> str | None:
    for key, value in error.trailing_metadata() or ():
        if key == name:
            return str(value)
    return None
