"""OpenTelemetry set-up shared by the three services, and the capture of a call's own spans.

``configure_tracing(service)`` runs once per process: a tracer provider and a meter provider with
the service's resource (``OTEL_RESOURCE_ATTRIBUTES`` and the other standard ``OTEL_*`` variables
honoured), OTLP/gRPC export when ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set, Prometheus metrics, and
spans for outgoing httpx calls. The configured sampler (``OTEL_TRACES_SAMPLER``) chooses the traces
that are exported; every span is recorded all the same, for the timing report and the metrics.
``shutdown_telemetry()`` flushes the exporters on exit.

Every service returns the spans it recorded for a call (as ``SpanRecord`` messages) with its gRPC
response, so the gateway can say where a request's time went without a tracing backend.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from opentelemetry import metrics, trace
from opentelemetry.context import Context
from opentelemetry.sdk.metrics import AlwaysOffExemplarFilter, ExemplarFilter, MeterProvider
from opentelemetry.sdk.metrics.export import MetricReader, PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.sampling import AlwaysRecordSampler, Decision, SamplingResult
from opentelemetry.trace import Link, SpanKind, StatusCode, TraceState
from opentelemetry.util.types import Attributes
from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from casecraft.config import load_settings
from casecraft.prometheus import StepMetrics, later
from casecraft.v1 import case_study_pb2

# The one attribute a SpanRecord carries: which image a step made (its name in the report). The
# rest (model, tokens, attempts) is in the answer's usage and images, and in the tracing backend.
_COMPONENT = "casecraft.component"


class TelemetrySettings(BaseSettings):
    """The switches read once at start-up; the OTel SDK reads its other OTEL_* variables itself."""

    model_config = SettingsConfigDict(populate_by_name=True)

    otlp_endpoint: str = Field(
        default="",
        validation_alias=AliasChoices(
            "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
        ),
        description="OTLP/gRPC collector for traces; unset: nothing is exported (the timing "
        "report works regardless).",
    )
    otlp_metrics_endpoint: str = Field(
        default="",
        validation_alias=AliasChoices(
            "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT"
        ),
        description="OTLP/gRPC collector for metrics; unset: Prometheus text only.",
    )
    sdk_disabled: bool = Field(
        default=False,
        validation_alias="OTEL_SDK_DISABLED",
        description="The SDK's off switch: no spans, no span-derived metrics, no timing report.",
    )
    traces_exporter: str = Field(
        default="otlp",
        validation_alias="OTEL_TRACES_EXPORTER",
        description="`none` turns trace export off even with an endpoint.",
    )
    metrics_exporter: str = Field(
        default="otlp",
        validation_alias="OTEL_METRICS_EXPORTER",
        description="`none` turns OTLP metric export off even with an endpoint.",
    )
    exemplar_filter: str = Field(
        default="",
        validation_alias="OTEL_METRICS_EXEMPLAR_FILTER",
        description="Metric exemplars are off unless this names a filter (e.g. `trace_based`).",
    )
    capture_prompts: bool = Field(
        default=False,
        validation_alias="CASECRAFT_CAPTURE_PROMPTS",
        description="Debug only: puts the notes and image prompts into spans "
        "(`gen_ai.input.messages`) and lets the provider libraries' debug logs through.",
    )


class SpanCapture(SpanProcessor):
    """Collects the finished spans below chosen root spans, so a call can return its own spans.

    It also remembers the open server spans (the RPC or HTTP request a call runs under), so that
    a call's records can include the request that is still being answered.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._owner: dict[int, list[ReadableSpan]] = {}
        self._servers: dict[int, Span] = {}

    @contextmanager
    def capture(self, root: trace.Span | None = None) -> Iterator[list[ReadableSpan]]:
        """Collect ``root`` and every span started below it until the block exits; more roots
        can join with ``watch``."""
        spans: list[ReadableSpan] = []
        if root is not None:
            self.watch(root, spans)
        try:
            yield spans
        finally:
            with self._lock:
                for key in [k for k, v in self._owner.items() if v is spans]:
                    del self._owner[key]

    def watch(self, span: trace.Span, spans: list[ReadableSpan]) -> None:
        """Collect ``span`` and the spans started below it into ``spans`` (a capture's list)."""
        with self._lock:
            self._owner[span.get_span_context().span_id] = spans

    def open_server_span(self, span_id: int) -> Span | None:
        with self._lock:
            return self._servers.get(span_id)

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        context = span.context
        if context is None:
            return
        if span.kind is SpanKind.SERVER:
            with self._lock:
                self._servers[context.span_id] = span
        parent = span.parent
        if parent is None or parent.is_remote:
            return  # a call into another service returns its own spans (in-process tests too)
        with self._lock:
            spans = self._owner.get(parent.span_id)
            if spans is not None:
                self._owner[context.span_id] = spans

    def on_end(self, span: ReadableSpan) -> None:
        if span.context is None:
            return
        with self._lock:
            if span.kind is SpanKind.SERVER:
                self._servers.pop(span.context.span_id, None)
            spans = self._owner.get(span.context.span_id)
        if spans is not None:
            spans.append(span)

    def shutdown(self) -> None:
        pass

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


