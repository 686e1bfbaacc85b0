"""An export of a case study as an HTTP response: GET /v1/case-studies/{id}/export/{format}.

The route (with the job store) calls `export_response` with the job's answer, its images and the
brand the request asked for; this module owns the query parameters, the 404 for an unknown format
and the response headers.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from starlette.datastructures import QueryParams
from starlette.responses import Response

from casecraft.exports import ExportOptions, UnknownFormat, render_export
from casecraft.exports.source import PageSize
from casecraft.exports.web_page import TemplateProblem
from gateway.problems import Problem
from gateway.settings import GatewaySettings

_PAGE_SIZES: dict[str, PageSize] = {"a4": "A4", "letter": "Letter"}
_TRUE, _FALSE = {"1", "true", "yes"}, {"0", "false", "no", ""}


def export_options(
    settings: GatewaySettings,
    query: QueryParams,
    *,
    accent_color: str = "",
    logo: bytes = b"",
) -> ExportOptions:
    """The options of one export: the job's brand, the settings, and the query's
    ``page=A4|Letter`` and ``timings=true`` (the web page's waterfall); a Problem when bad."""
    page = query.get("page", settings.export_page_size).lower()
    if page not in _PAGE_SIZES:
        raise _invalid("page", f"{page!r} is not a paper size; use A4 or Letter")
    timings = query.get("timings", "false").lower()
    if timings not in _TRUE | _FALSE:
        raise _invalid("timings", f"{timings!r} is not a boolean; use true or false")
    return ExportOptions(
        accent_color=accent_color or None,
        logo=logo or None,
        page_size=_PAGE_SIZES[page],
        template_dir=settings.template_dir,
        timings=timings in _TRUE,
    )


async def export_response(
    format: str,
    answer: Mapping[str, Any],
    images: Mapping[str, bytes],
    options: ExportOptions,
) -> Response:
    """The export as a download; rendered in a worker thread (it is CPU work).

    Unknown format: 404 naming the valid ones. A page template that fails: 500 naming the file
    (the template is the operator's configuration, not the caller's input).
    """
    try:
        export = await asyncio.to_thread(render_export, format, answer, images, options=options)
    except UnknownFormat as exc:
        raise Problem(404, "Unknown export format", str(exc)) from exc
    except TemplateProblem as exc:
        raise Problem(500, "Export template error", f"CASECRAFT_TEMPLATE_DIR: {exc}") from exc
    disposition = "inline" if format in ("html", "card") else "attachment"
    return Response(
        export.data,
        media_type=export.media_type,
        headers={"Content-Disposition": f'{disposition}; filename="{export.filename}"'},
    )


def _invalid(field: str, message: str) -> Problem:
    return Problem(
        422, "Invalid request", f"{field}: {message}", errors=[{"field": field, "message": message}]
    )
