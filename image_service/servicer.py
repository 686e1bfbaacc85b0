"""The ImageGenerator RPC handler: jobs in as they arrive, results out as each one finishes."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import AsyncIterator, Mapping

import grpc
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan

from casecraft.components import BY_NAME, status_name
from casecraft.metrics import record_image
from casecraft.telemetry import capture_prompts, span_capture, to_records
from casecraft.v1 import image_pb2, image_pb2_grpc
from image_service.providers.chain import ImageChain, ImageChainFailed
from image_service.validation import job_problem

log = logging.getLogger(__name__)
tracer = trace.get_tracer(__name__)
SERVICE = "image_service"


class _EndOfInput:
    pass


class _InvalidJob:
    def __init__(self, problem: str) -> None:
        self.problem = problem


class ImageServicer(image_pb2_grpc.ImageGeneratorServicer):
    """Runs every call's jobs under one semaphore shared by the whole process (a sliding window)."""

    def __init__(
        self,
        chain: ImageChain,
        *,
        concurrency: int,
        job_timeout_s: float,
        component_timeouts_s: Mapping[str, float] | None = None,
    ) -> None:
        self._chain = chain
        self._slots = asyncio.Semaphore(concurrency)
        self._job_timeout_s = job_timeout_s
        self._component_timeouts_s = dict(component_timeouts_s or {})

    async def Generate(
        self,
        request_iterator: AsyncIterator[image_pb2.ImageJobs],
        context: grpc.aio.ServicerContext,
    ) -> AsyncIterator[image_pb2.ImageResult]:
        outbox: asyncio.Queue[image_pb2.ImageResult | _EndOfInput | _InvalidJob] = asyncio.Queue()
        jobs: set[asyncio.Task[None]] = set()

        async def run(job: image_pb2.ImageJob) -> None:
            outbox.put_nowait(await self.run_job(job))

        async def read() -> None:
            seen: set[str] = set()
            try:
                async for batch in request_iterator:
                    for job in batch.jobs:
                        problem = job_problem(job, seen)
                        if problem is not None:
                            outbox.put_nowait(_InvalidJob(problem))
                            return
                        seen.add(job.job_id)
                        task = asyncio.create_task(run(job))
                        jobs.add(task)
                        task.add_done_callback(jobs.discard)
            finally:
                outbox.put_nowait(_EndOfInput())

        reader = asyncio.create_task(read())
        try:
            input_open, finished = True, 0
            while input_open or jobs or not outbox.empty():
                item = await outbox.get()
                if isinstance(item, _EndOfInput):
                    input_open = False
                elif isinstance(item, _InvalidJob):
                    await context.abort(grpc.StatusCode.INVALID_ARGUMENT, item.problem)
                else:
                    finished += 1
                    yield item
        finally:
            reader.cancel()
            for task in list(jobs):
                task.cancel()

    async def run_job(self, job: image_pb2.ImageJob) -> image_pb2.ImageResult:
        """Wait for a slot and generate, within the job's deadline; never raises for job failures.

        Two spans, siblings below the RPC's: ``image.wait_for_slot`` and ``image.generate`` (the
        provider attempts are its events, their HTTP calls its children). The last of them to
        run carries the outcome; a job that timed out waiting never starts ``image.generate``.
        """
        component = BY_NAME[job.WhichOneof("data") or ""]
        default_s = self._component_timeouts_s.get(component.name, self._job_timeout_s)
        timeout_s = job.timeout_ms / 1000 if job.timeout_ms else default_s
        result = image_pb2.ImageResult(job_id=job.job_id, component=component.enum)
        with span_capture().capture() as spans:
            last = wait = _step("image.wait_for_slot", component.name, spans)
            try:
                async with asyncio.timeout(timeout_s):
                    with trace.use_span(wait, end_on_exit=False, record_exception=False):
                        await self._slots.acquire()
                    wait.end()
                    try:
                        last = _step("image.generate", component.name, spans)
                        with trace.use_span(last, end_on_exit=False, record_exception=False):
                            chained = await self._chain.generate(job)
                    finally:
                        self._slots.release()
                image = chained.image
                result.status = image_pb2.IMAGE_STATUS_OK
                result.image = image.data
                result.media_type = image.media_type
                result.width, result.height = image.width, image.height
                result.sha256 = hashlib.sha256(image.data).hexdigest()
                result.provider = chained.provider
                result.model = image.model
                result.attempts = chained.attempts
            except TimeoutError:
                result.status = image_pb2.IMAGE_STATUS_TIMED_OUT
                result.error = f"{component.name}: timed out after {timeout_s:g} s"
            except ImageChainFailed as exc:
                log.warning(
                    "image job failed", extra={"component": component.name, "error": str(exc)}
                )
                result.status = image_pb2.IMAGE_STATUS_FAILED
                result.error = f"{component.name}: {exc}"
                result.attempts = exc.attempts
            except Exception as exc:
                log.warning("image job failed", extra={"component": component.name}, exc_info=True)
                result.status = image_pb2.IMAGE_STATUS_FAILED
                result.error = f"{component.name}: {exc}"
            _describe(last, job, result)
            last.end()
            record_image(component.name, result.cache_hit, status_name(result.status))
            result.spans.extend(to_records(list(spans), SERVICE))
        return result


def _step(name: str, component: str, spans: list[ReadableSpan]) -> trace.Span:
    """A step of one image job, below the current span, collected into the job's ``spans``."""
    span = tracer.start_span(
        name, attributes={"casecraft.component": component, "gen_ai.output.type": "image"}
    )
    span_capture().watch(span, spans)
    return span


def _describe(span: trace.Span, job: image_pb2.ImageJob, result: image_pb2.ImageResult) -> None:
    """The job's outcome on its last span: provider, model, attempts, cache hit, or why it failed."""
    if result.provider:
        span.set_attributes(
            {"gen_ai.provider.name": result.provider, "gen_ai.request.model": result.model}
        )
    span.set_attributes(
        {"casecraft.attempts": result.attempts, "casecraft.cache_hit": result.cache_hit}
    )
    if capture_prompts() and job.prompt:
        messages = [{"role": "user", "parts": [{"type": "text", "content": job.prompt}]}]
        span.set_attribute("gen_ai.input.messages", json.dumps(messages))
    if result.status != image_pb2.IMAGE_STATUS_OK:
        span.set_attribute("error.type", status_name(result.status))
        span.set_status(trace.StatusCode.ERROR, result.error)
