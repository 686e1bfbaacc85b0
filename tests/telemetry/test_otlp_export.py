"""The three services as separate processes, exporting to a real OTLP/gRPC receiver on port 0.

One request makes one trace across gateway, structurer and image service (and the image
provider's HTTP call), the services flush their spans when SIGTERM stops them, no span or log line
holds the API key or the notes, the timing report adds up, and /metrics counts the request.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import grpc
import httpx
from opentelemetry.proto.collector.metrics.v1 import (
    metrics_service_pb2,
    metrics_service_pb2_grpc,
)
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc
from opentelemetry.proto.resource.v1 import resource_pb2
from opentelemetry.proto.trace.v1 import trace_pb2
from prometheus_client.parser import text_string_to_metric_families

from casecraft.launcher import Stack
from tests.fakes.openrouter_images import FakeOpenRouter

API_KEY = "sk-or-v1-casecraft-telemetry-test-key-7f3a"
NOTES = (Path(__file__).resolve().parents[2] / "examples" / "logistics_dispatch.md").read_text()


class Receiver(trace_service_pb2_grpc.TraceServiceServicer):
    """Keeps every span with its service.name, and which services sent metrics."""

    def __init__(self) -> None:
        self.spans: list[tuple[str, trace_pb2.Span]] = []
        self.metric_services: set[str] = set()

    async def Export(
        self, request: trace_service_pb2.ExportTraceServiceRequest, context: object
    ) -> trace_service_pb2.ExportTraceServiceResponse:
        for resource_spans in request.resource_spans:
            service = _service(resource_spans.resource)
            for scope_spans in resource_spans.scope_spans:
                self.spans.extend((service, span) for span in scope_spans.spans)
        return trace_service_pb2.ExportTraceServiceResponse()


class MetricsReceiver(metrics_service_pb2_grpc.MetricsServiceServicer):
    def __init__(self, receiver: Receiver) -> None:
        self._receiver = receiver

    async def Export(
        self, request: metrics_service_pb2.ExportMetricsServiceRequest, context: object
    ) -> metrics_service_pb2.ExportMetricsServiceResponse:
        for resource_metrics in request.resource_metrics:
            self._receiver.metric_services.add(_service(resource_metrics.resource))
        return metrics_service_pb2.ExportMetricsServiceResponse()


def _service(resource: resource_pb2.Resource) -> str:
    for attribute in resource.attributes:
        if attribute.key == "service.name":
            return str(attribute.value.string_value)
    return ""


@asynccontextmanager
async def otlp_receiver() -> AsyncIterator[tuple[Receiver, str]]:
    receiver = Receiver()
    server = grpc.aio.server()
    trace_service_pb2_grpc.add_TraceServiceServicer_to_server(receiver, server)
    metrics_service_pb2_grpc.add_MetricsServiceServicer_to_server(MetricsReceiver(receiver), server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        yield receiver, f"http://127.0.0.1:{port}"
    finally:
        await server.stop(None)


def _values(span: trace_pb2.Span) -> list[str]:
    values = [span.name]
    for attribute in [*span.attributes, *(a for e in span.events for a in e.attributes)]:
        values.append(str(attribute.value))
    return values


async def test_one_trace_across_three_processes_reaches_the_collector() -> None:
    fake = FakeOpenRouter(api_key=API_KEY)
    lines: list[str] = []
    async with otlp_receiver() as (receiver, endpoint), fake.running() as provider_url:
        env = {
            **_base_env(),
            "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint,
            "OTEL_BSP_SCHEDULE_DELAY": "50",
            "OTEL_RESOURCE_ATTRIBUTES": "deployment.environment.name=test",
            "CASECRAFT_IMAGE_PROVIDERS": "openrouter,local",
            "OPENROUTER_API_KEY": API_KEY,
            "OPENROUTER_BASE_URL": provider_url,
        }
        stack = Stack(env=env, sink=lines.append)
        url = await asyncio.to_thread(stack.start)
        try:
            async with httpx.AsyncClient(base_url=url, timeout=60) as client:
                response = await client.post(
                    "/v1/case-studies", json={"notes": NOTES, "components": ["hero"]}
                )
                metrics_text = (await client.get("/metrics")).text
                service_metrics = [
                    (await client.get(f"http://127.0.0.1:{port}/metrics")).text
                    for port in _metrics_ports(lines)
                ]
        finally:
            codes = await asyncio.to_thread(stack.stop)
    assert codes == [0, 0, 0], "\n".join(lines[-30:])
    assert response.status_code == 200, response.text
    body = response.json()
    trace_id = body["trace_id"]
    assert response.headers["x-trace-id"] == trace_id

    # One trace holds spans from all three services, linked parent to child.
    ours = [(svc, s) for svc, s in receiver.spans if s.trace_id.hex() == trace_id]
    assert {svc for svc, _ in ours} == {"gateway", "structurer_service", "image_service"}
    by_id = {s.span_id: (svc, s) for svc, s in ours}
    roots = [s for _, s in ours if s.parent_span_id not in by_id]
    assert [s.name for s in roots] == ["POST /v1/case-studies"]

    def parent(name: str, service: str) -> tuple[str, str]:
        span = next(s for svc, s in ours if s.name == name and svc == service)
        svc, up = by_id[span.parent_span_id]
        return svc, up.name

    request = "POST /v1/case-studies"
    assert parent("respond", "gateway") == ("gateway", request)
    rpc = "/casecraft.v1.Structurer/StructureStream"
    assert parent(rpc, "structurer_service") == ("gateway", rpc)
    assert parent(rpc, "gateway") == ("gateway", request)
    assert parent("structure", "structurer_service") == ("structurer_service", rpc)
    rpc = "/casecraft.v1.ImageGenerator/Generate"
    assert parent(rpc, "image_service") == ("gateway", rpc)
    assert parent(rpc, "gateway") == ("gateway", request)
    assert parent("image.wait_for_slot", "image_service") == ("image_service", rpc)
    assert parent("image.generate", "image_service") == ("image_service", rpc)
    # The provider's HTTP call continues the trace too, out to the provider.
    http_calls = [s for svc, s in ours if svc == "image_service" and s.kind == s.SPAN_KIND_CLIENT]
    assert http_calls, [s.name for _, s in ours]
    assert any(trace_id in r.headers.get("traceparent", "") for r in fake.requests)

    # Secrets and the notes stay out of every span and every log line.
    long_lines = [line.strip() for line in NOTES.splitlines() if len(line.strip()) >= 40]
    assert long_lines
    for _, span in receiver.spans:
        text = "\n".join(_values(span))
        assert API_KEY not in text and API_KEY[:20] not in text, span.name
        assert not [line for line in long_lines if line in text], span.name
    log_text = "\n".join(lines)
    assert API_KEY not in log_text
    assert not [line for line in long_lines if line in log_text]
    assert any(
        json.loads(line).get("trace_id") == trace_id for line in lines if '"trace_id"' in line
    )

    # The report: steps from all three services; the critical path covers the total.
    timings = body["timings"]
    assert {s["service"] for s in timings["steps"]} == {
        "gateway",
        "structurer_service",
        "image_service",
    }
    covered = sum(s["duration_ms"] for s in timings["critical_path"])
    assert abs(covered - timings["total_ms"]) < 2.0
    ids = {s["span_id"] for s in timings["steps"]}
    assert all(s["parent_span_id"] in ids for s in timings["steps"][1:])

    # Prometheus text that counts the request; the services expose theirs, and sent OTLP metrics.
    families = {f.name: f for f in text_string_to_metric_families(metrics_text)}
    counts = [
        sample.value
        for sample in families["casecraft_request_duration_seconds"].samples
        if sample.name.endswith("_count") and sample.labels.get("casecraft_outcome") == "ok"
    ]
    assert counts == [1.0]
    assert len(service_metrics) == 2
    for text in service_metrics:
        names = {f.name for f in text_string_to_metric_families(text)}
        assert "gen_ai_client_operation_duration_seconds" in names
    assert receiver.metric_services >= {"gateway", "structurer_service", "image_service"}


def _base_env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "CASECRAFT_"))}


def _metrics_ports(lines: list[str]) -> list[int]:
    ports = []
    for line in lines:
        if '"metrics"' in line:
            entry = json.loads(line)
            if entry.get("event") == "metrics":
                ports.append(int(entry["port"]))
    return ports
