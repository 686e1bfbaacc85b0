"""The anthropic SDK's exceptions as ``ProviderError``: the structurer classifies its own SDK.

The SDK sends through httpx2 (its own fork of httpx), whose transport errors can also reach us
mid-stream, unwrapped.
"""

from __future__ import annotations

import anthropic
import httpx2

from casecraft.errors import ProviderError
from casecraft.http_errors import (
    TransportErrors,
    error_from_http,
    transport_error,
    unsendable,
    where,
)

HTTPX2 = TransportErrors(
    timeouts=(httpx2.TimeoutException,),
    broken=(httpx2.NetworkError, httpx2.RemoteProtocolError),
    unsendable=(httpx2.LocalProtocolError, httpx2.UnsupportedProtocol, httpx2.InvalidURL),
)
# What ``error_from_sdk`` classifies; anything else is left to the chain.
SDK_ERRORS: tuple[type[BaseException], ...] = (
    anthropic.APIError,
    *HTTPX2.timeouts,
    *HTTPX2.broken,
    *HTTPX2.unsendable,
)


def error_from_sdk(provider: str, exc: BaseException) -> ProviderError:
    """An error status, a timeout, a failed connection or an unsendable request, as the shared
    HTTP classification words them."""
    if isinstance(exc, anthropic.APIStatusError):
        return error_from_http(provider, exc.status_code, exc.response.headers, exc.body)
    if isinstance(exc, anthropic.APITimeoutError):
        return ProviderError(provider, f"timed out{where(exc)}", retryable=True)
    if isinstance(exc, anthropic.APIConnectionError):
        cause = exc.__cause__
        if isinstance(cause, HTTPX2.unsendable):
            return unsendable(provider, cause)
        kind = type(cause).__name__ if cause is not None else "connection error"
        return ProviderError(provider, f"connection{where(exc)} failed ({kind})", retryable=True)
    error = transport_error(provider, exc, HTTPX2)
    if error is not None:
        return error
    # Only the type: an arbitrary message may quote the request (the notes) or the answer.
    return ProviderError(provider, f"failed: {type(exc).__name__}")
