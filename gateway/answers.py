"""The JSON a job answers with (GET, the synchronous POST, the ``done`` event), and its images.

Its shape is CaseStudyResponse in gateway/schemas.py. Images are addressed by URL; their bytes
go inline as data URLs only when a client asks (``?inline=true``).
"""

from __future__ import annotations

import base64
from typing import Any

from casecraft.components import status_name
from casecraft.v1 import image_pb2
from gateway.images import ImageStore, image_url
from gateway.jobs import JobRecord
from gateway.problems import Problem

CASE_STUDIES = "/v1/case-studies/"


def links(job_id: str) -> dict[str, str]:
    """Where a client goes next for this job."""
    base = CASE_STUDIES + job_id
    return {
        "self": base,
        "events": f"{base}/events",
        "refine": f"{base}/refine",
        "images": f"{base}/images/{{component}}",
    }


def accepted(job: JobRecord) -> dict[str, Any]:
    """The 202 body of a job started in the background."""
    return {"id": job.id, "status": job.status, "links": links(job.id)}


def image_entry(
    component: str, result: image_pb2.ImageResult, sha256: str, version: int
) -> dict[str, Any]:
    """An image as answers show it: by URL when it was made, with the reason when it was not."""
    image: dict[str, Any] = {
        "component": component,
        "status": status_name(result.status),
        "version": version,
        "media_type": result.media_type,
        "url": image_url(sha256) if sha256 else "",
        "sha256": sha256,
        "width": result.width,
        "height": result.height,
        "provider": result.provider,
        "model": result.model,
        "cache_hit": result.cache_hit,
        "attempts": result.attempts,
    }
    if result.error:
        image["error"] = result.error
    return image


def image_event(image: dict[str, Any]) -> dict[str, Any]:
    """The ``image`` event's data for an image entry (docs: CONTRACTS, server-sent events)."""
    if image["status"] != "ok":
        failed = ("component", "version", "error")
        return {**{k: image.get(k, "") for k in failed}, "status": "failed"}
    done = ("component", "version", "url", "sha256", "media_type", "width", "height", "provider")
    return {**{k: image[k] for k in done}, "status": "done", "cache_hit": image["cache_hit"]}


async def answer(job: JobRecord, images: ImageStore, *, inline: bool = False) -> dict[str, Any]:
    """The job as GET /v1/case-studies/{id} shows it: whatever is ready so far."""
    shown = []
    for component in job.request.components:
        image = job.images.get(component)
        if image is None:
            continue
        image = dict(image)
        if inline:
            stored = await images.get(image["sha256"]) if image["sha256"] else None
            image["data_url"] = (
                f"data:{stored.media_type};base64,{base64.b64encode(stored.data).decode()}"
                if stored is not None
                else ""
            )
        shown.append(image)
    body: dict[str, Any] = {
        "id": job.id,
        "status": job.status,
        "version": job.version,
        "links": links(job.id),
        "case_study": job.case_study,
        "images": shown,
        "skipped": [{"component": n, "reason": r} for n, r in job.skipped.items()],
        "warnings": job.warnings,
        "usage": job.usage,
        "needs_review": job.needs_review,
        "cache": {"structuring": job.structuring_cache or "miss"},
        "trace_id": job.trace_id,
        "changes": [change.model_dump() for change in job.changes],
        **job.trust,
    }
    if job.timings is not None:
        body["timings"] = job.timings
    if job.problem is not None:
        body["problem"] = job.problem
    return body


def problem_from(data: dict[str, Any]) -> Problem:
    """The Problem a failed job kept (``Problem.body()``), to answer a synchronous request."""
    extra = {k: v for k, v in data.items() if k not in ("title", "status", "detail", "type")}
    retry_after = extra.pop("retry_after", None)
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
    return Problem(data["status"], data["title"], data["detail"], headers=headers, **extra)
