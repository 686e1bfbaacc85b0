"""One case study's work: structure the notes, start each image once its fields are ready.

The orchestration is a function of events in (structuring events, image results) and results out,
so it can run behind an HTTP request or a background job alike.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import grpc
from google.protobuf.message import Message

from casecraft import protojson
from casecraft.components import ALL, GROUP_FIELDS, ComponentSpec
from casecraft.limits import clip_job_texts
from casecraft.v1 import case_study_pb2, image_pb2, structurer_pb2
from gateway.backends import IMAGES, STRUCTURER, Backends
from gateway.problems import Problem, from_rpc_error
from gateway.rpc import Rpc
from gateway.trust import LOGO_WITHHELD

# What happens as it happens: ("field_group", {"group", "fields"}), ("structured", {"response"}),
# ("image_started", {"component", "job_id"}), ("image_finished", {"component", "result"}),
# ("image_skipped", {"component", "reason"}).
EventSink = Callable[[str, dict[str, Any]], Awaitable[None]]


@dataclass(frozen=True)
class Plan:
    notes: str
    components: tuple[ComponentSpec, ...] = ALL
    logo: bytes = b""
    logo_media_type: str = ""
    fast: bool = False
    anonymize: bool = False
    logo_withheld: bool = False
    accent_color: str = ""
    # Structure again whatever the structuring cache holds.
    fresh: bool = False
    # Make the images again whatever the image service's cache holds (a regeneration).
    regenerate: bool = False
    early_fanout: bool = True
    structure_deadline_s: float = 300.0
    images_deadline_s: float = 300.0
    per_image_deadline_s: float = 0.0
    # How long to wait for a structurer that is not serving before calling it (0: call at once).
    backend_wait_s: float = 0.0


@dataclass
class Outcome:
    case_study: case_study_pb2.CaseStudy
    usage: structurer_pb2.Usage
    warnings: list[str]
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

    def assume_sent(self, component: str, data: Message) -> None:
        """Treat ``data`` as what ``component`` was last made from (an image made earlier)."""
        self._sent[component] = ("", data)

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
                self._sent[component.name] = ("", data)  # the call failed: this image too
                await self._fail_unfinished(task.exception())
                return
        self._jobs_sent[component.name] = count = self._jobs_sent.get(component.name, 0) + 1
        job_id = component.name if count == 1 else f"{component.name}#{count}"
        job = image_pb2.ImageJob(
            job_id=job_id,
            options=image_pb2.ImageOptions(
                fast=self._plan.fast, accent_color=self._plan.accent_color
            ),
            timeout_ms=int(self._plan.per_image_deadline_s * 1000),
            bypass_cache=self._plan.regenerate,
        )
        getattr(job, component.name).CopyFrom(data)
        if component.name == "hero" and self._plan.logo:
            job.reference_image = self._plan.logo
            job.reference_media_type = self._plan.logo_media_type
        self._sent[component.name] = (job_id, data)
        await self._sink("image_started", {"component": component.name, "job_id": job_id})
        self._outbox.put_nowait(job)

    async def _fail_unfinished(self, error: BaseException | None) -> None:
        """The image call failed: every image sent and not finished fails with the reason.
        The case study stays; the images can be made again later."""
        if not isinstance(error, grpc.aio.AioRpcError) and self._rpc is not None:
            # A write to a call that had ended (the writer may see it first): the call's own
            # status says why, in the same words the reader's error would have.
            call = self._rpc.call
            error = grpc.aio.AioRpcError(
                await call.code(),
                grpc.aio.Metadata(),
                await call.trailing_metadata(),
                await call.details(),
            )
        if isinstance(error, grpc.aio.AioRpcError):
            reason = from_rpc_error(error, IMAGES).detail
        else:
            reason = f"{IMAGES} failed"
        for name in self._sent:
            if name not in self.results:
                result = image_pb2.ImageResult(status=image_pb2.IMAGE_STATUS_FAILED, error=reason)
                self.results[name] = result
                await self._sink("image_finished", {"component": name, "result": result})

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
            await self._sink("image_finished", {"component": name, "result": result})

    async def finish(self) -> None:
        if self._rpc is None:
            return
        self._outbox.put_nowait(None)
        for task in self._tasks:
            try:
                await task
            except (grpc.aio.AioRpcError, asyncio.InvalidStateError) as error:
                await self._fail_unfinished(error)

    def cancel(self) -> None:
        for task in self._tasks:
            if task.done() and not task.cancelled():
                task.exception()  # seen: the request already fails for another reason
            task.cancel()
        if self._rpc is not None:
            self._rpc.call.cancel()  # the reader's cancellation ends the call's span


_CASE_STUDY_FIELDS = tuple(f.name for f in case_study_pb2.CaseStudy.DESCRIPTOR.fields)


async def _ignore(kind: str, payload: dict[str, Any]) -> None:
    return None


async def run(backends: Backends, plan: Plan, sink: EventSink = _ignore) -> Outcome:
    """Structure the notes and make the planned images; raises Problem when structuring fails.
    An image that cannot be made (the image service is down, say) is a failed ImageResult: the
    case study, which cost the most, is never thrown away for it."""
    images = _ImageStream(backends, plan, sink)
    try:
        final = await _structure(backends, plan, images, sink)
        if plan.logo_withheld:
            final.warnings.append(LOGO_WITHHELD)
        await sink("structured", {"response": final})
        skipped = await _send_changed(images, plan.components, final.case_study, sink)
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
        images=images.results,
        skipped=skipped,
        spans=spans,
    )


async def remake(
    backends: Backends,
    plan: Plan,
    before: case_study_pb2.CaseStudy | None,
    after: case_study_pb2.CaseStudy,
    sink: EventSink = _ignore,
) -> tuple[dict[str, image_pb2.ImageResult], dict[str, str]]:
    """Make again the planned images whose data differs between the case study ``before`` an
    edit and ``after`` it (all of them when ``before`` is None): the images made from fields that
    changed, through the same path as a re-ask's. Answers the new images and the skipped ones."""
    images = _ImageStream(backends, plan, sink)
    if before is not None:
        for component in plan.components:
            data = job_data(component, before)
            if not isinstance(data, str):
                images.assume_sent(component.name, data)
    try:
        skipped = await _send_changed(images, plan.components, after, sink)
        await images.finish()
    except BaseException:
        images.cancel()
        raise
    return images.results, skipped


