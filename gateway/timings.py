"""The timing report of one request, built from the spans every service recorded for it."""

from __future__ import annotations

from collections.abc import Iterable

from casecraft.v1 import case_study_pb2
from gateway.schemas import StepOut, TimingsOut


def step_name(record: case_study_pb2.SpanRecord) -> str:
    component = record.attributes.get("casecraft.component")
    return f"{record.name} {component}" if component else record.name


def report(records: Iterable[case_study_pb2.SpanRecord], start_ns: int, end_ns: int) -> TimingsOut:
    """Each step's start offset, duration and share of the total, in start order."""
    total_ms = max((end_ns - start_ns) / 1e6, 1e-9)
    steps = [
        StepOut(
            name=step_name(r),
            service=r.service,
            start_ms=round((r.start_unix_nano - start_ns) / 1e6, 3),
            duration_ms=round((r.end_unix_nano - r.start_unix_nano) / 1e6, 3),
            share=round((r.end_unix_nano - r.start_unix_nano) / 1e6 / total_ms, 4),
            error=r.error,
        )
        for r in sorted(records, key=lambda r: (r.start_unix_nano, r.name))
    ]
    return TimingsOut(total_ms=round(total_ms, 3), steps=steps)
