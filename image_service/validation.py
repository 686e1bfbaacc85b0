"""What makes an ImageJob acceptable; each problem names the field and the fix."""

from __future__ import annotations

from casecraft.brand import accent_problem
from casecraft.limits import (
    LOGO_MEDIA_TYPES,
    MAX_LOGO_BYTES,
    MAX_PROMPT_CHARS,
    MAX_TEXT_CHARS,
    texts_over_limit,
)
from casecraft.v1 import image_pb2
from image_service.render import MAX_SIDE, MIN_SIDE, requested_size

MAX_JOB_ID = 128
MAX_TIMEOUT_MS = 600_000
_MAGIC = {"image/png": b"\x89PNG\r\n\x1a\n", "image/jpeg": b"\xff\xd8\xff"}


def job_problem(job: image_pb2.ImageJob, seen_ids: set[str]) -> str | None:
    """Why this job cannot run, or None when it can."""
    name = f"job {job.job_id!r}"
    if not job.job_id or len(job.job_id) > MAX_JOB_ID:
        return f"job_id: must be 1 to {MAX_JOB_ID} characters, unique within the call"
    if job.job_id in seen_ids:
        return f"{name}: job_id is used twice in this call; give each job its own id"
    kind = job.WhichOneof("data")
    if kind is None:
        return f"{name}: data: set one of hero, metrics or timeline"
    if kind == "metrics" and not job.metrics.metrics:
        return f"{name}: metrics.metrics: empty; a metrics image needs at least one metric"
    if kind == "timeline" and not job.timeline.phases:
        return f"{name}: timeline.phases: empty; a timeline image needs at least one phase"
    if len(job.prompt) > MAX_PROMPT_CHARS:
        return _too_long(name, "prompt", len(job.prompt), MAX_PROMPT_CHARS)
    for path, message, field in texts_over_limit(kind, getattr(job, kind)):
        return _too_long(name, path, len(getattr(message, field)), MAX_TEXT_CHARS[field])
    size_problem = _size_problem(name, job.options)
    if size_problem:
        return size_problem
    if job.options.accent_color:
        colour_problem = accent_problem(job.options.accent_color)
        if colour_problem:
            return f"{name}: options.accent_color: {colour_problem}"
    if job.cache_only and job.bypass_cache:
        return (
            f"{name}: cache_only and bypass_cache are both set; a job either asks the cache "
            "only or makes a new image: set one"
        )
    if job.timeout_ms > MAX_TIMEOUT_MS:
        return f"{name}: timeout_ms: at most {MAX_TIMEOUT_MS}; use 0 for the service default"
    if job.reference_image:
        return _reference_problem(name, job)
    return None


def _too_long(name: str, field: str, length: int, limit: int) -> str:
    return f"{name}: {field}: {length:,} characters is over the limit of {limit:,}; shorten it"


def _size_problem(name: str, options: image_pb2.ImageOptions) -> str | None:
    """Why the image size these options ask for cannot be drawn: a side outside the bounds."""
    bounds = f"{MIN_SIDE}..{MAX_SIDE}"
    for side in ("width", "height"):
        value = getattr(options, side)
        if value and not MIN_SIDE <= value <= MAX_SIDE:
            return f"{name}: options.{side}: {value} is outside {bounds}; use 0 for the default"
    width, height = requested_size(options.width, options.height, fast=options.fast)
    for side, value, given in (("height", height, "width"), ("width", width, "height")):
        if not MIN_SIDE <= value <= MAX_SIDE:
            return (
                f"{name}: options.{given}: {getattr(options, given)} alone makes the image "
                f"{width}x{height} (the default aspect ratio), a {side} outside {bounds}; "
                f"set options.{side} too"
            )
    return None


def _reference_problem(name: str, job: image_pb2.ImageJob) -> str | None:
    media_type = job.reference_media_type
    if media_type not in LOGO_MEDIA_TYPES:
        return f"{name}: reference_media_type: {media_type!r}; use one of {', '.join(LOGO_MEDIA_TYPES)}"
    if len(job.reference_image) > MAX_LOGO_BYTES:
        return f"{name}: reference_image: over {MAX_LOGO_BYTES:,} bytes; send a smaller logo"
    if not job.reference_image.startswith(_MAGIC[media_type]):
        return f"{name}: reference_image: the bytes are not a {media_type} image"
    return None
