"""Reading and checking a POST /v1/case-studies body; every problem names the field and the fix."""

from __future__ import annotations

import base64
import binascii
import io
import json
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError
from pydantic import ValidationError

from casecraft.components import ALL, BY_NAME, ComponentSpec
from casecraft.limits import LOGO_MEDIA_TYPES, MAX_LOGO_BYTES, MAX_NOTES_BYTES, notes_problem
from gateway.problems import Problem
from gateway.schemas import CaseStudyRequest

MAX_BODY_BYTES = MAX_NOTES_BYTES * 2 + MAX_LOGO_BYTES * 2
MAX_LOGO_PIXELS = 16_000_000
_PIL_FORMATS = {"image/png": "PNG", "image/jpeg": "JPEG"}


@dataclass(frozen=True)
class CheckedRequest:
    notes: str
    components: tuple[ComponentSpec, ...]
    logo: bytes
    logo_media_type: str
    fast: bool


def parse(body: bytes) -> CheckedRequest:
    if len(body) > MAX_BODY_BYTES:
        raise Problem(
            413,
            "Request too large",
            f"the body is {len(body):,} bytes; at most {MAX_BODY_BYTES:,} are accepted "
            f"(notes up to {MAX_NOTES_BYTES:,} bytes, a logo up to {MAX_LOGO_BYTES:,} bytes)",
        )
    try:
        raw = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise Problem(
            400,
            "Malformed JSON",
            f'the body is not valid JSON ({exc}); send {{"notes": "..."}} '
            "with Content-Type: application/json",
        ) from exc
    if not isinstance(raw, dict):
        raise Problem(
            422, "Invalid request", 'the body must be a JSON object like {"notes": "..."}'
        )
    try:
        request = CaseStudyRequest.model_validate(raw)
    except ValidationError as exc:
        errors = [
            {"field": _field(error["loc"]), "message": error["msg"]} for error in exc.errors()
        ]
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        raise Problem(422, "Invalid request", detail, errors=errors) from exc
    problem = notes_problem(request.notes)
    if problem is not None:
        status = 413 if problem.startswith("notes: ") and "over the limit" in problem else 422
        raise Problem(
            status, "Invalid request", problem, errors=[{"field": "notes", "message": problem}]
        )
    logo, media_type = _logo(request.logo) if request.logo is not None else (b"", "")
    return CheckedRequest(
        notes=request.notes,
        components=_components(request.components),
        logo=logo,
        logo_media_type=media_type,
        fast=request.options.fast,
    )


def _field(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "body"


def _components(names: Sequence[str] | None) -> tuple[ComponentSpec, ...]:
    if names is None:
        return ALL
    if not names:
        raise _invalid("components", "empty; leave it out for all three, or name at least one")
    if len(set(names)) != len(names):
        raise _invalid("components", f"{names} names a component twice; name each at most once")
    return tuple(BY_NAME[name] for name in names)


def _logo(data_url: str) -> tuple[bytes, str]:
    header, comma, payload = data_url.partition(",")
    media_type = header.removeprefix("data:").removesuffix(";base64")
    if not comma or not header.startswith("data:") or not header.endswith(";base64"):
        raise _invalid(
            "logo", "not a data URL; send data:image/png;base64,... or data:image/jpeg;base64,..."
        )
    if media_type not in LOGO_MEDIA_TYPES:
        raise _invalid("logo", f"{media_type!r} is not accepted; send a PNG or JPEG")
    if len(payload) > MAX_LOGO_BYTES * 4 // 3 + 4:
        raise _invalid("logo", f"over {MAX_LOGO_BYTES:,} bytes; send a smaller logo")
    try:
        data = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise _invalid("logo", "the base64 payload does not decode; check the encoding") from exc
    if len(data) > MAX_LOGO_BYTES:
        raise _invalid(
            "logo", f"{len(data):,} bytes is over {MAX_LOGO_BYTES:,}; send a smaller logo"
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # checked just below
            image = Image.open(io.BytesIO(data))
        with image:
            found = image.format
            pixels = image.width * image.height
            if pixels > MAX_LOGO_PIXELS:
                raise _invalid(
                    "logo",
                    f"{image.width}x{image.height} is over {MAX_LOGO_PIXELS:,} pixels; send a smaller logo",
                )
            image.verify()
    except (
        UnidentifiedImageError,
        OSError,
        SyntaxError,
        ValueError,
        Image.DecompressionBombError,
    ) as exc:
        raise _invalid("logo", f"not a decodable image ({exc}); send a valid PNG or JPEG") from exc
    if found != _PIL_FORMATS[media_type]:
        raise _invalid(
            "logo", f"declared {media_type} but the bytes are {found}; fix the data URL's type"
        )
    return data, media_type


def _invalid(field: str, message: str) -> Problem:
    return Problem(
        422, "Invalid request", f"{field}: {message}", errors=[{"field": field, "message": message}]
    )
