"""Running case-study jobs: start, follow, cancel, edit and make images again.

Every POST makes a job. A synchronous request runs it under its own span and waits for it (its
client leaving cancels it); a background job runs as a trace of its own, linked to the request
that started it, until it ends or a DELETE cancels it. What the work produces goes into the job
record and, as numbered events, into the job's event log as it happens.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, AbstractContextManager, nullcontext
from dataclasses import dataclass, field, replace
from typing import Any

import grpc
import orjson
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import Link
from redis.asyncio import Redis
from redis.exceptions import RedisError

from casecraft import protojson
from casecraft.components import ALL, BY_NAME, NAMES, ComponentSpec
from casecraft.telemetry import span_capture, to_records
from casecraft.v1 import case_study_pb2, structurer_pb2
from gateway import orchestrator, trust
from gateway.answers import answer
from gateway.backends import STRUCTURER, Backends
from gateway.events import TERMINAL, Event, EventLog, MemoryEventLog, follow
from gateway.images import ImageStore, MemoryImageStore
from gateway.jobrecorder import JobRecorder
from gateway.jobs import Change, JobRecord, JobRequest, JobStore, Leases, MemoryJobStore
from gateway.problems import Problem, from_rpc_error
from gateway.redis_backend import FOLLOWER_CONNECTIONS, REDIS, connect
from gateway.redis_stores import RedisEventLog, RedisImageStore, RedisJobStore, RedisLeases
from gateway.requests import CheckedRequest
from gateway.settings import GatewaySettings
from gateway.timings import report

log = logging.getLogger(__name__)
tracer = trace.get_tracer(__name__)

SERVICE = "gateway"
MAX_IDEMPOTENCY_KEY = 255
RETRY_AFTER_S = 5
STOPPED = (
    "the gateway running this job stopped before it finished; start it again (POST the notes again)"
)


@dataclass
class Stores:
    """Where jobs, their events and their images are kept (memory unless given others)."""

    jobs: JobStore
    events: EventLog
    images: ImageStore
    # Set when the stores are shared by several gateways (Redis): who runs which job.
    leases: Leases | None = None
    redis: Redis | None = None
    followers: Redis | None = None

    @classmethod
    def in_memory(cls, settings: GatewaySettings) -> Stores:
        return cls(MemoryJobStore(), MemoryEventLog(), MemoryImageStore(settings.image_store_bytes))

    @classmethod
    def for_settings(cls, settings: GatewaySettings) -> Stores:
        """Redis when REDIS_URL is set, this process's memory otherwise: the one place the
        gateway's backend is chosen."""
        if settings.redis_url is None:
            return cls.in_memory(settings)
        client = connect(settings.redis_url)
        followers = connect(settings.redis_url, FOLLOWER_CONNECTIONS)
        prefix, ttl_s = settings.redis_prefix, settings.job_ttl_s
        return cls(
            RedisJobStore(client, prefix),
            RedisEventLog(client, prefix, ttl_s, followers),
            RedisImageStore(client, prefix, ttl_s),
            RedisLeases(client, prefix, settings.job_lease_s),
            client,
            followers,
        )

    async def health(self) -> dict[str, str]:
        """The shared store's status, as /readyz shows the backends' (nothing for memory)."""
        if self.redis is None:
            return {}
        try:
            await self.redis.ping()
        except RedisError as error:
            return {REDIS: f"UNREACHABLE ({type(error).__name__})"}
        return {REDIS: "SERVING"}

    async def close(self) -> None:
        for client in (self.redis, self.followers):
            if client is not None:
                await client.aclose()


@dataclass
class _Running:
    """The work a job is doing in this process, so a DELETE can cancel it, and the record that
    work keeps up to date (reads in this process see it as it is, without the store)."""

    tasks: dict[str, asyncio.Task[None]] = field(default_factory=dict)
    records: dict[str, JobRecord] = field(default_factory=dict)

    def add(self, job: JobRecord, task: asyncio.Task[None]) -> None:
        self.tasks[job.id] = task
        self.records[job.id] = job
        task.add_done_callback(lambda done: self._drop(job.id, done))

    def _drop(self, job_id: str, task: asyncio.Task[None]) -> None:
        if self.tasks.get(job_id) is task:
            del self.tasks[job_id]
            del self.records[job_id]

    def forget(self, job_id: str) -> asyncio.Task[None] | None:
        self.records.pop(job_id, None)
        return self.tasks.pop(job_id, None)