class RecordEverySpan(AlwaysRecordSampler):
    """The SDK's AlwaysRecordSampler (a DROP becomes RECORD_ONLY: recorded, not exported), keeping
    the attributes the span was started with: a sampler's DROP result carries none, so the span
    it records would lose them (the component of an image step, the RPC's method)."""

    def should_sample(
        self,
        parent_context: Context | None,
        trace_id: int,
        name: str,
        kind: SpanKind | None = None,
        attributes: Attributes = None,
        links: Sequence[Link] | None = None,
        trace_state: TraceState | None = None,
    ) -> SamplingResult:
        result = super().should_sample(
            parent_context, trace_id, name, kind, attributes, links, trace_state
        )
        if result.decision is Decision.RECORD_ONLY and attributes and not result.attributes:
            return SamplingResult(Decision.RECORD_ONLY, attributes, result.trace_state)
        return result


_capture = SpanCapture()
_configured: set[str] = set()
_lock = threading.Lock()
_settings = load_settings(TelemetrySettings)
_providers: list[TracerProvider | MeterProvider] = []


def configure_tracing(service_name: str) -> None:
    """Install the process's tracer and meter providers once (later calls change nothing)."""
    global _settings
    with _lock:
        if _configured:
            return
        _settings = load_settings(TelemetrySettings)
        _configured.add(service_name)
        if _settings.sdk_disabled:
            return  # the API's no-op providers stay; no instrumentation is installed
        resource = _HashedOnce(
            Resource.create({"service.name": service_name, "service.version": _version()})
        )
        tracer_provider = TracerProvider(resource=resource)
        # Sampling (OTEL_TRACES_SAMPLER, default parentbased_always_on) decides what is exported;
        # what it leaves out is still recorded, because every answer's timing report and the
        # step metrics are made from the spans of that very request.
        tracer_provider.sampler = RecordEverySpan(tracer_provider.sampler)
        tracer_provider.add_span_processor(_capture)
        tracer_provider.add_span_processor(StepMetrics())
        if _settings.otlp_endpoint and _settings.traces_exporter != "none":
            from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

            tracer_provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
        trace.set_tracer_provider(tracer_provider)
        readers = _metric_readers()
        meter_provider = MeterProvider(
            resource=resource, metric_readers=readers, exemplar_filter=_exemplar_filter()
        )
        metrics.set_meter_provider(meter_provider)
        _providers[:] = [tracer_provider, meter_provider]
        from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

        # A client span per provider call, without the instrumentation's own duration metric:
        # gen_ai.client.operation.duration already times each image and each structuring call.
        HTTPXClientInstrumentor().instrument(meter_provider=metrics.NoOpMeterProvider())


