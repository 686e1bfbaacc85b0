"""One case study's work: structure the notes, start each image once its fields are ready.

The orchestration is a function of events in (structuring events, image results) and results out,
so it can run behind an HTTP request or a background job alike.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import grpc
from google.protobuf.message import Message

from casecraft import protojson
from casecraft.byte_cache import MemoryCache
from casecraft.components import ALL, BY_NAME, GROUP_FIELDS, ComponentSpec
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
    # What the structurer answered last time for these notes and options: the images it asks
    # for are asked of the image service's cache while the structurer works (``_ImageStream``).
    expected: case_study_pb2.CaseStudy | None = None


class LastAnswers:
    """The case study the structurer last answered for each recent (notes, options), kept in this
    process within ``max_bytes`` (least recently used out first): what a repeated request's
    images are expected to be drawn from (``Plan.expected``). Only a guess: the structurer still
    answers, and an expected image is used only when the answer's data matches."""

    def __init__(self, max_bytes: int = 4 << 20) -> None:
        self._answers = MemoryCache(max_bytes)

    async def expected(self, plan: Plan) -> case_study_pb2.CaseStudy | None:
        """What ``plan``'s structuring will most likely answer; None when unknown, or when the
        plan asks for a fresh answer."""
        if plan.fresh:
            return None
        data = await self._answers.get(_answer_key(plan))
        return case_study_pb2.CaseStudy.FromString(data) if data is not None else None

    async def remember(self, plan: Plan, case_study: case_study_pb2.CaseStudy) -> None:
        await self._answers.set(_answer_key(plan), case_study.SerializeToString())


def _answer_key(plan: Plan) -> str:
    """The structuring request's inputs: what the structurer's own cache key starts from."""
    request = _structure_request(plan)
    request.options.fresh = False
    return hashlib.sha256(request.SerializeToString(deterministic=True)).hexdigest()


