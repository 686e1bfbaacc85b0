"""Metrics derived from the spans as they end, and the Prometheus text endpoint.

Durations come from the spans themselves (no second set of timers), one instrument per step: the
structuring call and each image generation feed the GenAI ``gen_ai.client.operation.duration``
(and ``gen_ai.client.token.usage``), the wait for an image slot
``casecraft.image.slot_wait.duration``, every other casecraft step ``casecraft.step.duration``.
Image results (cache hits included) and failures by kind have their own counters.

A point is recorded a few milliseconds after the step that made it, with the others of those
milliseconds (``later``): the SDK takes tens of microseconds a point, about a third of what a
cached image's whole step costs, and nothing needs the point sooner. Reading the gateway's
metrics (``prometheus_text``) and shutting telemetry down record what is pending first.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from functools import cache, cached_property, partial
from typing import Any

from opentelemetry import metrics
from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor
from opentelemetry.trace import SpanKind, StatusCode

# Seconds, from a millisecond step to a long LLM call.
_SECONDS = (
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1,
    2.5,
    5,
    10,
    30,
    60,
    120,
    300,
)
# The GenAI semantic conventions' advised buckets.
_GENAI_SECONDS = (
    0.01,
    0.02,
    0.04,
    0.08,
    0.16,
    0.32,
    0.64,
    1.28,
    2.56,
    5.12,
    10.24,
    20.48,
    40.96,
    81.92,
)
_TOKENS = (1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304)
# The tracers of the gateway's HTTP request spans and of the RPC spans between the services: the
# one is casecraft.request.duration, the other no metric (the steps inside each call have theirs).
HTTP_SCOPE = "casecraft.http"
RPC_SCOPE = "casecraft.rpc"
# Spans our own code makes: each is a step.
_OWN_SCOPES = ("gateway", "structurer_service", "image_service", "casecraft")
_OTHER, _OWN, _HTTP = 0, 1, 2
# Spans that are one call to a generative model, and the operation each one is.
_GENAI_OPERATIONS = {"structure": "chat", "image.generate": "generate_content"}
_GENAI_KEYS = ("gen_ai.provider.name", "gen_ai.request.model", "gen_ai.response.model")


class _Instruments:
    @cached_property
    def _meter(self) -> metrics.Meter:
        return metrics.get_meter("casecraft")

    @cached_property
    def request_duration(self) -> metrics.Histogram:
        return self._meter.create_histogram(
            "casecraft.request.duration",
            unit="s",
            description="Time to answer one HTTP request (a case study, mostly), from the "
            "request's span, by method, status code and outcome (ok, rejected, error).",
            explicit_bucket_boundaries_advisory=_SECONDS,
        )

    @cached_property
    def step_duration(self) -> metrics.Histogram:
        return self._meter.create_histogram(
            "casecraft.step.duration",
            unit="s",
            description="Duration of each step (span) of a request that has no instrument of its "
            "own (model calls and slot waits do), by step and service.",
            explicit_bucket_boundaries_advisory=_SECONDS,
        )

    @cached_property
    def failures(self) -> metrics.Counter:
        return self._meter.create_counter(
            "casecraft.failures",
            unit="{failure}",
            description="Steps and provider attempts that failed, by step and kind of failure.",
        )

    @cached_property
    def slot_wait(self) -> metrics.Histogram:
        return self._meter.create_histogram(
            "casecraft.image.slot_wait.duration",
            unit="s",
            description="Time an image job waited for a concurrency slot.",
            explicit_bucket_boundaries_advisory=_SECONDS,
        )

    @cached_property
    def images(self) -> metrics.Counter:
        return self._meter.create_counter(
            "casecraft.image.results",
            unit="{image}",
            description="Finished image jobs, by component, outcome and cache hit.",
        )

    @cached_property
    def genai_duration(self) -> metrics.Histogram:
        return self._meter.create_histogram(
            "gen_ai.client.operation.duration",
            unit="s",
            description="GenAI operation duration.",
            explicit_bucket_boundaries_advisory=_GENAI_SECONDS,
        )

    @cached_property
    def genai_tokens(self) -> metrics.Histogram:
        return self._meter.create_histogram(
            "gen_ai.client.token.usage",
            unit="{token}",
            description="Number of input and output tokens used.",
            explicit_bucket_boundaries_advisory=_TOKENS,
        )


instruments = _Instruments()
log = logging.getLogger(__name__)

# How long a metric point may wait to be recorded with the others of those milliseconds.
_LATER_S = 0.005


class _Later:
    """Metric points to record shortly, per event loop; a thread without a loop records at once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: dict[asyncio.AbstractEventLoop, list[Callable[[], None]]] = {}

    def __call__(self, record: Callable[[], None]) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            record()
            return
        with self._lock:
            pending = self._pending.get(loop)
            if pending is None:
                pending = self._pending[loop] = []
                loop.call_later(_LATER_S, self._record, loop)
            pending.append(record)

    def _record(self, loop: asyncio.AbstractEventLoop) -> None:
        with self._lock:
            pending = self._pending.pop(loop, [])
        _each(pending)

    def record_all(self) -> None:
        """Record every pending point now, whichever loop it waits on (its timer finds none)."""
        with self._lock:
            pending = [record for points in self._pending.values() for record in points]
            self._pending.clear()
        _each(pending)


def _each(points: list[Callable[[], None]]) -> None:
    """Record each point; one that fails is logged and costs the others nothing."""
    for record in points:
        try:
            record()
        except Exception:
            log.exception("a metric point could not be recorded")


