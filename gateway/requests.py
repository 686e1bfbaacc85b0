"""Reading and checking a POST /v1/case-studies body; every problem names the field and the fix."""

from __future__ import annotations

import base64
import binascii
import io
import json
import warnings
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from casecraft.brand import resolve_accent, to_hex
from casecraft.components import ALL, BY_NAME, ComponentSpec
from casecraft.limits import LOGO_MEDIA_TYPES, MAX_LOGO_BYTES, notes_problem
from gateway.problems import Problem
from gateway.schemas import CaseStudyRequest, Options

MAX_LOGO_PIXELS = 16_000_000
_MAX_LISTED_ERRORS = 10
_MAX_INTEGER_DIGITS = 100
_PIL_FORMATS = {"image/png": "PNG", "image/jpeg": "JPEG"}


@dataclass(frozen=True)
class CheckedRequest:
    notes: str
    components: tuple[ComponentSpec, ...]
    logo: bytes
    logo_media_type: str
    fast: bool
    anonymize: bool = False
    # A logo was sent, and not used because the case study is anonymized.
    logo_withheld: bool = False
    # "#RRGGBB": the one asked for, else the logo's dominant colour; "" for the default palette.
    accent_color: str = ""
    fresh: bool = False


def parse(body: bytes) -> CheckedRequest:
    """The checked request in ``body``; a Problem naming the field and the fix when it is not one."""
    return parse_object(_json(body))


def parse_object(raw: object) -> CheckedRequest:
    """The checked request in a JSON-shaped value (the body's, or one built from a form)."""
    if not isinstance(raw, dict):
        raise Problem(
            422, "Invalid request", 'the body must be a JSON object like {"notes": "..."}'
        )
    try:
        request = CaseStudyRequest.model_validate(raw)
    except ValidationError as exc:
        raise _validation_problem(exc) from exc
    problem = notes_problem(request.notes)
    if problem is not None:
        status = 413 if problem.startswith("notes: ") and "over the limit" in problem else 422
        raise Problem(
            status,
            "Invalid request",
            problem,
            errors=[{"field": "notes", "message": problem.removeprefix("notes: ")}],
        )
    logo, media_type = _logo(request.logo) if request.logo is not None else (b"", "")
    # A logo names the client: an anonymized case study does not use it anywhere (images,
    # exports, the accent taken from it). Checked above all the same, so a bad one is refused.
    withheld = bool(logo) and request.options.anonymize
    if withheld:
        logo, media_type = b"", ""
    return CheckedRequest(
        notes=request.notes,
        components=_components(request.components),
        logo=logo,
        logo_media_type=media_type,
        fast=request.options.fast,
        anonymize=request.options.anonymize,
        logo_withheld=withheld,
        accent_color=_accent(request.options.accent_color, logo),
        fresh=request.options.fresh,
    )


def json_value(body: bytes) -> object:
    """The body's JSON value, read as strictly as a case-study request's (a 400 otherwise)."""
    return _json(body)


def _accent(asked: str | None, logo: bytes) -> str:
    accent = resolve_accent(asked, logo or None)
    return to_hex(accent) if accent else ""


def _json(body: bytes) -> object:
    """The body's JSON value. Refused: text that is not JSON or not UTF-8, nesting deeper than
    the parser's stack, integers too long to convert, repeated names and lone surrogates."""
    try:
        return json.loads(body, object_pairs_hook=_object, parse_int=_integer)
    except UnicodeDecodeError as exc:
        raise _malformed(
            f"the body is not UTF-8 (byte {exc.object[exc.start]:#04x} at offset {exc.start}); "
            "send JSON encoded as UTF-8"
        ) from exc
    except json.JSONDecodeError as exc:
        raise _malformed(
            f'the body is not valid JSON ({exc}); send {{"notes": "..."}} '
            "with Content-Type: application/json"
        ) from exc
    except RecursionError as exc:
        raise _malformed(
            "the body's JSON nests too deeply to read; the request's fields nest two levels"
        ) from exc


def _malformed(detail: str) -> Problem:
    return Problem(400, "Malformed JSON", detail)


def _integer(digits: str) -> int:
    if len(digits.lstrip("-")) > _MAX_INTEGER_DIGITS:
        raise _malformed(
            f"the body holds an integer of {len(digits):,} digits, too long to read; "
            "no field of the request is a number"
        )
    return int(digits)


def _object(pairs: list[tuple[str, object]]) -> dict[str, object]:
    """One JSON object; a name given twice, or a string that is not valid Unicode, is refused."""
    found: dict[str, object] = {}
    for name, value in pairs:
        field = name.encode("utf-8", "backslashreplace").decode("utf-8")
        if name in found:
            raise _invalid(field, "given twice in one object; send each field once")
        _refuse_lone_surrogate(field, name)
        if isinstance(value, str):
            _refuse_lone_surrogate(field, value)
        found[name] = value
    return found


def _refuse_lone_surrogate(field: str, text: str) -> None:
    if text.isascii():
        return
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise _invalid(
            field,
            f"holds a lone UTF-16 surrogate (\\u{ord(text[exc.start]):04x} at character "
            f"{exc.start}); escape a character outside the BMP as a surrogate pair, or send it "
            "as UTF-8",
        ) from exc


def _validation_problem(exc: ValidationError) -> Problem:
    """A 422 listing the first few of the body's errors (a body may hold thousands)."""
    errors = [
        {"field": _field(error["loc"]), "message": _message(error)}
        for error in exc.errors(include_url=False, include_input=False)[:_MAX_LISTED_ERRORS]
    ]
    detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
    if exc.error_count() > len(errors):
        detail += f"; and {exc.error_count() - len(errors):,} more errors"
    return Problem(422, "Invalid request", detail, errors=errors)


def _message(error: ErrorDetails) -> str:
    if error["type"] != "extra_forbidden":
        return error["msg"]
    model = Options if error["loc"][:1] == ("options",) else CaseStudyRequest
    return f"unknown field; the fields are {', '.join(model.model_fields)}"


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
    repeated = sorted(name for name, count in Counter(names).items() if count > 1)
    if repeated:
        raise _invalid("components", f"names {', '.join(repeated)} twice; name each at most once")
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
        raise _invalid(
            "logo",
            "the base64 payload does not decode; send standard base64 (A-Z, a-z, 0-9, + and /, "
            "padded with =) without line breaks or spaces",
        ) from exc
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
    except UnidentifiedImageError as exc:
        # PIL's message names the in-memory file object, which means nothing to the caller.
        raise _invalid("logo", "the bytes are not a PNG or JPEG image; send a valid one") from exc
    except (
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
