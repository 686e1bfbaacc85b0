"""OpenTelemetry set-up shared by the three services, and the capture of a call's own spans.

Every service returns the spans it recorded for a call (as ``SpanRecord`` messages) with its gRPC
response, so the gateway can say where a request's time went without a tracing backend.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor, TracerProvider
from opentelemetry.trace import StatusCode

from casecraft.v1 import case_study_pb2

_SHOWN_ATTRIBUTE_PREFIXES = ("casecraft.", "gen_ai.", "rpc.", "http.")


class SpanCapture(SpanProcessor):
    """Collects the finished spans below chosen root spans, so a call can return its own spans."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._owner: dict[int, list[ReadableSpan]] = {}

    @contextmanager
    def capture(self, root: trace.Span) -> Iterator[list[ReadableSpan]]:
        """Collect ``root`` and every span started below it until the block exits."""
        spans: list[ReadableSpan] = []
        span_id = root.get_span_context().span_id
        with self._lock:
            self._owner[span_id] = spans
        try:
            yield spans
        finally:
            with self._lock:
                for key in [k for k, v in self._owner.items() if v is spans]:
                    del self._owner[key]

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        parent = span.parent
        if parent is None:
            return
        with self._lock:
            spans = self._owner.get(parent.span_id)
            if spans is not None and span.context is not None:
                self._owner[span.context.span_id] = spans

    def on_end(self, span: ReadableSpan) -> None:
        if span.context is None:
            return
        with self._lock:
            spans = self._owner.get(span.context.span_id)
        if spans is not None:
            spans.append(span)

    def shutdown(self) -> None:
        pass

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


_capture = SpanCapture()
_configured: set[str] = set()
_lock = threading.Lock()


def configure_tracing(service_name: str) -> None:
    """Install the process's tracer provider once (OTEL_* variables honoured by the SDK)."""
    with _lock:
        if _configured:
            return
        resource = Resource.create({"service.name": service_name, "service.version": _version()})
        provider = TracerProvider(resource=resource)
        provider.add_span_processor(_capture)
        trace.set_tracer_provider(provider)
        _configured.add(service_name)


def span_capture() -> SpanCapture:
    return _capture


def to_records(spans: list[ReadableSpan], service: str) -> list[case_study_pb2.SpanRecord]:
    """Convert finished spans into contract messages, keeping only attributes worth showing."""
    records = []
    for span in spans:
        context = span.context
        if context is None or span.start_time is None or span.end_time is None:
            continue
        records.append(
            case_study_pb2.SpanRecord(
                name=span.name,
                service=service,
                trace_id=format(context.trace_id, "032x"),
                span_id=format(context.span_id, "016x"),
                parent_span_id=format(span.parent.span_id, "016x") if span.parent else "",
                start_unix_nano=span.start_time,
                end_unix_nano=span.end_time,
                error=span.status.status_code is StatusCode.ERROR,
                attributes={
                    key: str(value)
                    for key, value in (span.attributes or {}).items()
                    if key.startswith(_SHOWN_ATTRIBUTE_PREFIXES)
                },
            )
        )
    return records


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("casecraft")
    except PackageNotFoundError:
        return "0.0.0"
