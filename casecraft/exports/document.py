"""The entry point: one format's bytes from a gateway answer (or a CaseStudy) and its images."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from casecraft.exports import bundle, card, deck, markdown, pdf_page, web_page
from casecraft.exports.source import Export, ExportOptions, Source, make_source
from casecraft.v1 import case_study_pb2

RENDERERS: dict[str, Callable[[Source], Export]] = {
    "pdf": pdf_page.render,
    "pptx": deck.render,
    "html": web_page.render,
    "md": markdown.render,
    "card": card.render,
    "zip": bundle.render,
}
FORMATS = tuple(RENDERERS)


class UnknownFormat(ValueError):
    """The export format is not one of FORMATS."""


def render_export(
    format: str,
    answer: Mapping[str, Any] | case_study_pb2.CaseStudy,
    images: Mapping[str, bytes] | None = None,
    *,
    options: ExportOptions | None = None,
) -> Export:
    """`format` ("pdf", "pptx", "html", "md", "card" or "zip") of the case study.

    `answer` is the gateway's JSON answer (its ``case_study`` is read) or a CaseStudy message;
    `images` maps "hero", "metrics", "timeline" to their bytes (default: the answer's data URLs).
    Raises UnknownFormat, or brand.InvalidAccent when the options' accent is not #RRGGBB.
    """
    renderer = RENDERERS.get(format)
    if renderer is None:
        raise UnknownFormat(f"no export format {format!r}; use one of {', '.join(FORMATS)}")
    return renderer(make_source(answer, images, options or ExportOptions()))
