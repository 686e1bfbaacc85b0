"""The case study in the formats people hand on: PDF, PowerPoint, web page, Markdown, social card.

Each format is rendered natively from the case study data (text stays text, charts are drawn from
the numbers) and the image bytes; the same input always gives the same bytes.

    export = render_export("pdf", answer, images, options=ExportOptions(accent_color="#0A7C66"))
    Path(export.filename).write_bytes(export.data)
"""

from __future__ import annotations

from casecraft.exports.document import FORMATS, UnknownFormat, render_export
from casecraft.exports.source import Export, ExportOptions, images_from_answer

__all__ = [
    "FORMATS",
    "Export",
    "ExportOptions",
    "UnknownFormat",
    "images_from_answer",
    "render_export",
]