later = _Later()


def record_failure(step: str, kind: str) -> None:
    instruments.failures.add(1, {"casecraft.step": step, "error.type": kind})


def record_image(component: str, cache_hit: bool, outcome: str) -> None:
    """One finished image job: its component, whether the cache answered, ok/failed/timed_out."""
    later(partial(instruments.images.add, 1, _image_labels(component, cache_hit, outcome)))


# Label sets are built once per distinct value (the SDK copies what it keeps), so each span that
# ends pays a cache lookup, not a new dict: these run for every span of every request.
@cache
def _image_labels(component: str, cache_hit: bool, outcome: str) -> dict[str, str | bool]:
    return {
        "casecraft.component": component,
        "casecraft.cache_hit": cache_hit,
        "casecraft.outcome": outcome,
    }


@cache
def _scope_kind(scope: str) -> int:
    if scope == HTTP_SCOPE:
        return _HTTP
    if scope == RPC_SCOPE:
        return _OTHER
    return _OWN if scope.startswith(_OWN_SCOPES) else _OTHER


@cache
def _request_labels(method: str, code: int) -> dict[str, str | int]:
    outcome = "ok" if 0 < code < 400 else "rejected" if 400 <= code < 500 else "error"
    labels: dict[str, str | int] = {"http.request.method": method, "casecraft.outcome": outcome}
    if code:
        labels["http.response.status_code"] = code
    return labels


@cache
def _step_labels(name: str, service: str) -> dict[str, str]:
    return {"casecraft.step": name, "casecraft.service": service}


@cache
def _genai_labels(
    operation: str, values: tuple[str | None, ...], kind: str | None
) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    """A model call's duration labels, and those of its input and output token counts."""
    labels: dict[str, str] = {"gen_ai.operation.name": operation}
    for key, value in zip(_GENAI_KEYS, values, strict=True):
        if value is not None:
            labels[key] = value
    if kind is not None:
        labels["error.type"] = kind
    return (
        labels,
        {**labels, "gen_ai.token.type": "input"},
        {**labels, "gen_ai.token.type": "output"},
    )


def error_kind(span: ReadableSpan) -> str:
    """``error.type`` when the span says it, else the type of the exception it recorded."""
    kind = (span.attributes or {}).get("error.type")
    if kind is None:
        for event in reversed(span.events):
            if event.name == "exception" and event.attributes:
                kind = event.attributes.get("exception.type")
                break
    return str(kind or "error")


class StepMetrics(SpanProcessor):
    """Turns each finished span of our own code into the metrics above."""

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        pass

    def on_end(self, span: ReadableSpan) -> None:
        later(partial(self._record, span))  # an ended span does not change

    def _record(self, span: ReadableSpan) -> None:
        scope = span.instrumentation_scope
        if scope is None:
            return
        kind = _scope_kind(scope.name)
        if kind == _OTHER or span.start_time is None or span.end_time is None:
            return
        seconds = (span.end_time - span.start_time) / 1e9
        if kind == _HTTP:
            if span.kind is SpanKind.SERVER:
                instruments.request_duration.record(seconds, _request(span))
            return
        name = span.name
        error = span.status.status_code is StatusCode.ERROR
        if error:
            record_failure(name, error_kind(span))
        # One duration per step, in the instrument made for it: a model call's is the GenAI
        # operation duration, a slot wait's the slot-wait histogram, any other step's the step
        # histogram (a histogram point costs microseconds; each step pays for one).
        operation = _GENAI_OPERATIONS.get(name)
        if operation is not None:
            _genai(operation, seconds, span.attributes or {}, error_kind(span) if error else None)
        elif name == "image.wait_for_slot":
            instruments.slot_wait.record(seconds)
        else:
            service = str(span.resource.attributes.get("service.name", ""))
            instruments.step_duration.record(seconds, _step_labels(name, service))

    def shutdown(self) -> None:
        pass

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


def _request(span: ReadableSpan) -> dict[str, str | int]:
    """The request's method, status code and outcome (either semantic-convention spelling;
    no status means the app raised before it answered)."""
    attributes = span.attributes or {}
    method = str(attributes.get("http.request.method") or attributes.get("http.method") or "")
    status = attributes.get("http.response.status_code") or attributes.get("http.status_code")
    return _request_labels(method, status if isinstance(status, int) else 0)


def _genai(operation: str, seconds: float, attributes: Any, kind: str | None) -> None:
    values = tuple(str(attributes[key]) if key in attributes else None for key in _GENAI_KEYS)
    labels, input_labels, output_labels = _genai_labels(operation, values, kind)
    instruments.genai_duration.record(seconds, labels)
    tokens = attributes.get("gen_ai.usage.input_tokens")
    if tokens:
        instruments.genai_tokens.record(int(tokens), input_labels)
    tokens = attributes.get("gen_ai.usage.output_tokens")
    if tokens:
        instruments.genai_tokens.record(int(tokens), output_labels)


def prometheus_text() -> tuple[bytes, str]:
    """The process's metrics in the Prometheus text format, and its content type."""
    from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

    later.record_all()
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


class MetricsEndpoint:
    """GET /metrics on its own port, for the gRPC services (a thread; stops with ``close``)."""

    def __init__(self, host: str, port: int) -> None:
        from prometheus_client import start_http_server

        self._server, self._thread = start_http_server(port, addr=host)
        self.port: int = self._server.server_port

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