class Jobs:
    """The gateway's jobs: one per POST /v1/case-studies, kept for ``settings.job_ttl_s``."""

    def __init__(
        self,
        backends: Backends,
        settings: GatewaySettings,
        stores: Stores | None = None,
        clock: Callable[[], float] = time.time,
        admit: Callable[[Any], AbstractAsyncContextManager[None]] | None = None,
    ) -> None:
        self.backends = backends
        self.settings = settings
        stores = stores or Stores.in_memory(settings)
        self.store = stores.jobs
        self.log = stores.events
        self.images = stores.images
        self._clock = clock
        self._running = _Running()
        self._record = JobRecorder(self.store, self.log, self.images, clock)
        self._leases = stores.leases
        self._keeper: asyncio.Task[None] | None = None
        # Jobs that ended while their ending could not be written (the store was unreachable):
        # written as soon as it can be, so no accepted job is left running forever.
        self._unwritten: dict[str, JobRecord] = {}
        # Held while a job structures and makes its images: the caller's quota and the
        # gateway's ceiling on case studies at once (gateway/quotas.py).
        self._admission = admit or (lambda caller: nullcontext())
        self._answers = orchestrator.LastAnswers()

    # -- starting and finding jobs -------------------------------------------------------------

    @staticmethod
    def idempotency_key(key: str, owner: str) -> str:
        """The key as stored: checked (a 422 when empty or too long), and scoped to the API key
        that sent it (``owner``), so two callers never share one."""
        if not key or len(key) > MAX_IDEMPOTENCY_KEY:
            raise _invalid(
                "Idempotency-Key",
                f"{len(key)} characters; send 1 to {MAX_IDEMPOTENCY_KEY} (a UUID is usual)",
            )
        return f"{owner}:{key}" if owner else key

    async def by_idempotency_key(self, key: str, fingerprint: str) -> JobRecord | None:
        """The job an earlier POST with this (stored) key and the same body started, if it is
        kept; a 422 when it came with a different body."""
        job = await self.store.by_idempotency_key(key)
        if job is not None and job.fingerprint != fingerprint:
            raise _invalid(
                "Idempotency-Key",
                f"already used for job {job.id} with a different body; send that body again "
                "to get the job, or use a new key for a new request",
            )
        return job

    async def start(
        self,
        checked: CheckedRequest,
        *,
        background: bool,
        fingerprint: str = "",
        idempotency_key: str | None = None,
        caller: Any = None,
    ) -> tuple[JobRecord, asyncio.Task[None]]:
        """Record a new job and start its work: under the current span (the request's), or as
        a trace of its own linked to it when ``background``."""
        await self._admit()
        now = self._clock()
        job = JobRecord(
            id=uuid.uuid4().hex,
            created_at=now,
            expires_at=now + self.settings.job_ttl_s,
            request=JobRequest(
                notes=checked.notes,
                components=[c.name for c in checked.components],
                logo_base64=base64.b64encode(checked.logo).decode(),
                logo_media_type=checked.logo_media_type,
                fast=checked.fast,
                accent_color=checked.accent_color,
                fresh=checked.fresh,
                anonymize=checked.anonymize,
                logo_withheld=checked.logo_withheld,
            ),
            fingerprint=fingerprint,
            idempotency_key=idempotency_key,
            owner=getattr(caller, "name", ""),
        )
        span = _background_span("case_study.job", job.id) if background else None
        job.trace_id = _trace_id(span or trace.get_current_span())
        await self._hold(job.id)  # before the job is visible, so nobody takes it for orphaned
        await self.store.add(job)
        await self._record.emit(job, "status", {"status": "queued"})
        task = asyncio.create_task(
            self._produce(job, span, self._admission(caller), background=background)
        )
        self._running.add(job, task)
        return job, task

    async def get(self, job_id: str) -> JobRecord:
        """The job; a 404 when it is unknown or expired."""
        job = self._running.records.get(job_id) or self._unwritten.get(job_id)
        if job is None:
            job = await self.store.get(job_id)
            if job is not None and not job.finished and self._leases is not None:
                if await self._leases.claim(job_id):
                    await self._interrupted(job)
        if job is not None and job.expires_at <= self._clock():
            await self._forget(job_id)
            job = None
        if job is None:
            hours = self.settings.job_ttl_s / 3600
            raise Problem(
                404,
                "Not found",
                f"no case study {job_id!r}; jobs are kept {hours:g} h after they start, "
                "then expire: POST /v1/case-studies to make it again",
            )
        return job

    async def answer(self, job: JobRecord | str, *, inline: bool = False) -> dict[str, Any]:
        """The job (or the job of that id) as GET /v1/case-studies/{id} shows it."""
        record = job if isinstance(job, JobRecord) else await self.get(job)
        return await answer(record, self.images, inline=inline)

    async def events(self, job_id: str, after: int) -> AsyncIterator[Event]:
        """The job's events after ``after`` (all of them for an id that is not the job's), then
        each new one, ending with the job (done, failed or cancelled)."""
        await self.get(job_id)

        async def check() -> None:
            """A job followed here but run by another gateway: notice if that one stopped,
            before or while it wrote the job's ending."""
            if job_id not in self._running.records:
                with contextlib.suppress(Problem):
                    job = await self.get(job_id)
                    if job.finished:
                        await self._finish_telling(job)

        try:
            async for event in follow(
                self.log, job_id, after, idle=check if self._leases is not None else None
            ):
                yield event
        except RedisError as error:
            # The stream ends without a final event: the client reconnects with its last id.
            log.warning("event stream ended: %s", type(error).__name__, extra={"job_id": job_id})

    async def seen_the_end(self, job_id: str, last_event_id: int) -> bool:
        """Whether ``last_event_id`` is the job's last event and says how the job ended."""
        events = await self.log.read(job_id, max(last_event_id - 1, 0))
        return last_event_id > 0 and len(events) == 1 and events[0].type in TERMINAL

    async def wait(self, job_id: str) -> JobRecord:
        """The job once it has ended."""
        async for _ in self.events(job_id, 0):
            pass
        return await self.get(job_id)

    async def cancel(self, job_id: str) -> JobRecord:
        """Cancel the job's work, upstream included; a 409 when it has ended already."""
        job = await self.get(job_id)
        if job.finished:
            raise Problem(
                409,
                "Conflict",
                f"case study {job_id} has ended ({job.status}); there is nothing to cancel",
                status_now=job.status,
            )
        task = self._running.tasks.get(job_id)
        if task is not None:
            task.cancel()
            await asyncio.wait({task})  # the task records the cancellation itself
        elif self._leases is not None and await self._leases.held(job_id):
            # Another gateway runs it: ask that one to stop it, and wait until it has (or,
            # should that gateway die meanwhile, until its lease is seen to lapse).
            await self._leases.ask_to_cancel(job_id)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wait(job_id), 2 * self.settings.job_lease_s)
        else:  # its work is not in any gateway (this one was restarted): end the record
            await self._record.end(job, "cancelled")
        return await self.get(job_id)

    async def close(self) -> None:
        """Cancel every job still running in this process (the gateway is shutting down)."""
        if self._keeper is not None:
            self._keeper.cancel()
        tasks = list(self._running.tasks.values())
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks)

    # -- editing -------------------------------------------------------------------------------

    async def editable(self, job_id: str) -> JobRecord:
        """The job, when its case study can be changed now; a 409 that says why not otherwise."""
        job = await self.get(job_id)
        why = {
            "queued": "is still being structured; wait for its done event",
            "structuring": "is still being structured; wait for its done event",
            "rendering": "is making images; wait for its done event",
            "failed": "failed before its case study was complete; POST the notes again",
            "cancelled": "was cancelled; POST the notes again",
        }.get(job.status)
        if why is not None:
            raise Problem(409, "Conflict", f"case study {job_id} {why}", status_now=job.status)
        return job

    async def edit(
        self,
        job: JobRecord,
        after: case_study_pb2.CaseStudy,
        changed: list[str],
        by: str,
        warnings: list[str] | None = None,
    ) -> JobRecord:
        """Make ``after`` the job's case study (a new version) and make again the images whose
        fields changed; nothing happens when nothing changed."""
        if not changed:
            return job
        before = protojson.from_dict(job.case_study, case_study_pb2.CaseStudy)
        job.case_study = protojson.to_dict(after, with_defaults=True)
        job.warnings.extend(warnings or [])
        job.version += 1
        job.changes.append(Change(version=job.version, changed=changed, by=by))  # type: ignore[arg-type]
        await self.store.save(job)
        data = {"version": job.version, "changed": changed, "case_study": job.case_study}
        await self._record.emit(job, "case_study", data)
        for warning in warnings or []:
            await self._record.emit(job, "warning", {"message": warning})
        await self._hold(job.id)
        await self._record.set_status(job, "rendering")
        self._remake(job, before, after, _components(job))
        return job

    async def make_image(self, job_id: str, component: str) -> JobRecord:
        """Make a new version of one image from the case study as it stands."""
        spec = BY_NAME.get(component)
        if spec is None:
            raise Problem(
                404,
                "Not found",
                f"no image component {component!r}; the components are {', '.join(NAMES)}",
            )
        job = await self.editable(job_id)
        case_study = protojson.from_dict(job.case_study, case_study_pb2.CaseStudy)
        reason = orchestrator.job_data(spec, case_study)
        if isinstance(reason, str):
            raise Problem(
                422,
                "Invalid request",
                f"{component}: nothing to draw ({reason}); PATCH the case study first",
            )
        if component not in job.request.components:
            job.request.components = [n for n in NAMES if n in {*job.request.components, component}]
        job.version += 1
        job.changes.append(Change(version=job.version, changed=[component], by="image"))
        await self._hold(job.id)
        await self._record.set_status(job, "rendering")
        self._remake(job, None, case_study, (spec,), regenerate=True)
        return job

    async def refine(self, job_id: str, section: str, instruction: str) -> JobRecord:
        """Rewrite one section through the structurer's Refine, then as ``edit``."""
        job = await self.editable(job_id)
        request = structurer_pb2.RefineRequest(
            case_study=protojson.from_dict(job.case_study, case_study_pb2.CaseStudy),
            section=section,
            instruction=instruction,
            notes=job.request.notes,
            options=structurer_pb2.StructureOptions(
                fast=job.request.fast, anonymize=job.request.anonymize
            ),
        )
        try:
            with tracer.start_as_current_span("refine"):
                response = await self.backends.refine(
                    request, timeout_s=self.settings.gateway_structure_deadline_s
                )
        except grpc.aio.AioRpcError as error:
            if error.code() is grpc.StatusCode.FAILED_PRECONDITION:
                # The structurer says why (only the local provider is configured) and what to
                # do instead; the gateway adds where that PATCH goes.
                where = f"PATCH /v1/case-studies/{job_id} as application/merge-patch+json"
                detail = error.details() or ""
                if "LLM provider" not in detail:
                    detail = (
                        "the structurer has no LLM provider, the only kind that follows "
                        "free-text instructions; configure one (CASECRAFT_STRUCTURER_PROVIDERS) "
                        "or edit the field yourself"
                    )
                raise Problem(
                    409,
                    "Refine unavailable",
                    f"{detail} ({where})",
                    backend=STRUCTURER,
                ) from error
            raise from_rpc_error(error, STRUCTURER) from error
        job = await self.editable(job_id)  # as it is now, after the call
        changed = list(response.changed) or _changed(job.case_study, response.case_study)
        if response.HasField("fidelity"):  # the structurer checked the case study as answered
            checked = trust.answer_fields(response)
            if job.trust.get("anonymized") is False:
                checked["anonymized"] = False  # names replaced earlier are still worth a look
            job.trust = checked
        return await self.edit(job, response.case_study, changed, "refine", list(response.warnings))

    # -- the work ------------------------------------------------------------------------------

    async def _produce(
        self,
        job: JobRecord,
        span: trace.Span | None,
        admitted: AbstractAsyncContextManager[None],
        *,
        background: bool,
    ) -> None:
        root = span or trace.get_current_span()
        try:
            with span_capture().capture(root) as spans:
                with _current(span):
                    async with admitted:
                        await self._record.set_status(job, "structuring")
                        plan = self._plan(job, _components(job))
                        if background:  # nobody waits on the line: ride out a restart
                            plan = replace(
                                plan, backend_wait_s=self.settings.gateway_backend_wait_s
                            )
                        plan = replace(plan, expected=await self._answers.expected(plan))
                        outcome = await orchestrator.run(
                            self.backends, plan, self._record.sink(job)
                        )
                        await self._answers.remember(plan, outcome.case_study)
                    with tracer.start_as_current_span("respond"):
                        job.version = 1
                        await self._record.set_status(job, "done", save=False)
                records = [*outcome.spans, *to_records(list(spans), SERVICE)]
            context = root.get_span_context()
            job.timings = report(records, context.trace_id, context.trace_flags.sampled)
        except BaseException as error:
            await self._fail(job, error)
            if isinstance(error, asyncio.CancelledError):
                raise
            return
        try:
            await self._write_ending(job, announce=False)  # the status event went out above
        except Exception as error:
            self._later(job, error)

    def _remake(
        self,
        job: JobRecord,
        before: case_study_pb2.CaseStudy | None,
        after: case_study_pb2.CaseStudy,
        components: tuple[ComponentSpec, ...],
        *,
        regenerate: bool = False,
    ) -> None:
        """Make the images of ``components`` whose data changed; with ``regenerate``, new ones
        whatever the image service has cached."""
        span = _background_span("case_study.edit", job.id)

        async def work() -> None:
            try:
                with _current(span):
                    await orchestrator.remake(
                        self.backends,
                        replace(self._plan(job, components), regenerate=regenerate),
                        before,
                        after,
                        self._record.sink(job),
                    )
            except BaseException as error:
                await self._fail(job, error)
                if isinstance(error, asyncio.CancelledError):
                    raise
                return
            job.status, job.finished_at = "done", self._clock()
            try:
                await self._write_ending(job)
            except Exception as error:
                self._later(job, error)

        self._running.add(job, asyncio.create_task(work()))

    # -- endings and leases --------------------------------------------------------------------

    async def _fail(self, job: JobRecord, error: BaseException) -> None:
        try:
            await self._record.failed(job, error)
        except Exception as unwritten:
            self._later(job, unwritten)

    async def _write_ending(self, job: JobRecord, *, announce: bool = True) -> None:
        """Save the ended job and tell its followers how it ended."""
        await self.store.save(job)
        if announce:
            await self._record.emit(job, "status", {"status": job.status})
        if job.status == "done":
            await self._record.emit(job, "done", await answer(job, self.images))
        else:
            await self._record.ending(job)

    def _later(self, job: JobRecord, error: Exception) -> None:
        """The job ended but the store could not take it: keep it here, and write it when the
        store answers again (``_keep``)."""
        log.warning(
            "could not record the end of a job; retrying: %s",
            type(error).__name__,
            extra={"job_id": job.id},
        )
        self._unwritten[job.id] = job
        self._ensure_keeper()

    async def _finish_telling(self, job: JobRecord) -> None:
        """A finished job whose events do not end with its ending: the gateway writing them
        stopped between the record and the events. Once its lease has lapsed, whoever claims it
        first writes what is missing, so every follower's stream ends."""
        events = await self.log.read(job.id)
        if not events or events[-1].type in TERMINAL or self._leases is None:
            return
        if await self._leases.claim(job.id):
            last = events[-1]
            told = last.type == "status" and orjson.loads(last.data).get("status") == job.status
            await self._write_ending(job, announce=not told)

    async def _interrupted(self, job: JobRecord) -> None:
        job.problem = Problem(503, "Interrupted", STOPPED).body()
        await self._record.end(job, "failed")

    async def _hold(self, job_id: str) -> None:
        if self._leases is not None:
            await self._leases.hold([job_id])
            self._ensure_keeper()

    def _ensure_keeper(self) -> None:
        if self._keeper is None or self._keeper.done():
            self._keeper = asyncio.create_task(self._keep())

    async def _keep(self) -> None:
        """Renew the leases of the jobs running here, and write the endings that could not be
        written, every third of a lease."""
        while True:
            await asyncio.sleep(self.settings.job_lease_s / 3)
            try:
                if self._leases is not None:
                    asked = await self._leases.hold([*self._running.tasks, *self._unwritten])
                    for job_id in asked:  # a DELETE that reached another gateway
                        task = self._running.tasks.get(job_id)
                        if task is not None:
                            task.cancel()  # the task records the cancellation itself
                for job in list(self._unwritten.values()):
                    await self._write_ending(job)
                    del self._unwritten[job.id]
            except Exception as error:
                log.warning("shared store unavailable: %s", type(error).__name__)

    def _plan(self, job: JobRecord, components: tuple[ComponentSpec, ...]) -> orchestrator.Plan:
        settings = self.settings
        return orchestrator.Plan(
            notes=job.request.notes,
            components=components,
            logo=base64.b64decode(job.request.logo_base64),
            logo_media_type=job.request.logo_media_type,
            fast=job.request.fast,
            accent_color=job.request.accent_color,
            fresh=job.request.fresh,
            anonymize=job.request.anonymize,
            logo_withheld=job.request.logo_withheld,
            early_fanout=settings.early_fanout,
            structure_deadline_s=settings.gateway_structure_deadline_s,
            images_deadline_s=settings.gateway_images_deadline_s,
            per_image_deadline_s=settings.gateway_per_image_deadline_s,
        )

    # -- limits --------------------------------------------------------------------------------

    async def _admit(self) -> None:
        """Make room for one more job: drop the expired, then the finished oldest first; a 503
        when every job kept is still running."""
        for job_id in await self.store.expired(self._clock()):
            await self._forget(job_id)
        settings = self.settings
        while (
            self.store.count() >= settings.max_jobs
            or self.store.size_bytes() + self.log.size_bytes() >= settings.max_job_bytes
        ):
            oldest = await self.store.oldest_finished()
            if oldest is None:
                raise Problem(
                    503,
                    "Too many jobs",
                    f"the gateway holds {self.store.count()} running jobs, its limit "
                    "(CASECRAFT_MAX_JOBS, CASECRAFT_MAX_JOB_BYTES); retry after a few seconds",
                    headers={"Retry-After": str(RETRY_AFTER_S)},
                )
            await self._forget(oldest)

    async def _forget(self, job_id: str) -> None:
        task = self._running.forget(job_id)
        if task is not None:
            task.cancel()
        job = await self.store.get(job_id)
        if job is not None:
            for image in job.images.values():
                if image["sha256"]:
                    await self.images.unpin(image["sha256"])
        await self.store.delete(job_id)
        await self.log.delete(job_id)