async def _send_changed(
    images: _ImageStream,
    components: tuple[ComponentSpec, ...],
    case_study: case_study_pb2.CaseStudy,
    sink: EventSink,
) -> dict[str, str]:
    """Send the job of each component whose data is not what it was last made from; answer the
    components with nothing to draw, and why."""
    skipped: dict[str, str] = {}
    for component in components:
        data = job_data(component, case_study)
        if isinstance(data, str):
            skipped[component.name] = data
            await sink("image_skipped", {"component": component.name, "reason": data})
        elif images.sent_data(component.name) != data:
            await images.send(component, data)
    return skipped


async def _structure(
    backends: Backends,
    plan: Plan,
    images: _ImageStream,
    sink: EventSink,
) -> structurer_pb2.StructureResponse:
    request = structurer_pb2.StructureRequest(
        notes=plan.notes,
        options=structurer_pb2.StructureOptions(
            fast=plan.fast, anonymize=plan.anonymize, fresh=plan.fresh
        ),
    )
    await backends.until_ready(STRUCTURER, plan.backend_wait_s)
    rpc = await backends.structure_stream(request, timeout_s=plan.structure_deadline_s)
    if plan.early_fanout and plan.components:
        # The image call is set up while the structurer works, so the first job that is ready
        # goes out on a call the image service already answers: its set-up (work in both
        # services) is off the request's critical path.
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
    if sink is not _ignore:
        # Only this group's fields: the partial also holds every earlier group's.
        names = GROUP_FIELDS.get(ready.group, ())
        group = case_study_pb2.CaseStudy()
        group.CopyFrom(ready.partial)
        for other in _CASE_STUDY_FIELDS:
            if other not in names:
                group.ClearField(other)
        await sink(
            "field_group",
            {
                "group": structurer_pb2.FieldGroup.Name(ready.group)
                .removeprefix("FIELD_GROUP_")
                .lower(),
                "fields": protojson.to_dict(group),
            },
        )
    if not plan.early_fanout:
        return
    for component in plan.components:
        if component.needs != ready.group:
            continue
        data = job_data(component, ready.partial)
        if not isinstance(data, str):  # a missing group is decided against the final case study
            await images.send(component, data)
