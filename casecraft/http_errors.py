"""Failed provider calls as ``ProviderError``: HTTP answers and httpx transport failures.

Nothing here imports a provider SDK. A service whose SDK raises its own exceptions (the
structurer's anthropic SDK) turns them into ``ProviderError`` in its own package, with
``error_from_http`` for the answer and ``transport_error`` for its HTTP client's failures.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from casecraft.errors import ProviderError
from casecraft.keys import redact
from casecraft.retry_after import retry_after_s

RETRYABLE_STATUSES = frozenset({408, 409, 429, 529})
# Error types that providers send in a body or a mid-stream `error` event and that may pass.
RETRYABLE_ERROR_TYPES = frozenset(
    {"overloaded_error", "api_error", "rate_limit_error", "timeout_error", "server_error"}
)


@dataclass(frozen=True)
class TransportErrors:
    """The exception types of one HTTP client, by what trying again can do about them."""

    # No answer in time: retryable.
    timeouts: tuple[type[BaseException], ...]
    # The connection failed or broke: retryable.
    broken: tuple[type[BaseException], ...]
    # The request cannot be sent as configured (a bad URL, a key no header can carry): not.
    unsendable: tuple[type[BaseException], ...]


HTTPX = TransportErrors(
    timeouts=(httpx.TimeoutException, TimeoutError),
    broken=(httpx.NetworkError, httpx.RemoteProtocolError, ConnectionError),
    unsendable=(httpx.LocalProtocolError, httpx.UnsupportedProtocol, httpx.InvalidURL),
)


def retryable_status(status: int) -> bool:
    """408, 409, 429, 529 and every 5xx: worth another try."""
    return status in RETRYABLE_STATUSES or status >= 500


def error_from_http(
    provider: str, status: int, headers: Mapping[str, str] | httpx.Headers, body: Any
) -> ProviderError:
    """A failed answer as a ProviderError: status and the provider's message, nothing else.

    ``status`` below 400 means an error reported inside a 200 stream (an SSE ``error`` event):
    it is retryable when its type is (overloaded, api_error, rate limit). Messages say what to
    fix where we know it (a refused key); keys, and things that look like keys, are masked.
    """
    kind, message = _body_error(body)
    if kind == str(status):
        kind = None  # OpenAI-style bodies repeat the status as their code
    detail = " ".join(part for part in (kind, message) if part) or "no error message"
    if status >= 400:
        retryable = retryable_status(status)
        text = f"HTTP {status}: {detail}"
    else:
        retryable = kind in RETRYABLE_ERROR_TYPES or (
            kind is not None and kind.isdigit() and retryable_status(int(kind))
        )
        text = f"stream error: {detail}"
    wait_s = retry_after_s(headers) if retryable else None
    text = redact(text)
    if status == 401:
        text += f"; check the API key for {provider}"
    elif status == 403:
        text += f"; check the API key for {provider} and what it is allowed to do"
    elif wait_s is not None:
        text += f"; retry after {round(wait_s, 1):g}s"
    return ProviderError(
        provider,
        text,
        retryable=retryable,
        status=status if status >= 400 else None,
        retry_after_s=wait_s,
    )


def error_from_exception(provider: str, exc: BaseException) -> ProviderError:
    """Classify an exception raised by a provider call made with httpx: an error status, a
    timeout or a broken connection (retryable), a request that cannot be sent, or anything else
    (not retryable, named by its type only)."""
    if isinstance(exc, ProviderError):
        return exc
    if isinstance(exc, httpx.HTTPStatusError):
        response = exc.response
        body = response.content if response.is_stream_consumed or response.is_closed else b""
        return error_from_http(provider, response.status_code, response.headers, body)
    error = transport_error(provider, exc, HTTPX)
    if error is not None:
        return error
    # Only the type: an arbitrary message may quote the request (the notes) or the answer.
    return ProviderError(provider, f"failed: {type(exc).__name__}")


def transport_error(
    provider: str, exc: BaseException, errors: TransportErrors
) -> ProviderError | None:
    """``exc`` as a ProviderError when it is one of ``errors``; ``None`` otherwise."""
    if isinstance(exc, errors.timeouts):
        return ProviderError(
            provider, f"timed out{where(exc)} ({type(exc).__name__})", retryable=True
        )
    if isinstance(exc, errors.broken):
        return ProviderError(
            provider, f"connection{where(exc)} failed ({type(exc).__name__})", retryable=True
        )
    if isinstance(exc, errors.unsendable):
        return unsendable(provider, exc)
    return None


def unsendable(provider: str, exc: BaseException) -> ProviderError:
    """A request that could not be sent as configured: trying again cannot help. Only the type:
    the message of a LocalProtocolError quotes the header it refused, the key included."""
    return ProviderError(
        provider,
        f"the request could not be sent ({type(exc).__name__}): check the base URL and the API key",
    )


def where(exc: BaseException) -> str:
    """Where the failed request went (" to host:port"), when the exception knows it."""
    try:
        url = exc.request.url  # type: ignore[attr-defined]
    except (AttributeError, RuntimeError):  # httpx raises RuntimeError when no request is set
        return ""
    return f" to {url.host}:{url.port}" if url.port else f" to {url.host}"


def _body_error(body: Any) -> tuple[str | None, str | None]:
    """(error type, message) from Anthropic- or OpenAI-style error bodies."""
    if isinstance(body, bytes | str):
        try:
            body = json.loads(body)
        except ValueError:
            text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
            return None, text.strip() or None
    if not isinstance(body, dict):
        return None, None
    error = body.get("error", body)
    if isinstance(error, str):
        return None, error
    if not isinstance(error, dict):
        return None, None
    kind = error.get("type") or error.get("code")
    message = error.get("message")
    return (str(kind) if kind is not None else None), (str(message) if message else None)
