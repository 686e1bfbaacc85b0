"""The HTTP routes of case-study jobs: create (synchronous, background or streamed), read,
follow, cancel, correct, refine and make images again; and the images by address."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import logging
from typing import Any

import orjson
from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from gateway.answers import CASE_STUDIES, accepted, problem_from
from gateway.auth import caller
from gateway.body import read_body
from gateway.edits import MERGE_PATCH, apply_patch, refine_request
from gateway.images import IMAGE_PATH
from gateway.jobrunner import Jobs
from gateway.jobs import JobRecord
from gateway.problems import Problem
from gateway.requests import CheckedRequest, json_value
from gateway.uploads import checked_request

log = logging.getLogger(__name__)

_SHA256_HEX = frozenset("0123456789abcdef")


class OrjsonResponse(JSONResponse):
    """The answer's JSON rendered by orjson: the same compact UTF-8 as Starlette's json.dumps,
    a tenth of the CPU."""

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def routes() -> list[Route]:
    return [
        Route("/v1/case-studies", create_case_study, methods=["POST"]),
        Route("/v1/case-studies/{id}", get_case_study, methods=["GET"]),
        Route("/v1/case-studies/{id}", cancel_case_study, methods=["DELETE"]),
        Route("/v1/case-studies/{id}", patch_case_study, methods=["PATCH"]),
        Route("/v1/case-studies/{id}/events", case_study_events, methods=["GET"]),
        Route("/v1/case-studies/{id}/images/{component}", make_image, methods=["POST"]),
        Route("/v1/case-studies/{id}/refine", refine, methods=["POST"]),
        Route(IMAGE_PATH + "{sha256}", get_image, methods=["GET"]),
    ]


def _jobs(request: Request) -> Jobs:
    jobs: Jobs = request.app.state.jobs
    return jobs


async def create_case_study(request: Request) -> Response:
    """Synchronous by default (the answer when it is done; the client leaving cancels the work),
    in the background with ``Prefer: respond-async`` (202), or streamed as server-sent events
    with ``Accept: text/event-stream``."""
    checked = await checked_request(request)
    jobs = _jobs(request)
    inline = _inline(request)
    streamed = "text/event-stream" in request.headers.get("accept", "")
    background = streamed or _prefers_async(request)
    key = request.headers.get("idempotency-key")
    fingerprint = _fingerprint(checked)
    owner = caller(request.scope)
    if key is not None:
        # An idempotency key belongs to the API key that sent it: two callers never share one.
        key = Jobs.idempotency_key(key, owner.name if owner is not None else "")
    job = await jobs.by_idempotency_key(key, fingerprint) if key is not None else None
    task = None
    if job is None:
        job, task = await jobs.start(
            checked,
            background=background,
            fingerprint=fingerprint,
            idempotency_key=key,
            caller=owner,
        )
    location = {"Location": CASE_STUDIES + job.id}
    if streamed:
        return _stream(jobs, job.id, 0, location)
    if background:
        headers = {**location, "Preference-Applied": "respond-async"}
        return OrjsonResponse(accepted(job), status_code=202, headers=headers)
    if task is None:
        ended = await jobs.wait(job.id)  # a retry: the answer of the request it repeats
    else:
        finished = await _unless_client_leaves(request, task)
        if not finished:
            return Response(status_code=499)
        ended = job  # the record its work kept up to date
    return await _answer(jobs, ended, inline, location)


async def _answer(jobs: Jobs, job: JobRecord, inline: bool, headers: dict[str, str]) -> Response:
    if job.status == "failed" and job.problem is not None:
        raise problem_from(job.problem)
    if job.status == "cancelled":
        raise Problem(409, "Cancelled", f"case study {job.id} was cancelled (DELETE)")
    body = await jobs.answer(job, inline=inline)
    return OrjsonResponse(body, headers=headers)


async def _unless_client_leaves(request: Request, task: asyncio.Task[None]) -> bool:
    """Wait for the job's work; cancel it (upstream included) if the client leaves first."""
    gone = asyncio.create_task(_client_gone(request))
    try:
        await asyncio.wait({task, gone}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        gone.cancel()
    if task.done():
        return True
    task.cancel()  # the client left: stop the work it started, upstream included
    await asyncio.wait({task})
    log.info("client disconnected; work cancelled")
    return False


async def _client_gone(request: Request) -> None:
    while True:
        message = await request.receive()
        if message["type"] == "http.disconnect":
            return


async def _owned(request: Request) -> str:
    """The job id of the request's path, once the job is known to belong to the caller: another
    key's job is a 404, as if it did not exist (its id says nothing about it)."""
    job_id: str = request.path_params["id"]
    job = await _jobs(request).get(job_id)
    owner = caller(request.scope)
    if job.owner and (owner is None or owner.name != job.owner):
        raise Problem(404, "Not found", f"no case study {job_id!r} for this API key")
    return job_id


async def get_case_study(request: Request) -> Response:
    job_id = await _owned(request)
    body = await _jobs(request).answer(job_id, inline=_inline(request))
    return OrjsonResponse(body)


async def cancel_case_study(request: Request) -> Response:
    jobs = _jobs(request)
    job = await jobs.cancel(await _owned(request))
    return OrjsonResponse(await jobs.answer(job))


async def case_study_events(request: Request) -> Response:
    jobs = _jobs(request)
    job = await jobs.get(await _owned(request))
    last = request.headers.get("last-event-id", "").strip()
    after = int(last) if last.isdecimal() and len(last) < 12 else 0
    if await jobs.seen_the_end(job.id, after):
        # The client saw how the job ended and reconnected (as EventSource does when a stream
        # ends): 204 tells it there is nothing more, and EventSource stops reconnecting.
        return Response(status_code=204)
    return _stream(jobs, job.id, after)


def _stream(
    jobs: Jobs, job_id: str, after: int, headers: dict[str, str] | None = None
) -> EventSourceResponse:
    """The job's events as server-sent events; leaving the stream leaves the job running."""

    async def events() -> Any:
        async for event in jobs.events(job_id, after):
            yield ServerSentEvent(data=event.data, event=event.type, id=str(event.id))

    return EventSourceResponse(events(), headers=headers, ping=jobs.settings.events_keepalive_s)


async def patch_case_study(request: Request) -> Response:
    media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media_type != MERGE_PATCH:
        raise Problem(
            415,
            "Unsupported media type",
            f"a PATCH is a JSON merge patch (RFC 7396): send it with Content-Type: {MERGE_PATCH}, "
            'e.g. {"case_study": {"client_name": "Acme"}}',
            headers={"Accept-Patch": MERGE_PATCH},
        )
    patch = json_value(await read_body(request))
    jobs = _jobs(request)
    job = await jobs.editable(await _owned(request))
    after, changed = apply_patch(job.case_study, patch)
    job = await jobs.edit(job, after, changed, "patch")
    return await _edited(jobs, job)


async def make_image(request: Request) -> Response:
    jobs = _jobs(request)
    job = await jobs.make_image(await _owned(request), request.path_params["component"])
    return await _edited(jobs, job)


async def refine(request: Request) -> Response:
    section, instruction = refine_request(json_value(await read_body(request)))
    jobs = _jobs(request)
    job = await jobs.refine(await _owned(request), section, instruction)
    return await _edited(jobs, job)


async def _edited(jobs: Jobs, job: JobRecord) -> Response:
    """The job after an edit: 202 while its images are made again, 200 when nothing changed."""
    status = 202 if job.status == "rendering" else 200
    body = await jobs.answer(job)
    return OrjsonResponse(body, status_code=status, headers={"Location": CASE_STUDIES + job.id})


async def get_image(request: Request) -> Response:
    sha256 = request.path_params["sha256"]
    if len(sha256) != 64 or not set(sha256) <= _SHA256_HEX:
        raise Problem(
            404, "Not found", f"{sha256!r} is not an image address: 64 lowercase hex characters"
        )
    image = await _jobs(request).images.get(sha256)
    if image is None:
        raise Problem(
            404,
            "Not found",
            f"no image {sha256}; images are kept while their case study is, then may be "
            "evicted: GET the case study again or make the image again",
        )
    etag = f'"{sha256}"'
    headers = {"ETag": etag, "Cache-Control": "public, max-age=31536000, immutable"}
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    return Response(image.data, media_type=image.media_type, headers=headers)


def _fingerprint(checked: CheckedRequest) -> str:
    """What makes two requests the same request: every field of the checked request (so a
    JSON body and a form with the same content are the same)."""
    digest = hashlib.sha256()
    for field in dataclasses.fields(checked):
        digest.update(repr(getattr(checked, field.name)).encode())
        digest.update(b"\0")
    return digest.hexdigest()


def _inline(request: Request) -> bool:
    value = request.query_params.get("inline", "false").lower()
    if value not in ("true", "false", "1", "0"):
        raise Problem(
            422,
            "Invalid request",
            f"inline: {value!r} is not a boolean; use ?inline=true for data URLs in the answer",
            errors=[{"field": "inline", "message": "must be true or false"}],
        )
    return value in ("true", "1")


def _prefers_async(request: Request) -> bool:
    preferences = request.headers.get("prefer", "").split(",")
    return any(p.partition(";")[0].strip().lower() == "respond-async" for p in preferences)
