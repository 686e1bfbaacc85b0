"""The Structurer RPC handlers: validate, run the provider, stream field groups, answer."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncGenerator, AsyncIterator

import grpc
from opentelemetry import trace

from casecraft.admission import Admission, Overloaded
from casecraft.errors import AllProvidersFailed, ProviderError
from casecraft.limits import notes_problem
from casecraft.telemetry import capture_prompts, span_capture, to_records
from casecraft.v1 import structurer_pb2, structurer_pb2_grpc
from structurer_service import checks
from structurer_service.field_groups import GROUP_ORDER, FieldGroupTracker
from structurer_service.providers import (
    CANNOT_REFINE,
    CannotRefine,
    Draft,
    Refinement,
    RefiningProvider,
    Structured,
    StructurerProvider,
)
from structurer_service.refine import refine_problem, rewrite_section
from structurer_service.review import needs_review
from structurer_service.structuring_cache import StructuringCache, as_hit, structuring_key

FieldGroup = structurer_pb2.FieldGroup
FieldGroupReady = structurer_pb2.FieldGroupReady
# What the provider's task hands the stream: a completed group, the final answer, what ended it,
# or None when the provider ended without an answer.
_Step = FieldGroupReady | structurer_pb2.StructureResponse | Exception | None

log = logging.getLogger(__name__)
tracer = trace.get_tracer(__name__)
SERVICE = "structurer_service"
# Trailing metadata on UNAVAILABLE when the service ran but its providers failed (the value names
# them): the caller can then say the provider is down, not this service.
PROVIDER_FAILED = "casecraft-provider-failed"
# Set on UNAVAILABLE when the call was refused for load: seconds to wait before trying again.
RETRY_AFTER = "retry-after"


def _providers(error: AllProvidersFailed | ProviderError) -> list[str]:
    if isinstance(error, ProviderError):
        return [error.provider]
    return [failure.partition(":")[0] for failure in error.failures]


class StructurerServicer(structurer_pb2_grpc.StructurerServicer):
    def __init__(
        self,
        provider: StructurerProvider,
        admission: Admission | None = None,
        *,
        cache: StructuringCache | None = None,
    ) -> None:
        self._provider = provider
        self._admission = admission or Admission(
            "the structurer's calls in flight", max_in_flight=64, max_queued=128
        )
        self._cache = cache
        # Identical requests in flight: the first one's answer, awaited by the others.
        self._flights: dict[str, asyncio.Future[structurer_pb2.StructureResponse | None]] = {}

    async def Structure(
        self, request: structurer_pb2.StructureRequest, context: grpc.aio.ServicerContext
    ) -> structurer_pb2.StructureResponse:
        async with contextlib.aclosing(self._events(request, context)) as events:
            async for event in events:
                if event.HasField("final"):
                    return event.final
        await context.abort(grpc.StatusCode.INTERNAL, "the provider ended without a case study")
        raise AssertionError("unreachable")

    async def StructureStream(
        self, request: structurer_pb2.StructureRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[structurer_pb2.StructureEvent]:
        async for event in self._events(request, context):
            yield event

    async def Refine(
        self, request: structurer_pb2.RefineRequest, context: grpc.aio.ServicerContext
    ) -> structurer_pb2.RefineResponse:
        problem = refine_problem(request)
        if problem is not None:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, problem)
        refinement = Refinement(
            case_study=request.case_study,
            section=request.section,
            instruction=request.instruction,
            notes=request.notes,
        )
        async with contextlib.AsyncExitStack() as held:
            await self._admit(held, context)
            return await self._refined(request, refinement, context)

    async def _refined(
        self,
        request: structurer_pb2.RefineRequest,
        refinement: Refinement,
        context: grpc.aio.ServicerContext,
    ) -> structurer_pb2.RefineResponse:
        """Rewrite the section, then check the case study as answered: the section's figures
        and names are re-asked about once (as a structuring's are), its names replaced when
        anonymising; the fidelity report covers the whole case study. Without notes there is
        nothing to check against."""
        review = (
            checks.Checks(
                request.notes, anonymize=request.options.anonymize, section=request.section
            )
            if request.notes
            else None
        )
        with tracer.start_as_current_span("refine", end_on_exit=False) as span:
            span.set_attribute("casecraft.refine.section", request.section)
            span.set_attribute("casecraft.fast", request.options.fast)
            span.set_attribute("gen_ai.operation.name", "chat")
            with (
                span_capture().capture(span) as spans,
                checks.checking(review) if review else contextlib.nullcontext(),
            ):
                try:
                    final = await self._refine(refinement, fast=request.options.fast)
                except CannotRefine as exc:
                    span.end()
                    await context.abort(grpc.StatusCode.FAILED_PRECONDITION, str(exc))
                except (AllProvidersFailed, ProviderError) as exc:
                    span.record_exception(exc)
                    span.set_status(trace.StatusCode.ERROR, str(exc))
                    span.end()
                    await context.abort(grpc.StatusCode.UNAVAILABLE, f"refining failed: {exc}")
                refined = rewrite_section(request.case_study, final.case_study, request.section)
                response = structurer_pb2.RefineResponse(usage=final.usage)
                warnings = final.warnings
                if review is not None:
                    verdict = await _conclude(review, Structured(refined, final.usage, warnings))
                    refined, warnings = verdict.case_study, verdict.warnings
                    response.fidelity.CopyFrom(verdict.fidelity.message())
                    if verdict.anonymized is not None:
                        response.anonymized = verdict.anonymized
                    span.set_attributes(verdict.span_attributes())
                _set_usage(span, final.usage)
                span.end()
        response.case_study.CopyFrom(refined)
        response.warnings.extend(warnings)
        response.changed.extend([] if refined == request.case_study else [request.section])
        response.spans.extend(to_records(list(spans), SERVICE))
        return response

    async def _refine(self, refinement: Refinement, *, fast: bool) -> Structured:
        if not isinstance(self._provider, RefiningProvider):
            raise CannotRefine(CANNOT_REFINE)
        final: Structured | None = None
        # Read to the end: the drafts of a rewrite have no reader, the last item is the answer.
        async for item in self._provider.refine(refinement, fast=fast):
            if isinstance(item, Structured):
                final = item
        if final is None:
            raise ProviderError(self._provider.name, "ended without a case study")
        return final

    async def _events(
        self, request: structurer_pb2.StructureRequest, context: grpc.aio.ServicerContext
    ) -> AsyncGenerator[structurer_pb2.StructureEvent]:
        """The stream's events, once the call has a place among the calls in flight."""
        problem = notes_problem(request.notes)
        if problem is not None:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, problem)
        async with contextlib.AsyncExitStack() as held:
            await self._admit(held, context)
            async with contextlib.aclosing(self._admitted_events(request, context)) as events:
                async for event in events:
                    yield event

    async def _admit(
        self, held: contextlib.AsyncExitStack, context: grpc.aio.ServicerContext
    ) -> None:
        """A place among the calls in flight, or UNAVAILABLE at once (with when to retry)."""
        try:
            await held.enter_async_context(self._admission.slot())
        except Overloaded as exc:
            await context.abort(
                grpc.StatusCode.UNAVAILABLE,
                str(exc),
                trailing_metadata=((RETRY_AFTER, str(exc.retry_after_s)),),
            )

    async def _admitted_events(
        self, request: structurer_pb2.StructureRequest, context: grpc.aio.ServicerContext
    ) -> AsyncGenerator[structurer_pb2.StructureEvent]:
        """The stream's events. The provider runs ahead in a task of its own, so the groups that
        become complete while an event is being sent go out together in the next one."""
        with tracer.start_as_current_span("structure", end_on_exit=False) as span:
            span.set_attribute("casecraft.notes.bytes", len(request.notes.encode("utf-8")))
            span.set_attribute("casecraft.fast", request.options.fast)
            span.set_attribute("casecraft.anonymize", request.options.anonymize)
            span.set_attribute("gen_ai.operation.name", "chat")
            if capture_prompts():
                span.set_attribute("gen_ai.input.messages", _messages(request.notes))
            key, outcome, flight = None, structurer_pb2.CACHE_OUTCOME_UNSPECIFIED, None
            if self._cache is not None:
                key = structuring_key(request, self._provider)
                if request.options.fresh:
                    outcome = structurer_pb2.CACHE_OUTCOME_BYPASS
                else:
                    answered = await self._answered(key)
                    if answered is not None:
                        yield _without_call(*answered, span)
                        return
                    outcome = structurer_pb2.CACHE_OUTCOME_MISS
                    flight = self._flights[key] = asyncio.get_running_loop().create_future()
            span.set_attribute("casecraft.cache", _CACHE_NAMES[outcome])
            steps: asyncio.Queue[_Step] = asyncio.Queue()
            producer = asyncio.create_task(
                self._structure(request, span, steps, key, outcome, flight)
            )
            try:
                while True:
                    ready = [await steps.get()]
                    while not steps.empty():
                        ready.append(steps.get_nowait())
                    last = ready[-1]
                    final = last if isinstance(last, structurer_pb2.StructureResponse) else None
                    groups = [step for step in ready if isinstance(step, FieldGroupReady)]
                    if groups or final is not None:
                        yield structurer_pb2.StructureEvent(field_groups=groups, final=final)
                    if isinstance(last, (AllProvidersFailed, ProviderError)):
                        await context.abort(
                            grpc.StatusCode.UNAVAILABLE,
                            f"structuring failed: {last}",
                            trailing_metadata=((PROVIDER_FAILED, ",".join(_providers(last))),),
                        )
                    if isinstance(last, Exception):
                        raise last
                    if last is None or final is not None:
                        return
            finally:
                producer.cancel()
                if span.is_recording():
                    span.end()
                if flight is not None:
                    # Ended without an answer (failed, cancelled): the requests that waited
                    # for it structure the notes themselves.
                    if not flight.done():
                        flight.set_result(None)
                    if self._flights.get(key or "") is flight:
                        del self._flights[key or ""]

    async def _answered(self, key: str) -> tuple[structurer_pb2.StructureResponse, str] | None:
        """An identical request's answer, from the cache or from the request in flight, and
        which; None when this request calls the providers."""
        assert self._cache is not None
        while True:
            cached = await self._cache.get(key)
            if cached is not None:
                return cached, "hit"
            flight = self._flights.get(key)
            if flight is None:
                return None
            shared = await asyncio.shield(flight)
            if shared is not None:
                return as_hit(shared), "coalesced"

    async def _structure(
        self,
        request: structurer_pb2.StructureRequest,
        span: trace.Span,
        steps: asyncio.Queue[_Step],
        key: str | None,
        outcome: structurer_pb2.CacheOutcome,
        flight: asyncio.Future[structurer_pb2.StructureResponse | None] | None,
    ) -> None:
        """Run the provider: each field group as it completes, then the final answer (or the
        exception that ended it) go into ``steps``; the answer is cached under ``key``."""
        review = checks.Checks(request.notes, anonymize=request.options.anonymize)
        with span_capture().capture(span) as spans, checks.checking(review):
            tracker = FieldGroupTracker()
            started, first_chunk = time.perf_counter(), True
            try:
                if review.anonymize:
                    # The names are known before any group is sent, so none carries one.
                    await asyncio.to_thread(lambda: review.names)
                items = self._provider.structure(request.notes, fast=request.options.fast)
                async for item in items:
                    if isinstance(item, Draft):
                        if first_chunk:
                            first_chunk = False
                            span.set_attribute(
                                "casecraft.time_to_first_chunk_ms",
                                round((time.perf_counter() - started) * 1000, 3),
                            )
                        for ready in tracker.advance(item.fields):
                            if review.anonymize:
                                review.names.apply(ready.partial)
                            span.add_event(
                                "field_group_ready",
                                {"casecraft.field_group": FieldGroup.Name(ready.group)},
                            )
                            steps.put_nowait(ready)
                        continue
                    verdict = await _conclude(review, item)
                    for ready in tracker.finish(verdict.case_study):
                        steps.put_nowait(ready)
                    _set_usage(span, item.usage)
                    span.set_attributes(verdict.span_attributes())
                    span.end()
                    response = structurer_pb2.StructureResponse(
                        case_study=verdict.case_study,
                        usage=item.usage,
                        warnings=verdict.warnings,
                        spans=to_records(list(spans), SERVICE),
                        needs_review=needs_review(verdict.case_study, item.needs_review),
                        fidelity=verdict.fidelity.message(),
                        anonymized=verdict.anonymized,
                        cache=outcome,
                    )
                    if key is not None and self._cache is not None:
                        await self._cache.put(key, response)
                    if flight is not None and not flight.done():
                        flight.set_result(response)
                    steps.put_nowait(response)
                    return
                steps.put_nowait(None)
            except (AllProvidersFailed, ProviderError) as exc:
                span.record_exception(exc)
                span.set_attribute("error.type", type(exc).__name__)
                span.set_status(trace.StatusCode.ERROR, str(exc))
                span.end()
                steps.put_nowait(exc)
            except Exception as exc:
                steps.put_nowait(exc)  # the handler raises it: the call ends with UNKNOWN


