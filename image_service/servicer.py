"""The ImageGenerator RPC handler: jobs in as they arrive, results out as each one finishes."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping

import grpc
from google.protobuf.message import DecodeError
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan

from casecraft.components import BY_NAME, status_name
from casecraft.prometheus import record_image
from casecraft.telemetry import capture_prompts, span_capture, to_records
from casecraft.v1 import image_pb2, image_pb2_grpc
from image_service.generation_cache import GenerationCache, Served, Source, generation_key
from image_service.providers.chain import ChainedImage, ImageChain, ImageChainFailed
from image_service.validation import job_problem

log = logging.getLogger(__name__)
tracer = trace.get_tracer(__name__)
SERVICE = "image_service"
# A case study needs six jobs at most (three visuals, each regenerated once); the bound keeps one
# call from holding unbounded tasks and results in the process.
MAX_JOBS_PER_CALL = 100
# Results finished together go in one message while it stays under this size: under 1 MiB, the
# smallest message limit either end may be given (three cached drawings are a few hundred
# kilobytes at most; a photograph of a megabyte or two travels alone, as it always did).
TOGETHER_BYTES = 2**20 - 64 * 2**10
# What a result adds to the message's size besides itself (a field tag and a length).
_FRAMING_BYTES = 6
_NOT_RUN = "no job of that message or a later one was run"


class ImageServicer(image_pb2_grpc.ImageGeneratorServicer):
    """Runs every call's jobs under one semaphore shared by the whole process (a sliding window)."""

    def __init__(
        self,
        chain: ImageChain,
        *,
        concurrency: int,
        job_timeout_s: float,
        component_timeouts_s: Mapping[str, float] | None = None,
        cache: GenerationCache | None = None,
    ) -> None:
        self._chain = chain
        self._slots = asyncio.Semaphore(concurrency)
        self._job_timeout_s = job_timeout_s
        self._component_timeouts_s = dict(component_timeouts_s or {})
        self._cache = cache

    async def Generate(
        self,
        request_iterator: AsyncIterator[image_pb2.ImageJobs],
        context: grpc.aio.ServicerContext,
    ) -> AsyncIterator[image_pb2.ImageResults]:
        """One result per accepted job, in finishing order; those finished together in one
        message. A message that cannot run (malformed, unparsable, over the call's job limit)
        stops the input: the jobs accepted before it still finish and send their results, then
        the call ends with INVALID_ARGUMENT."""
        call = _Call(self.run_job)
        reader = asyncio.create_task(call.read(request_iterator))
        try:
            while results := await call.next_results():
                for together in _messages(results, TOGETHER_BYTES):
                    yield image_pb2.ImageResults(results=together)
            await reader
            if call.problem is not None:
                await context.abort(grpc.StatusCode.INVALID_ARGUMENT, call.problem)
        finally:
            reader.cancel()
            call.cancel()

    async def run_job(self, job: image_pb2.ImageJob) -> image_pb2.ImageResult:
        """Serve the job from the generation cache, or wait for a slot and generate, within the
        job's deadline (a ``cache_only`` job: the cache or IMAGE_STATUS_NOT_CACHED); never
        raises for job failures.

        Two spans, siblings below the RPC's: ``image.wait_for_slot`` and ``image.generate`` (the
        provider attempts are its events, their HTTP calls its children). The last of them to
        run carries the outcome; a job that timed out waiting never starts ``image.generate``.
        A job answered without a provider call (cached, or sharing an identical job's call) has
        only ``image.generate``, from the job's start, with ``casecraft.cache`` saying which.
        """
        component = BY_NAME[job.WhichOneof("data") or ""]
        default_s = self._component_timeouts_s.get(component.name, self._job_timeout_s)
        timeout_s = job.timeout_ms / 1000 if job.timeout_ms else default_s
        result = image_pb2.ImageResult(job_id=job.job_id, component=component.enum)
        started_ns = time.time_ns()
        source: Source = "off" if self._cache is None else "bypass" if job.bypass_cache else "miss"
        with span_capture().capture() as spans:
            steps = _Steps(component.name, spans)
            try:
                async with asyncio.timeout(timeout_s):
                    served = await self._serve(job, lambda: self._generate(job, steps))
                source = served.source
                chained = served.image
                image = chained.image
                result.status = image_pb2.IMAGE_STATUS_OK
                result.image = image.data
                result.media_type = image.media_type
                result.width, result.height = image.width, image.height
                result.sha256 = image.sha256
                result.provider = chained.provider
                result.model = image.model
                result.attempts = chained.attempts
                result.cache_hit = served.cache_hit
            except NotCached:
                result.status = image_pb2.IMAGE_STATUS_NOT_CACHED
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
            last = steps.last or steps.start("image.generate", start_time=started_ns)
            last.set_attribute("casecraft.cache", source)
            _describe(last, job, result)
            last.end()
            record_image(component.name, result.cache_hit, status_name(result.status))
            result.spans.extend(to_records(list(spans), SERVICE))
        return result

    async def _serve(
        self, job: image_pb2.ImageJob, generate: Callable[[], Awaitable[ChainedImage]]
    ) -> Served:
        """The job's image through the generation cache (when it is on); NotCached when the job
        asks the cache only and the image is not there."""
        if self._cache is None:
            if job.cache_only:
                raise NotCached
            return Served(await generate(), "off")
        key = generation_key(job, self._chain.next_provider())
        if job.cache_only:
            served = await self._cache.cached(key)
            if served is None:
                raise NotCached
            return served
        if job.bypass_cache:
            return await self._cache.refresh(key, generate)
        return await self._cache.serve(key, generate)

    async def _generate(self, job: image_pb2.ImageJob, steps: _Steps) -> ChainedImage:
        """Wait for a slot, then run the job through the provider chain."""
        wait = steps.start("image.wait_for_slot")
        with trace.use_span(wait, end_on_exit=False, record_exception=False):
            await self._slots.acquire()
        wait.end()
        try:
            generate = steps.start("image.generate")
            with trace.use_span(generate, end_on_exit=False, record_exception=False):
                return await self._chain.generate(job)
        finally:
            self._slots.release()