def _structure_request(plan: Plan) -> structurer_pb2.StructureRequest:
    return structurer_pb2.StructureRequest(
        notes=plan.notes,
        options=structurer_pb2.StructureOptions(
            fast=plan.fast, anonymize=plan.anonymize, fresh=plan.fresh
        ),
    )


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

    Images can be *expected* before their data is known (a repeated request: the structurer will
    most likely answer what it answered last time): a ``cache_only`` job asks the image service's
    cache for each at once, so the cache lookups run beside the structurer's instead of after it.
    An expected image is used only when its component's data turns out the same; it counts as
    started then, and if the cache did not have it, a job that makes it is sent. Nothing is made
    for an expectation that turns out wrong.
    """

    def __init__(self, backends: Backends, plan: Plan, sink: EventSink) -> None:
        self._plan = plan
        self._sink = sink
        self._rpc: Rpc | None = None
        self._backends = backends
        self._sent: dict[str, tuple[str, Message]] = {}
        self._jobs_sent: dict[str, int] = {}
        # Expected images: the job asking the cache, by component, until the data is known.
        self._expected: dict[str, tuple[str, Message]] = {}
        # Their results that came before the data did, by job id.
        self._early: dict[str, image_pb2.ImageResult] = {}
        # Expected jobs whose data turned out the same and whose result has not come yet: the
        # jobs' input stays open for them (a miss is then made by a job of its own).
        self._unanswered: set[str] = set()
        self._asked_cache: set[str] = set()
        # Jobs whose result has been through the sink (stored, announced): only then is it in.
        self._delivered: set[str] = set()
        self._closing = self._closed = False
        # Set when a result has been delivered: ``finish`` looks again whether every image is in.
        self._delivery = asyncio.Event()
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

    async def expect(self, component: ComponentSpec, data: Message) -> None:
        """Ask the image service's cache for ``component``'s image drawn from ``data``, the data
        it will most likely have; ``send`` with the same data uses the answer."""
        await self.open()
        job = self._job(component, data, cache_only=True)
        self._expected[component.name] = (job.job_id, data)
        self._asked_cache.add(job.job_id)
        self._outbox.put_nowait(job)

    async def send(self, component: ComponentSpec, data: Message) -> None:
        await self.open()
        for task in self._tasks:
            if task.done() and task.exception() is not None:
                self._sent[component.name] = ("", data)  # the call failed: this image too
                await self._fail_unfinished(task.exception())
                return
        previous = self._sent.get(component.name)
        expected = self._expected.pop(component.name, None)
        if expected is not None and expected[1] == data:
            job_id = expected[0]
            self._sent[component.name] = expected
            self._replaced(previous)
            early = self._early.pop(job_id, None)
            if early is None:
                self._unanswered.add(job_id)
            else:
                await self._answered(component.name, early)
            return
        job = self._job(component, data)
        self._sent[component.name] = (job.job_id, data)
        # Queued before anything awaits, and before the job it replaces stops holding the input
        # open: the input cannot end in between.
        self._outbox.put_nowait(job)
        self._replaced(previous)
        await self._sink("image_started", {"component": component.name, "job_id": job.job_id})

    def _replaced(self, previous: tuple[str, Message] | None) -> None:
        """A job no longer wanted (a newer one for its component was sent) holds nothing open."""
        if previous is not None:
            self._unanswered.discard(previous[0])
            self._close_if_done()

    def _job(
        self, component: ComponentSpec, data: Message, *, cache_only: bool = False
    ) -> image_pb2.ImageJob:
        self._jobs_sent[component.name] = count = self._jobs_sent.get(component.name, 0) + 1
        job = image_pb2.ImageJob(
            job_id=component.name if count == 1 else f"{component.name}#{count}",
            options=image_pb2.ImageOptions(
                fast=self._plan.fast, accent_color=self._plan.accent_color
            ),
            timeout_ms=int(self._plan.per_image_deadline_s * 1000),
            bypass_cache=self._plan.regenerate and not cache_only,
            cache_only=cache_only,
        )
        getattr(job, component.name).CopyFrom(data)
        if component.name == "hero" and self._plan.logo:
            job.reference_image = self._plan.logo
            job.reference_media_type = self._plan.logo_media_type
        return job

    async def _answered(self, name: str, result: image_pb2.ImageResult) -> None:
        """The result of the job last sent for ``name``. An expected image counts only if the
        cache had it (it starts and finishes now); otherwise a job that makes it is sent."""
        job_id, data = self._sent[name]
        if job_id in self._asked_cache and result.status != image_pb2.IMAGE_STATUS_OK:
            await self.send(BY_NAME[name], data)  # it replaces this job, which then holds nothing
            return
        self._unanswered.discard(job_id)
        self._close_if_done()
        if job_id in self._asked_cache:
            await self._sink("image_started", {"component": name, "job_id": job_id})
        self.results[name] = result
        await self._sink("image_finished", {"component": name, "result": result})
        self._delivered.add(job_id)
        self._delivery.set()

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
        for name, (job_id, _) in list(self._sent.items()):
            if name not in self.results:
                result = image_pb2.ImageResult(status=image_pb2.IMAGE_STATUS_FAILED, error=reason)
                self.results[name] = result
                await self._sink("image_finished", {"component": name, "result": result})
                self._delivered.add(job_id)

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
        try:
            async for message in rpc.responses:
                for result in message.results:
                    current = {job_id: name for name, (job_id, _) in self._sent.items()}
                    name = current.get(result.job_id)
                    if name is not None:
                        await self._answered(name, result)
                    elif result.job_id in self._asked_cache:
                        self._early[result.job_id] = result  # its data is not known yet
                    # Otherwise superseded: by a regeneration, or a wrong expectation.
        finally:
            self._unanswered.clear()  # the call ended: no job can be sent for them now
            self._close_if_done()

    def _every_image_in(self) -> bool:
        """Whether the latest job of every component has its result stored and announced."""
        return all(job_id in self._delivered for job_id, _ in self._sent.values())

    def _close_if_done(self) -> None:
        """End the jobs' input once ``finish`` was called and no expected image waits on the
        cache's answer (a miss sends one more job)."""
        if self._closing and not self._closed and not self._unanswered:
            self._closed = True
            self._outbox.put_nowait(None)

    async def finish(self) -> None:
        if self._rpc is None:
            return
        self._closing = True
        self._close_if_done()
        reader = self._tasks[1]
        while not self._every_image_in() and not reader.done():
            self._delivery.clear()
            delivered = asyncio.ensure_future(self._delivery.wait())
            try:
                await asyncio.wait({delivered, reader}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                delivered.cancel()
        if self._closed and self._every_image_in():
            # Every image is in: the call ends once the service has read the input's end,
            # which changes no image, so the answer does not wait for that round trip.
            self._rpc.settled()
            _let_end(self._tasks)
            return
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


# The tasks of calls whose every answer is in, kept until the call has ended.
_ending: set[asyncio.Task[None]] = set()


def _let_end(tasks: list[asyncio.Task[None]]) -> None:
    for task in tasks:
        _ending.add(task)
        task.add_done_callback(_ended)


def _ended(task: asyncio.Task[None]) -> None:
    _ending.discard(task)
    if not task.cancelled():
        task.exception()  # how a call ended after its every answer was in changes nothing


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
    request = _structure_request(plan)
    await backends.until_ready(STRUCTURER, plan.backend_wait_s)
    rpc = await backends.structure_stream(request, timeout_s=plan.structure_deadline_s)
    if plan.early_fanout and plan.components:
        # The image call is set up while the structurer works, so the first job that is ready
        # goes out on a call the image service already answers: its set-up (work in both
        # services) is off the request's critical path.
        await images.open()
        if plan.expected is not None:
            for component in plan.components:
                data = job_data(component, plan.expected)
                if not isinstance(data, str):
                    await images.expect(component, data)
    return await _consume(rpc, plan, images, sink)


async def _consume(
    rpc: Rpc, plan: Plan, images: _ImageStream, sink: EventSink
) -> structurer_pb2.StructureResponse:
    final: structurer_pb2.StructureResponse | None = None
    try:
        async for event in rpc.responses:
            whole = event.final.case_study if event.HasField("final") else None
            for ready in event.field_groups:
                # A group that travels with the final answer may come without its partial.
                fields = ready.partial if whole is None or ready.HasField("partial") else whole
                await _on_field_group(ready, fields, plan, images, sink)
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
    ready: structurer_pb2.FieldGroupReady,
    fields: case_study_pb2.CaseStudy,
    plan: Plan,
    images: _ImageStream,
    sink: EventSink,
) -> None:
    """The group ``ready`` is complete; ``fields`` holds its fields (and perhaps others)."""
    if sink is not _ignore:
        # Only this group's fields: the partial also holds every earlier group's.
        names = GROUP_FIELDS.get(ready.group, ())
        group = case_study_pb2.CaseStudy()
        group.CopyFrom(fields)
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
        data = job_data(component, fields)
        if not isinstance(data, str):  # a missing group is decided against the final case study
            await images.send(component, data)
