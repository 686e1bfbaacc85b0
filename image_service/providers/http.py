"""What the HTTP image providers share: one TLS context, bounded answers, errors classified once."""

from __future__ import annotations

import functools
import json
import ssl
from typing import Any

import httpx

from casecraft.errors import ProviderError
from casecraft.http_errors import error_from_http

# Room for the JSON around one base64 image.
ENVELOPE_BYTES = 256 * 1024


@functools.cache
def _tls() -> ssl.SSLContext:
    return httpx.create_ssl_context()


def new_client(timeout_s: float) -> httpx.AsyncClient:
    """A client for one call; the TLS context (the costly part) is built once per process.

    One client per call means nothing outlives the call: a cancelled attempt closes its connection.
    Our retry loop decides about retries, so the transport makes none.
    """
    return httpx.AsyncClient(
        timeout=httpx.Timeout(timeout_s, connect=min(timeout_s, 10.0)),
        follow_redirects=False,
        transport=httpx.AsyncHTTPTransport(verify=_tls(), retries=0),
    )


def max_answer_bytes(max_image_bytes: int) -> int:
    """The largest answer worth reading: one image at the limit, base64-encoded, plus JSON."""
    return (max_image_bytes + 2) // 3 * 4 + ENVELOPE_BYTES


async def send_json(
    client: httpx.AsyncClient, request: httpx.Request, *, provider: str, max_bytes: int
) -> dict[str, Any]:
    """Send ``request`` and return its JSON object; a failure status becomes a ProviderError."""
    response = await client.send(request, stream=True)
    try:
        body = await _read_bounded(response, max_bytes, provider)
    finally:
        await response.aclose()
    if response.status_code >= 400:
        raise error_from_http(provider, response.status_code, response.headers, body)
    try:
        answer = json.loads(body)
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        raise ProviderError(
            provider, f"HTTP {response.status_code}: the answer is not a JSON object"
        )
    return answer


async def _read_bounded(response: httpx.Response, max_bytes: int, provider: str) -> bytes:
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise _too_large(provider, max_bytes)
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > max_bytes:
            raise _too_large(provider, max_bytes)
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(provider: str, max_bytes: int) -> ProviderError:
    return ProviderError(provider, f"the answer is over {max_bytes:,} bytes; refused unread")
