"""What a job's work produces, written as it happens: into the job's record, then as events."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from redis.exceptions import RedisError

from casecraft import protojson
from casecraft.v1 import image_pb2, structurer_pb2
from gateway import orchestrator, trust
from gateway.answers import image_entry, image_event
from gateway.cache_report import structuring_cache
from gateway.events import EventLog
from gateway.images import ImageStore
from gateway.jobs import JobRecord, JobStore, Status
from gateway.problems import Problem
from gateway.redis_backend import unavailable

log = logging.getLogger(__name__)


class JobRecorder:
    """Writes a job's progress: status changes, field groups, images, how it ended. Every event
    goes to the log at once; the record is saved to the store when the case study is complete
    and when the work ends (readers in this process see the running job's record itself)."""

    def __init__(
        self,
        store: JobStore,
        log: EventLog,
        images: ImageStore,
        clock: Callable[[], float],
    ) -> None:
        self._store = store
        self._log = log
        self._images = images
        self._clock = clock

    async def failed(self, job: JobRecord, error: BaseException) -> None:
        """Record how the work ended; the job keeps whatever it had."""
        if isinstance(error, asyncio.CancelledError):
            await self.end(job, "cancelled")
            return
        if isinstance(error, RedisError):
            error = unavailable(error)
        if not isinstance(error, Problem):
            log.error("job failed", exc_info=error, extra={"job_id": job.id})
            error = Problem(
                500, "Internal error", "an unexpected error occurred; it has been logged"
            )
        job.problem = error.body()
        if "Retry-After" in error.headers:  # a refusal (quota, busy): say when to come back
            job.problem["retry_after"] = error.headers["Retry-After"]
        await self.end(job, "failed")

    async def end(self, job: JobRecord, status: Status) -> None:
        await self.set_status(job, status)
        await self.ending(job)

    async def ending(self, job: JobRecord) -> None:
        """The event that ends a failed or cancelled job's stream."""
        if job.status == "failed":
            await self.emit(job, "failed", {"problem": job.problem})
        else:
            await self.emit(job, "cancelled", {"status": "cancelled"})

    def sink(self, job: JobRecord) -> orchestrator.EventSink:
        """Where the orchestrator's events go: into the record, then the event log."""

        async def sink(kind: str, payload: dict[str, Any]) -> None:
            if kind == "field_group":
                job.case_study.update(payload["fields"])
                await self.emit(job, "field_group", payload)
            elif kind == "structured":
                response: structurer_pb2.StructureResponse = payload["response"]
                # Every field, empty ones included: the answer's schema requires them.
                job.case_study = protojson.to_dict(response.case_study, with_defaults=True)
                job.usage = protojson.to_dict(response.usage, with_defaults=True)
                job.warnings = list(response.warnings)
                job.needs_review = [
                    {"field": item.field, "reason": item.reason} for item in response.needs_review
                ]
                job.structuring_cache = structuring_cache(response.cache, job.request.fresh)
                job.trust = trust.answer_fields(response)
                for warning in job.warnings:
                    await self.emit(job, "warning", {"message": warning})
                await self.set_status(job, "rendering")
            elif kind == "image_finished":
                await self.keep_image(job, payload["component"], payload["result"])
            elif kind == "image_skipped":
                job.skipped[payload["component"]] = payload["reason"]
                old = job.images.pop(payload["component"], None)
                if old and old["sha256"]:
                    await self._images.unpin(old["sha256"])

        return sink

    async def keep_image(
        self, job: JobRecord, component: str, result: image_pb2.ImageResult
    ) -> None:
        data = result.image  # each read of a bytes field copies it: a megabyte or two here
        sha256 = await self._images.put(data, result.media_type, result.sha256) if data else ""
        old = job.images.get(component)
        image = image_entry(component, result, sha256, old["version"] + 1 if old else 1)
        if old and old["sha256"]:
            await self._images.unpin(old["sha256"])
        job.images[component] = image
        job.skipped.pop(component, None)
        await self.emit(job, "image", image_event(image))

    async def set_status(self, job: JobRecord, status: Status, *, save: bool = True) -> None:
        """Change the status (an event); the store gets the record at each status but
        ``structuring``, which adds nothing a reader of the store could use."""
        if job.status == status:
            return
        job.status = status
        job.finished_at = self._clock() if job.finished else None
        if save and status != "structuring":
            await self._store.save(job)
        await self.emit(job, "status", {"status": status})

    async def emit(self, job: JobRecord, type: str, data: dict[str, Any]) -> None:
        await self._log.append(job.id, type, {"job_id": job.id, "trace_id": job.trace_id, **data})
