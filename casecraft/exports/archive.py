"""Zip archives with fixed timestamps, so the same files always give the same bytes."""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterable
from io import BytesIO

_EPOCH = (1980, 1, 1, 0, 0, 0)
# Office files record when they were written in docProps/core.xml (an embedded chart workbook
# too); a fixed date there keeps an export a function of its content.
_CORE_DATE = re.compile(rb"(<dcterms:(created|modified)\b[^>]*>)[^<]*(</dcterms:\2>)")
_FIXED_DATE = rb"\g<1>2000-01-01T00:00:00Z\g<3>"


def build_zip(files: Iterable[tuple[str, bytes]]) -> bytes:
    """A deflated zip of (name, data) pairs, in the order given, with fixed timestamps."""
    buffer = BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files:
            info = zipfile.ZipInfo(name, date_time=_EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
    return buffer.getvalue()


def normalized_zip(data: bytes) -> bytes:
    """An Office file (a zip) rewritten with fixed timestamps, inside embedded workbooks too."""
    with zipfile.ZipFile(BytesIO(data)) as source:
        members = [(info.filename, source.read(info)) for info in source.infolist()]
    return build_zip((name, _normalized_member(name, blob)) for name, blob in members)


def _normalized_member(name: str, blob: bytes) -> bytes:
    if name.endswith("docProps/core.xml"):
        return _CORE_DATE.sub(_FIXED_DATE, blob)
    if name.endswith(".xlsx"):
        return normalized_zip(blob)
    return blob
