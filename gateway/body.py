"""Reading a request's body: uncompressed, and refused as soon as it is known to be too large."""

from __future__ import annotations

from starlette.requests import Request

from casecraft.limits import MAX_LOGO_BYTES, MAX_NOTES_BYTES
from gateway.problems import Problem

MAX_BODY_BYTES = MAX_NOTES_BYTES * 2 + MAX_LOGO_BYTES * 2


async def read_body(request: Request, limit: int = MAX_BODY_BYTES) -> bytes:
    """The whole body; a 413 before reading past ``limit`` (before reading at all when the
    declared length is over it), a 415 for a compressed body. A client that leaves mid-upload
    raises starlette's ``ClientDisconnect``."""
    _refuse_content_coding(request.headers.get("content-encoding", ""))
    declared = request.headers.get("content-length", "")
    if declared.isdecimal() and int(declared) > limit:
        raise _too_large(f"{int(declared):,} bytes", limit)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise _too_large(f"over {limit:,} bytes", limit)
    return bytes(body)


def _refuse_content_coding(header: str) -> None:
    codings = [c.strip().lower() for c in header.split(",") if c.strip()]
    if any(coding != "identity" for coding in codings):
        raise Problem(
            415,
            "Unsupported content encoding",
            f"the body is sent with Content-Encoding: {header}, which is not accepted; "
            "send it uncompressed, without a Content-Encoding header",
            headers={"Accept-Encoding": "identity"},
        )


def _too_large(size: str, limit: int) -> Problem:
    return Problem(
        413,
        "Request too large",
        f"the body is {size}; at most {limit:,} are accepted "
        f"(notes up to {MAX_NOTES_BYTES:,} bytes, a logo up to {MAX_LOGO_BYTES:,} bytes)",
    )
