"""A job's case study as a download: GET /v1/case-studies/{id}/export/{format}.

Each export is rendered on demand (in a worker thread: it is CPU work) from the job's answer,
its images (from the image store, by sha256) and the brand the job was made with, then kept in
a small LRU under the job's version, so the next request is served from memory and an edit
(which makes a new version) changes the next export. This module owns the query parameters,
when a job can be exported, the problems and the response headers.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Mapping
from typing import Any

from starlette.datastructures import QueryParams
from starlette.responses import Response

from casecraft.exports import FORMATS, Export, ExportOptions, UnknownFormat, render_export
from casecraft.exports.source import PageSize
from casecraft.exports.web_page import TemplateProblem, TemplateRenderError
from gateway.answers import CASE_STUDIES, answer
from gateway.export_cache import ExportCache
from gateway.images import ImageStore
from gateway.jobs import JobRecord
from gateway.problems import Problem
from gateway.settings import GatewaySettings

# When to ask again for the export of a job that is still being made.
RETRY_AFTER_S = 5
# Shown in the browser (a page, a picture); the others are downloads.
_INLINE = frozenset({"html", "card"})
_PAGE_SIZES: dict[str, PageSize] = {"a4": "A4", "letter": "Letter"}
_TRUE, _FALSE = {"1", "true", "yes"}, {"0", "false", "no", ""}


class JobExports:
    """The exports of the gateway's jobs, rendered on demand and kept in an ``ExportCache``."""

    def __init__(self, settings: GatewaySettings, images: ImageStore) -> None:
        self.settings = settings
        self.images = images
        self.cache = ExportCache(settings.export_cache_bytes)

    async def response(self, job: JobRecord, format: str, query: QueryParams) -> Response:
        """The export of ``job`` in ``format`` as a response; a Problem when the format is
        unknown (404), the job is still being made or has no case study (409), the query is
        bad (422) or the page template fails on this case study (409)."""
        if format not in FORMATS:
            raise Problem(
                404,
                "Unknown export format",
                f"no export format {format!r}; use one of {', '.join(FORMATS)}",
                formats=list(FORMATS),
            )
        _check_exportable(job)
        options = export_options(
            self.settings,
            query,
            accent_color=job.request.accent_color,
            logo=base64.b64decode(job.request.logo_base64),
        )
        shown = _shown_images(job)
        key = (job.id, job.version, format, options.page_size, options.timings, shown)

        async def make() -> Export:
            body = await answer(job, self.images)
            images = await self._image_bytes(shown)
            return await render(format, body, images, options)

        return download(await self.cache.get(key, make), format)

    async def _image_bytes(self, shown: tuple[tuple[str, str], ...]) -> dict[str, bytes]:
        """The images' bytes by component; one evicted from the store is left out, as if it
        had not been made."""
        stored = await asyncio.gather(*(self.images.get(sha256) for _, sha256 in shown))
        return {
            component: image.data
            for (component, _), image in zip(shown, stored, strict=True)
            if image is not None
        }


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


async def render(
    format: str,
    answer: Mapping[str, Any],
    images: Mapping[str, bytes],
    options: ExportOptions,
) -> Export:
    """The export, rendered in a worker thread.

    Unknown format: 404 naming the valid ones. The page template failing on this case study's
    data: 409 naming the template, the line and what it read (the data can be edited, the
    template fixed, or another format taken). A template that cannot be loaded at all: 500
    naming the setting (the gateway checks it at start-up, so this is not the caller's doing).
    """
    try:
        return await asyncio.to_thread(render_export, format, answer, images, options=options)
    except UnknownFormat as exc:
        raise Problem(404, "Unknown export format", str(exc), formats=list(FORMATS)) from exc
    except TemplateRenderError as exc:
        raise Problem(
            409,
            "Export template failed",
            f"the page template failed on this case study: {exc}; correct the field it reads "
            "(PATCH the case study), fix the template (CASECRAFT_TEMPLATE_DIR), or export "
            "another format",
            template=exc.template,
            line=exc.line,
            expression=exc.expression,
            reason=exc.reason,
        ) from exc
    except TemplateProblem as exc:
        raise Problem(500, "Export template error", f"CASECRAFT_TEMPLATE_DIR: {exc}") from exc


def download(export: Export, format: str) -> Response:
    """The export as a response: its media type, and a file name from the case study."""
    disposition = "inline" if format in _INLINE else "attachment"
    return Response(
        export.data,
        media_type=export.media_type,
        headers={"Content-Disposition": f'{disposition}; filename="{export.filename}"'},
    )


def _check_exportable(job: JobRecord) -> None:
    """A job can be exported once it has ended with a case study, even a failed or cancelled
    one (what it has was paid for); a Problem saying why not otherwise."""
    if not job.finished:
        raise Problem(
            409,
            "Not ready",
            f"case study {job.id} is {job.status}; it can be exported once it is done: "
            f"follow {CASE_STUDIES}{job.id}/events or retry after {RETRY_AFTER_S} s",
            headers={"Retry-After": str(RETRY_AFTER_S)},
            status_now=job.status,
        )
    if not job.case_study:
        why = (job.problem or {}).get("detail") or job.status
        raise Problem(
            409,
            "Nothing to export",
            f"case study {job.id} {job.status} before any of it was written ({why}); "
            "POST the notes again",
            status_now=job.status,
        )


def _shown_images(job: JobRecord) -> tuple[tuple[str, str], ...]:
    """(component, sha256) of each image the job's answer shows as made."""
    return tuple(
        (component, image["sha256"])
        for component in job.request.components
        if (image := job.images.get(component)) is not None
        and image.get("status") == "ok"
        and image.get("sha256")
    )


def _invalid(field: str, message: str) -> Problem:
    return Problem(
        422, "Invalid request", f"{field}: {message}", errors=[{"field": field, "message": message}]
    )
