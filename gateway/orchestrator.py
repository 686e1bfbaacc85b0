"""One case study's work: structure the notes, start each image once its fields are ready.

The orchestration is a function of events in (structuring events, image results) and results out,
so it can run behind an HTTP request or a background job alike.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import grpc
from google.protobuf.message import Message

from casecraft.components import ALL, ComponentSpec
from casecraft.limits import clip_job_texts
from casecraft.v1 import case_study_pb2, image_pb2, structurer_pb2
from gateway.backends import IMAGES, STRUCTURER, Backends
from gateway.problems import Problem, from_rpc_error
from gateway.rpc import Rpc

EventSink = Callable[[str, dict[str, Any]], None]


@dataclass(frozen=True)
class Plan:
    notes: str
    components: tuple[ComponentSpec, ...] = ALL
    logo: bytes = b""
    logo_media_type: str = ""
    fast: bool = False
    accent_color: str = ""
    # Structure again whatever the structuring cache holds.
    fresh: bool = False
    early_fanout: bool = True
    structure_deadline_s: float = 300.0
    images_deadline_s: float = 300.0
    per_image_deadline_s: float = 0.0


@dataclass
class Outcome:
    case_study: case_study_pb2.CaseStudy
    usage: structurer_pb2.Usage
    warnings: list[str]
    structuring_cache: structurer_pb2.CacheOutcome = structurer_pb2.CACHE_OUTCOME_UNSPECIFIED
    images: dict[str, image_pb2.ImageResult] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    spans: list[case_study_pb2.SpanRecord] = field(default_factory=list)


def job_data(component: ComponentSpec, case_study: case_study_pb2.CaseStudy) -> Message | str:
    """The typed data ``component`` draws from this case study, or why there is nothing to draw.
    Text over the image service's limits is shortened (a model may write a very long field):
    otherwise the service would refuse the job, and with it the others of its message."""
    data = _job_data(component, case_study)
    if not isinstance(data, str):
        clip_job_texts(component.name, data)
    return data


def _job_data(component: ComponentSpec, case_study: case_study_pb2.CaseStudy) -> Message | str:
    if component.name == "hero":
        if not (case_study.title or case_study.client_name):
            return "the notes name neither a client nor a title"
        return image_pb2.HeroData(
            client_name=case_study.client_name,
            industry=case_study.industry,
            title=case_study.title,
            subtitle=case_study.subtitle,
        )
    if component.name == "metrics":
        if not case_study.metrics:
            return "no before/after metrics were found in the notes"
        return image_pb2.MetricsData(client_name=case_study.client_name, metrics=case_study.metrics)
    if not case_study.phases:
        return "no implementation phases were found in the notes"
    return image_pb2.TimelineData(client_name=case_study.client_name, phases=case_study.phases)


class _ImageStream:
    """One bidirectional Generate call per case study: jobs go out as their data is ready.

    A writer task sends the jobs in order, so the structurer's stream is read on while a write
    completes (a write waits for the transport, a wake-up of the loop each time); the jobs queued
    meanwhile, or ready together, go out in one message.
    """

    def __init__(self, backends: Backends, plan: Plan, sink: EventSink) -> None:
        self._plan = plan
        self._sink = sink
        self._rpc: Rpc | None = None
        self._backends = backends
        self._sent: dict[str, tuple[str, Message]] = {}
        self._jobs_sent: dict[str, int] = {}
        self.results: dict[str, image_pb2.ImageResult] = {}
        self._outbox: asyncio.Queue[image_pb2.ImageJob | None] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []

    def sent_data(self, component: str) -> Message | None:
        entry = self._sent.get(component)
        return entry[1] if entry else None

    async def open(self) -> None:
        """Start the one call every image of this case study goes through (its client span
        starts here), unless it has started already."""
        if self._rpc is None:
            self._rpc = await self._backends.generate(timeout_s=self._plan.images_deadline_s)
            self._tasks = [
                asyncio.create_task(self._write(self._rpc)),
                asyncio.create_task(self._read(self._rpc)),
            ]

    async def send(self, component: ComponentSpec, data: Message) -> None:
        await self.open()
        for task in self._tasks:
            if task.done() and task.exception() is not None:
                await self._raise_call_error(task.exception())  # the call failed: say so now
        self._jobs_sent[component.name] = count = self._jobs_sent.get(component.name, 0) + 1
        job_id = component.name if count == 1 else f"{component.name}#{count}"
        job = image_pb2.ImageJob(
            job_id=job_id,
            options=image_pb2.ImageOptions(
                fast=self._plan.fast, accent_color=self._plan.accent_color
            ),
            timeout_ms=int(self._plan.per_image_deadline_s * 1000),
        )
        getattr(job, component.name).CopyFrom(data)
        if component.name == "hero" and self._plan.logo:
            job.reference_image = self._plan.logo
            job.reference_media_type = self._plan.logo_media_type
        self._sent[component.name] = (job_id, data)
        self._sink("image_started", {"component": component.name, "job_id": job_id})
        self._outbox.put_nowait(job)

    async def _raise_call_error(self, error: BaseException | None) -> None:
        if not isinstance(error, grpc.aio.AioRpcError) and self._rpc is not None:
            code = await self._rpc.call.code()
            raise Problem(
                503 if code is grpc.StatusCode.UNAVAILABLE else 502,
                "Backend unavailable" if code is grpc.StatusCode.UNAVAILABLE else "Backend error",
                f"{IMAGES} failed: {await self._rpc.call.details()}",
                backend=IMAGES,
            ) from error
        assert isinstance(error, grpc.aio.AioRpcError)
        raise from_rpc_error(error, IMAGES) from error

    async def _write(self, rpc: Rpc) -> None:
        while True:
            queued = [await self._outbox.get()]
            while not self._outbox.empty():
                queued.append(self._outbox.get_nowait())
            jobs = [job for job in queued if job is not None]
            if jobs:
                await rpc.call.write(image_pb2.ImageJobs(jobs=jobs))
            if queued[-1] is None:
                await rpc.call.done_writing()
                return

    async def _read(self, rpc: Rpc) -> None:
        async for result in rpc.responses:
            current = {job_id: name for name, (job_id, _) in self._sent.items()}
            name = current.get(result.job_id)
            if name is None:
                continue  # superseded by a regeneration
            self.results[name] = result
            self._sink("image_finished", {"component": name, "status": result.status})

    async def finish(self) -> None:
        if self._rpc is None:
            return
        self._outbox.put_nowait(None)
        for task in self._tasks:
            try:
                await task
            except (grpc.aio.AioRpcError, asyncio.InvalidStateError) as error:
                await self._raise_call_error(error)

    def cancel(self) -> None:
        for task in self._tasks:
            if task.done() and not task.cancelled():
                task.exception()  # seen: the request already fails for another reason
            task.cancel()
        if self._rpc is not None:
            self._rpc.call.cancel()  # the reader's cancellation ends the call's span


def _ignore(kind: str, payload: dict[str, Any]) -> None:
    return None


async def run(backends: Backends, plan: Plan, sink: EventSink = _ignore) -> Outcome:
    """Structure the notes and make the planned images; raises Problem when a backend fails."""
    images = _ImageStream(backends, plan, sink)
    skipped: dict[str, str] = {}
    try:
        final = await _structure(backends, plan, images, sink)
        for component in plan.components:
            data = job_data(component, final.case_study)
            if isinstance(data, str):
                skipped[component.name] = data
                sink("image_skipped", {"component": component.name, "reason": data})
            elif images.sent_data(component.name) != data:
                await images.send(component, data)
        await images.finish()
    except BaseException:
        images.cancel()
        raise
    spans = list(final.spans)
    for result in images.results.values():
        spans.extend(result.spans)
    return Outcome(
        case_study=final.case_study,
        usage=final.usage,
        warnings=list(final.warnings),
        structuring_cache=final.cache,
        images=images.results,
        skipped=skipped,
        spans=spans,
    )


async def _structure(
    backends: Backends,
    plan: Plan,
    images: _ImageStream,
    sink: EventSink,
) -> structurer_pb2.StructureResponse:
    request = structurer_pb2.StructureRequest(
        notes=plan.notes, options=structurer_pb2.StructureOptions(fast=plan.fast, fresh=plan.fresh)
    )
    rpc = await backends.structure_stream(request, timeout_s=plan.structure_deadline_s)
    if plan.early_fanout and plan.components:
        # The image call is set up while the structurer works, so the first job that is ready
        # goes out on a call the image service already answers: its set-up (about a millisecond
        # of both services' CPU) is off the request's critical path.
        await images.open()
    return await _consume(rpc, plan, images, sink)


async def _consume(
    rpc: Rpc, plan: Plan, images: _ImageStream, sink: EventSink
) -> structurer_pb2.StructureResponse:
    final: structurer_pb2.StructureResponse | None = None
    try:
        async for event in rpc.responses:
            for ready in event.field_groups:
                await _on_field_group(ready, plan, images, sink)
            if event.HasField("final"):
                # The stream ends right after; reading to its end ends the call's span too.
                final = event.final
    except grpc.aio.AioRpcError as error:
        raise from_rpc_error(error, STRUCTURER) from error
    finally:
        await rpc.close()
    if final is not None:
        return final
    raise Problem(502, "Backend error", "structurer_service ended its stream without a case study")


async def _on_field_group(
    ready: structurer_pb2.FieldGroupReady, plan: Plan, images: _ImageStream, sink: EventSink
) -> None:
    sink("field_group", {"group": structurer_pb2.FieldGroup.Name(ready.group)})
    if not plan.early_fanout:
        return
    for component in plan.components:
        if component.needs != ready.group:
            continue
        data = job_data(component, ready.partial)
        if not isinstance(data, str):  # a missing group is decided against the final case study
            await images.send(component, data)