def _components(job: JobRecord) -> tuple[ComponentSpec, ...]:
    return tuple(c for c in ALL if c.name in job.request.components)


def _changed(before: dict[str, Any], after: case_study_pb2.CaseStudy) -> list[str]:
    now = protojson.to_dict(after, with_defaults=True)
    names = [f.name for f in case_study_pb2.CaseStudy.DESCRIPTOR.fields]
    return [name for name in names if before.get(name) != now.get(name)]


def _background_span(name: str, job_id: str) -> trace.Span | None:
    """A new trace for work that outlives the request, linked to the request's span."""
    request = trace.get_current_span().get_span_context()
    links = [Link(request)] if request.is_valid else []
    span = tracer.start_span(
        name, context=Context(), links=links, attributes={"casecraft.job_id": job_id}
    )
    return span if span.get_span_context().is_valid else None


def _current(span: trace.Span | None) -> AbstractContextManager[Any]:
    return trace.use_span(span, end_on_exit=True) if span is not None else nullcontext()


def _trace_id(span: trace.Span) -> str:
    context = span.get_span_context()
    return format(context.trace_id, "032x") if context.is_valid else ""


def _invalid(field: str, message: str) -> Problem:
    return Problem(
        422, "Invalid request", f"{field}: {message}", errors=[{"field": field, "message": message}]
    )
