"""Running provider code under a step's span, as the servicers do, and reading what it recorded."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from casecraft.telemetry import configure_tracing, span_capture, tracer_provider

_exporter = InMemorySpanExporter()


@contextmanager
def exported_spans() -> Iterator[InMemorySpanExporter]:
    """Every span this process ends while the block runs, as an exporter would receive it."""
    configure_tracing("tests")
    provider = tracer_provider()
    if not getattr(provider, "_casecraft_test_exporter", False):
        provider.add_span_processor(SimpleSpanProcessor(_exporter))
        provider._casecraft_test_exporter = True  # type: ignore[attr-defined]
    _exporter.clear()
    try:
        yield _exporter
    finally:
        _exporter.clear()


@contextmanager
def step_span(name: str) -> Iterator[list[ReadableSpan]]:
    """Run under a span named ``name`` (``structure``, ``image.generate``); yields the list that
    holds it and every span below it once they end (the step's span last)."""
    configure_tracing("tests")
    span = trace.get_tracer(__name__).start_span(name)
    with span_capture().capture(span) as spans, trace.use_span(span, end_on_exit=True):
        yield spans


def attempt_errors(span: ReadableSpan) -> list[str]:
    """The error of each provider attempt the span recorded, in order ("" for a success)."""
    return [
        str((event.attributes or {}).get("casecraft.error", ""))
        for event in span.events
        if event.name == "provider_attempt"
    ]
