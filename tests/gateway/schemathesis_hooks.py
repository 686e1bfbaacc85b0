"""schemathesis hooks for tests/gateway/test_openapi_conformance.py (named in schemathesis.toml).

Two things the document states that schemathesis cannot generate on its own:

- a logo is ``format: data-url`` and its bytes must decode as the image type it names, which JSON
  Schema cannot check. schemathesis knows no such format: the hooks teach it to make one, and give
  a valid request a real image where a phase built the logo from its pattern alone.
- the notes' pattern ``[^\\p{C}\\p{Z}]`` (some character outside the Unicode categories C and Z)
  is read by schemathesis with ``\\p{C}`` narrowed to the C0 and C1 controls, so a "valid" request
  may hold only, say, an unassigned code point. Such a request is not valid by the document: the
  hook makes its first character a visible one, as the pattern asks.
"""

from __future__ import annotations

import base64
import binascii
import io
import unicodedata
import uuid

import schemathesis
from hypothesis import strategies as st
from PIL import Image, UnidentifiedImageError
from schemathesis import Case, GenerationMode, HookContext


def _logo(size: tuple[int, int], media_type: str) -> str:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 60)).save(buffer, media_type.removeprefix("image/").upper())
    return f"data:{media_type};base64,{base64.b64encode(buffer.getvalue()).decode()}"


schemathesis.openapi.format(
    "data-url",
    st.builds(
        _logo,
        st.tuples(st.integers(1, 64), st.integers(1, 64)),
        st.sampled_from(["image/png", "image/jpeg"]),
    ),
)


def _is_image(data_url: str) -> bool:
    header, _, payload = data_url.partition(",")
    try:
        with Image.open(io.BytesIO(base64.b64decode(payload, validate=True))) as image:
            return f"data:image/{image.format};base64".lower() == header.lower()
    except (binascii.Error, ValueError, OSError, UnidentifiedImageError):
        return False


def _matches_notes_pattern(notes: str) -> bool:
    """``[^\\p{C}\\p{Z}]`` as ECMA-262 reads it: a character outside the categories C and Z."""
    return any(unicodedata.category(char)[0] not in "CZ" for char in notes)


@schemathesis.hook
def map_case(context: HookContext, case: Case) -> Case:
    valid = case.meta is not None and case.meta.generation.mode is GenerationMode.POSITIVE
    body = case.body
    if not valid or not isinstance(body, dict):
        return case
    logo = body.get("logo")
    if isinstance(logo, str) and not _is_image(logo):
        body["logo"] = _logo((16, 16), "image/jpeg" if "jpeg" in logo[:16] else "image/png")
    # The same Idempotency-Key with another body is a 422, as documented: a valid request gets a
    # key of its own.
    if case.headers and "Idempotency-Key" in case.headers:
        case.headers["Idempotency-Key"] = uuid.uuid4().hex
    notes = body.get("notes")
    if isinstance(notes, str) and notes and not _matches_notes_pattern(notes):
        body["notes"] = "x" + notes[1:]
    return case