def _without_call(
    response: structurer_pb2.StructureResponse, how: str, span: trace.Span
) -> structurer_pb2.StructureEvent:
    """The whole stream of an answer no provider was called for (``how``: "hit" from the cache,
    "coalesced" from an identical request in flight) in one event: the groups, then the final."""
    with span_capture().capture(span) as spans:
        span.set_attributes(
            {
                "casecraft.cache": how,
                "gen_ai.provider.name": response.usage.provider,
                "gen_ai.request.model": response.usage.model,
                "casecraft.attempts": 0,
            }
        )
        span.end()
    response.spans.extend(to_records(list(spans), SERVICE))
    # The groups without their partials: the final's case study holds every group's fields.
    groups = [structurer_pb2.FieldGroupReady(group=group) for group in GROUP_ORDER]
    return structurer_pb2.StructureEvent(field_groups=groups, final=response)


_CACHE_NAMES = {
    structurer_pb2.CACHE_OUTCOME_UNSPECIFIED: "off",
    structurer_pb2.CACHE_OUTCOME_MISS: "miss",
    structurer_pb2.CACHE_OUTCOME_HIT: "hit",
    structurer_pb2.CACHE_OUTCOME_BYPASS: "bypass",
}


# Below this many characters of notes the final checks take about a millisecond: run inline, so
# the groups completed with the final answer still travel with it. Longer notes take a thread.
_INLINE_CHECKS_CHARS = 32_000


async def _conclude(review: checks.Checks, item: Structured) -> checks.Verdict:
    if len(review.notes) < _INLINE_CHECKS_CHARS:
        return checks.conclude(review, item.case_study, item.warnings)
    return await asyncio.to_thread(checks.conclude, review, item.case_study, item.warnings)


def _set_usage(span: trace.Span, usage: structurer_pb2.Usage) -> None:
    """The GenAI semantic conventions' attributes of the call that produced the case study."""
    span.set_attributes(
        {
            "gen_ai.provider.name": usage.provider,
            "gen_ai.request.model": usage.model,
            "gen_ai.response.model": usage.model,
            "gen_ai.usage.input_tokens": usage.input_tokens,
            "gen_ai.usage.output_tokens": usage.output_tokens,
            "casecraft.attempts": usage.attempts,
        }
    )


def _messages(notes: str) -> str:
    """The prompt as gen_ai.input.messages; only with the CASECRAFT_CAPTURE_PROMPTS debug switch."""
    return json.dumps([{"role": "user", "parts": [{"type": "text", "content": notes}]}])
