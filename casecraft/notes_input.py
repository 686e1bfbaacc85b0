"""The request a command sends, read and checked from its arguments before anything starts."""

from __future__ import annotations

import base64
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from casecraft import brand
from casecraft.cli_errors import UsageError
from casecraft.components import NAMES
from casecraft.documents import DocumentError, read_document
from casecraft.limits import notes_problem

STDIN = "-"
_LOGO_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg"}


@dataclass(frozen=True)
class Notes:
    """The notes' text and where they came from (for messages)."""

    text: str
    source: str


def read_notes(path: str, stdin: TextIO | None = None) -> Notes:
    """The notes in ``path`` (``-``: standard input), read by content (text, Word, PDF, HTML,
    e-mail); UsageError says why they cannot be used."""
    if path == STDIN:
        stream = stdin if stdin is not None else sys.stdin
        binary = getattr(stream, "buffer", None)
        data = binary.read() if binary is not None else stream.read().encode("utf-8")
        return _checked(data, "standard input", "notes")
    notes = Path(path)
    if notes.is_dir():
        raise UsageError(f"{notes} is a folder; pass a notes file (or - for standard input)")
    try:
        data = notes.read_bytes()
    except FileNotFoundError:
        raise UsageError(f"{notes}: no such file") from None
    except OSError as exc:
        raise UsageError(f"{notes}: {exc.strerror or exc}") from None
    return _checked(data, str(notes), notes.name)


def _checked(data: bytes, source: str, name: str) -> Notes:
    if not data.strip():
        raise UsageError(f"{source} is empty; write the consultant's notes in it")
    try:
        text = read_document(data, name).text
    except DocumentError as exc:
        raise UsageError(f"{source}: {str(exc).partition(': ')[2]}") from None
    problem = notes_problem(text)
    if problem is not None:
        raise UsageError(f"{source}: {problem.removeprefix('notes: ')}")
    return Notes(text, source)


def read_logo(path: str) -> str:
    """The logo as a data URL."""
    logo = Path(path)
    media_type = _LOGO_TYPES.get(logo.suffix.lower())
    if media_type is None:
        raise UsageError(f"--logo {logo}: use a .png or .jpg file")
    try:
        data = logo.read_bytes()
    except OSError as exc:
        raise UsageError(f"--logo {logo}: {exc.strerror or exc}") from None
    return f"data:{media_type};base64,{base64.b64encode(data).decode()}"


def parse_components(value: str) -> list[str]:
    """``hero,metrics`` as a list; an unknown or repeated name is refused."""
    names = [name.strip() for name in value.split(",") if name.strip()]
    unknown = [name for name in names if name not in NAMES]
    if unknown or not names:
        raise UsageError(
            f"--components {value!r}: unknown {', '.join(map(repr, unknown)) or '(none given)'}; "
            f"choose from {','.join(NAMES)}"
        )
    if len(set(names)) != len(names):
        raise UsageError(f"--components {value!r}: name each component once")
    return names


def check_out(path: str) -> Path:
    """The output folder; an existing file there is refused (the folder is made when writing)."""
    out = Path(path)
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} is a file; pass a folder (it is created if missing)")
    return out


def request_body(
    notes: Notes,
    *,
    logo: str | None = None,
    components: Sequence[str] | None = None,
    fast: bool = False,
    accent: str | None = None,
    fresh: bool = False,
    anonymize: bool = False,
) -> dict[str, Any]:
    """The JSON body of ``POST /v1/case-studies``."""
    body: dict[str, Any] = {"notes": notes.text}
    if logo:
        body["logo"] = read_logo(logo)
    if components:
        body["components"] = list(components)
    options: dict[str, Any] = {}
    if fast:
        options["fast"] = True
    if fresh:
        options["fresh"] = True
    if anonymize:
        options["anonymize"] = True
    if accent:
        if problem := brand.accent_problem(accent):
            raise UsageError(f"--accent: {problem}")
        options["accent_color"] = accent
    if options:
        body["options"] = options
    return body
