"""POST /v1/case-studies as multipart/form-data: notes from files, read into the JSON request.

The form's fields are those of the JSON body, plus ``notes_file`` (up to ten files about the same
engagement, read concurrently by ``casecraft.documents``). Whatever the form holds becomes the same
JSON-shaped request the JSON API takes, and goes through the same checks.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import filetype
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException
from starlette.requests import Request
from starlette.types import Message

from casecraft.documents import MAX_FILE_BYTES, MAX_FILES, DocumentError, read_documents
from gateway.body import read_body
from gateway.problems import Problem
from gateway.requests import CheckedRequest, parse, parse_object

# The whole upload: every notes file at its limit would be far more than one engagement's notes,
# so the body as a whole has a limit of its own.
MAX_UPLOAD_BYTES = 3 * MAX_FILE_BYTES
_FORM_FIELDS = ("notes", "notes_file", "logo", "components", "options")
_TRUE, _FALSE = ("true", "1", "on", "yes"), ("false", "0", "off", "no")


async def checked_request(request: Request) -> CheckedRequest:
    """The checked request of a JSON body or a multipart form."""
    content_type = request.headers.get("content-type", "")
    if content_type.lower().startswith("multipart/form-data"):
        return parse_object(await _form_request(request))
    return parse(await read_body(request))


async def _form_request(request: Request) -> dict[str, Any]:
    body = await read_body(request, limit=MAX_UPLOAD_BYTES)
    form = await _form(request, body)
    try:
        return await _as_json(form)
    finally:
        await form.close()


async def _form(request: Request, body: bytes) -> FormData:
    """The form, parsed from the body already read (so its size limit holds)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    try:
        return await Request(request.scope, replay).form(
            max_files=MAX_FILES + 1, max_fields=len(_FORM_FIELDS) + 10
        )
    except (MultiPartException, HTTPException) as exc:
        # Starlette reports a form it cannot parse as an HTTPException when an app is mounted.
        reason = exc.message if isinstance(exc, MultiPartException) else exc.detail
        raise Problem(
            400,
            "Malformed form",
            f"the multipart body cannot be read ({reason}); send notes_file as a file part, "
            "at most ten of them, and the other fields as in the JSON API",
        ) from exc


async def _as_json(form: FormData) -> dict[str, Any]:
    unknown = sorted({key for key in form if key not in _FORM_FIELDS and key not in _option_keys()})
    if unknown:
        raise _invalid(
            unknown[0], "unknown field; the form's fields are " + ", ".join(_FORM_FIELDS)
        )
    raw: dict[str, Any] = {}
    files = [item for item in form.getlist("notes_file") if isinstance(item, UploadFile)]
    typed = [item for item in form.getlist("notes") if isinstance(item, str)]
    if files and typed:
        raise _invalid("notes", "send the notes as text or as notes_file, not both")
    if files:
        uploads = [
            (item.filename or f"notes_file {n}", await item.read())
            for n, item in enumerate(files, 1)
        ]
        try:
            raw["notes"] = await read_documents(uploads)
        except DocumentError as exc:
            raise Problem(
                exc.status,
                "Unreadable notes file",
                str(exc),
                errors=[{"field": "notes_file", "message": str(exc)}],
                kind=exc.kind,
            ) from exc
    elif typed:
        raw["notes"] = typed[0]
    logo = form.get("logo")
    if isinstance(logo, UploadFile):
        raw["logo"] = _data_url(await logo.read())
    elif isinstance(logo, str) and logo:
        raw["logo"] = logo
    components = [
        c for item in form.getlist("components") if isinstance(item, str) for c in _list(item)
    ]
    if components:
        raw["components"] = components
    raw["options"] = _options(form)
    return raw


def _option_keys() -> tuple[str, ...]:
    from gateway.schemas import Options

    return tuple(Options.model_fields)


def _options(form: FormData) -> dict[str, Any]:
    options: dict[str, Any] = {}
    given = form.get("options")
    if isinstance(given, str) and given.strip():
        try:
            options = json.loads(given)
        except ValueError as exc:
            raise _invalid("options", 'not JSON; send an object like {"fast": true}') from exc
        if not isinstance(options, dict):
            raise _invalid("options", 'not a JSON object; send an object like {"fast": true}')
    for key in _option_keys():
        value = form.get(key)
        if isinstance(value, str):
            lowered = value.strip().lower()
            options[key] = True if lowered in _TRUE else False if lowered in _FALSE else value
    return options


def _list(value: str) -> list[str]:
    """A list field given as JSON (["hero"]) or comma-separated (hero,metrics)."""
    if value.strip().startswith("["):
        try:
            items = json.loads(value)
        except ValueError as exc:
            raise _invalid("components", 'not a JSON list; send ["hero", "metrics"]') from exc
        return [str(item) for item in items] if isinstance(items, list) else [value]
    return [part.strip() for part in value.split(",") if part.strip()]


def _data_url(data: bytes) -> str:
    """The uploaded logo as the data URL the JSON API takes; the checks that follow say what is
    wrong with it."""
    kind = filetype.guess(data)
    media_type = kind.mime if kind is not None else "application/octet-stream"
    return f"data:{media_type};base64,{base64.b64encode(data).decode()}"


def _invalid(field: str, message: str) -> Problem:
    return Problem(
        422, "Invalid request", f"{field}: {message}", errors=[{"field": field, "message": message}]
    )