def _messages(
    results: list[image_pb2.ImageResult], budget: int
) -> Iterator[list[image_pb2.ImageResult]]:
    """``results`` in order, as few messages as keep each within ``budget`` bytes (a result
    larger than that alone)."""
    together: list[image_pb2.ImageResult] = []
    size = 0
    for result in results:
        result_size = result.ByteSize() + _FRAMING_BYTES
        if together and size + result_size > budget:
            yield together
            together, size = [], 0
        together.append(result)
        size += result_size
    yield together


class NotCached(Exception):
    """A cache_only job's image is not in the generation cache."""


class _Call:
    """One Generate call's jobs: each started when its message arrives, results as they finish."""

    def __init__(
        self, run_job: Callable[[image_pb2.ImageJob], Awaitable[image_pb2.ImageResult]]
    ) -> None:
        self.problem: str | None = None
        self._run_job = run_job
        self._ids: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._outbox: asyncio.Queue[image_pb2.ImageResult | None] = asyncio.Queue()
        self._input_open = True
        self._finished = 0

    async def read(self, requests: AsyncIterator[image_pb2.ImageJobs]) -> None:
        """Start each message's jobs until the input ends or a message cannot run (``problem``)."""
        received = 0
        try:
            async for batch in requests:
                received += 1
                problem = self._batch_problem(batch)
                if problem is not None:
                    self.problem = f"{problem} ({_NOT_RUN})"
                    return
                for job in batch.jobs:
                    self._start(job)
        except DecodeError as exc:
            self.problem = (
                f"message {received + 1}: not a valid casecraft.v1.ImageJobs ({exc}); "
                f"send it as that message type, its strings UTF-8 ({_NOT_RUN})"
            )
        finally:
            self._outbox.put_nowait(None)

    async def next_results(self) -> list[image_pb2.ImageResult]:
        """The results finished since the last call, after waiting for one if none has; empty
        once the input has ended and every result is out. (A coroutine, not a generator: each
        message would pay a second yield.)"""
        results: list[image_pb2.ImageResult] = []
        while not results and (self._input_open or self._finished < len(self._ids)):
            item: image_pb2.ImageResult | None = await self._outbox.get()
            while True:
                if item is None:
                    self._input_open = False
                else:
                    results.append(item)
                if self._outbox.empty():
                    break
                item = self._outbox.get_nowait()
        self._finished += len(results)
        return results

    def cancel(self) -> None:
        for task in self._tasks:
            task.cancel()

    def _batch_problem(self, batch: image_pb2.ImageJobs) -> str | None:
        """Why this message's jobs cannot run, or None; a message runs whole or not at all."""
        if len(self._ids) + len(batch.jobs) > MAX_JOBS_PER_CALL:
            return (
                f"jobs: {len(self._ids) + len(batch.jobs)} in this call, at most "
                f"{MAX_JOBS_PER_CALL} are accepted; send the others in another call"
            )
        ids = set(self._ids)
        for job in batch.jobs:
            problem = job_problem(job, ids)
            if problem is not None:
                return problem
            ids.add(job.job_id)
        return None

    def _start(self, job: image_pb2.ImageJob) -> None:
        self._ids.add(job.job_id)
        task = asyncio.create_task(self._run(job))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, job: image_pb2.ImageJob) -> None:
        self._outbox.put_nowait(await self._run_job(job))


class _Steps:
    """The steps of one image job, below the current span, collected into the job's ``spans``;
    ``last`` is the latest started."""

    def __init__(self, component: str, spans: list[ReadableSpan]) -> None:
        self.last: trace.Span | None = None
        self._component = component
        self._spans = spans

    def start(self, name: str, *, start_time: int | None = None) -> trace.Span:
        span = tracer.start_span(
            name,
            attributes={"casecraft.component": self._component, "gen_ai.output.type": "image"},
            start_time=start_time,
        )
        span_capture().watch(span, self._spans)
        self.last = span
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
    if result.status not in (image_pb2.IMAGE_STATUS_OK, image_pb2.IMAGE_STATUS_NOT_CACHED):
        span.set_attribute("error.type", status_name(result.status))
        span.set_status(trace.StatusCode.ERROR, result.error)