class _HashedOnce(Resource):
    """The SDK's Resource with its hash worked out once. The OTLP exporter groups every span it
    sends by resource, and ``Resource.__hash__`` serializes all the attributes to JSON each
    time, for every span. A resource never changes, so neither does its hash."""

    def __init__(self, resource: Resource) -> None:
        super().__init__(resource.attributes, resource.schema_url)
        self._hash = super().__hash__()

    def __hash__(self) -> int:
        return self._hash


def _metric_readers() -> list[MetricReader]:
    from opentelemetry.exporter.prometheus import PrometheusMetricReader

    readers: list[MetricReader] = [PrometheusMetricReader()]
    if _settings.otlp_metrics_endpoint and _settings.metrics_exporter != "none":
        from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter

        readers.append(PeriodicExportingMetricReader(OTLPMetricExporter()))
    return readers


def _exemplar_filter() -> ExemplarFilter | None:
    """No exemplars unless OTEL_METRICS_EXEMPLAR_FILTER asks (then None: the SDK reads it).

    The SDK's default (trace_based) offers every measurement made in a sampled trace to each
    reader's reservoir, a cost every request pays (docs/performance.md) for a link Prometheus
    text never shows and a trace id every answer already carries."""
    return None if _settings.exemplar_filter else AlwaysOffExemplarFilter()


def shutdown_telemetry() -> None:
    """Flush and stop the exporters; call once when the process is about to exit."""
    with _lock:
        providers, _providers[:] = list(_providers), []
    later.record_all()
    for provider in providers:
        provider.shutdown()


def tracer_provider() -> TracerProvider:
    provider = trace.get_tracer_provider()
    assert isinstance(provider, TracerProvider), "configure_tracing() has not run"
    return provider


def tracing_enabled() -> bool:
    """False when OTEL_SDK_DISABLED is true: then no RPC or HTTP instrumentation runs either."""
    return not _settings.sdk_disabled


def capture_prompts() -> bool:
    """Whether the debug switch CASECRAFT_CAPTURE_PROMPTS puts prompt text into spans."""
    return _settings.capture_prompts


def span_capture() -> SpanCapture:
    return _capture


def to_records(spans: list[ReadableSpan], service: str) -> list[case_study_pb2.SpanRecord]:
    """Convert finished spans into contract messages: names, ids, times, error, component.

    A span whose parent is an open server span (the RPC being answered) brings that span along,
    ending now: it is still open because this very answer is part of it.
    """
    records: list[case_study_pb2.SpanRecord] = []
    now = time.time_ns()
    ids = {span.context.span_id for span in spans if span.context is not None}
    trace_ids: dict[int, str] = {}  # one trace, formatted once
    for span in spans:
        parent = span.parent
        if parent is not None and parent.span_id not in ids:
            server = _capture.open_server_span(parent.span_id)
            if server is not None and server.context is not None:
                ids.add(server.context.span_id)
                _add_record(records, server, service, now, trace_ids)
        _add_record(records, span, service, now, trace_ids)
    return records


def _add_record(
    records: list[case_study_pb2.SpanRecord],
    span: ReadableSpan,
    service: str,
    now: int,
    trace_ids: dict[int, str],
) -> None:
    """Append the span's record, unless it has not started (it could say nothing)."""
    context = span.context
    start = span.start_time
    if context is None or not start:
        return
    trace_id = trace_ids.get(context.trace_id)
    if trace_id is None:
        trace_id = trace_ids[context.trace_id] = f"{context.trace_id:032x}"
    parent = span.parent
    record = case_study_pb2.SpanRecord(
        name=span.name,
        service=service,
        trace_id=trace_id,
        span_id=f"{context.span_id:016x}",
        parent_span_id=f"{parent.span_id:016x}" if parent else "",
        start_unix_nano=start,
        end_unix_nano=span.end_time or now,
        error=span.status.status_code is StatusCode.ERROR,
    )
    attributes = span.attributes
    component = attributes.get(_COMPONENT) if attributes else None
    if component:
        record.attributes[_COMPONENT] = str(component)
    records.append(record)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("casecraft")
    except PackageNotFoundError:
        return "0.0.0"
