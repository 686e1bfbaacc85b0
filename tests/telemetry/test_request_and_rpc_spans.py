"""The HTTP request's span and the RPC spans: names, attributes and statuses, read from an
in-memory exporter."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import grpc
import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from casecraft.v1 import structurer_pb2, structurer_pb2_grpc
from tests.conftest import running_structurer, stack
from tests.support.providers import DownStructurer, RecordingImages, ScriptedStructurer
from tests.support.spans import exported_spans

STRUCTURE_STREAM = "/casecraft.v1.Structurer/StructureStream"


@pytest.fixture
def exported() -> Iterator[InMemorySpanExporter]:
    with exported_spans() as exporter:
        yield exporter


def servers(exported: InMemorySpanExporter) -> list[ReadableSpan]:
    return [s for s in exported.get_finished_spans() if s.kind is SpanKind.SERVER]


async def test_a_request_span_is_named_by_its_route_and_says_what_was_answered(
    exported: InMemorySpanExporter,
) -> None:
    async with stack(ScriptedStructurer(), RecordingImages()) as client:
        missing = await client.get(
            "/v1/case-studies/no-such-job", headers={"user-agent": "span-test/1"}
        )
        unrouted = await client.get("/no/such/route")
    assert missing.status_code == unrouted.status_code == 404
    first, second = servers(exported)
    assert first.name == "GET /v1/case-studies/{id}"  # one name for every job
    attributes = dict(first.attributes or {})
    assert attributes["http.request.method"] == "GET"
    assert attributes["http.route"] == "/v1/case-studies/{id}"
    assert attributes["url.path"] == "/v1/case-studies/no-such-job"
    assert attributes["http.response.status_code"] == 404
    assert attributes["user_agent.original"] == "span-test/1"
    assert first.status.status_code is StatusCode.UNSET  # the caller's mistake, not ours
    assert format(first.context.trace_id, "032x") == missing.headers["x-trace-id"]
    # No route: the method alone, so that scanned paths do not make a span name each.
    assert second.name == "GET" and "http.route" not in (second.attributes or {})


async def test_a_request_span_continues_the_callers_trace(
    exported: InMemorySpanExporter,
) -> None:
    trace_id, parent_id = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
    async with stack(ScriptedStructurer(), RecordingImages()) as client:
        response = await client.get(
            "/v1/case-studies/x", headers={"traceparent": f"00-{trace_id}-{parent_id}-01"}
        )
    assert response.headers["x-trace-id"] == trace_id
    (span,) = servers(exported)
    assert span.parent is not None and span.parent.is_remote
    assert format(span.parent.span_id, "016x") == parent_id


async def test_a_server_span_is_an_error_only_when_the_server_failed(
    exported: InMemorySpanExporter, channel_to: Callable[[int], grpc.aio.Channel]
) -> None:
    async with (
        running_structurer(ScriptedStructurer()) as good,
        running_structurer(DownStructurer()) as down,
    ):
        for port, notes, code in (
            (good.port, "", grpc.StatusCode.INVALID_ARGUMENT),  # the caller's mistake
            (down.port, "Harbor Freightways: dispatch 94 to 31 min.", grpc.StatusCode.UNAVAILABLE),
        ):
            async with channel_to(port) as channel:
                stream = structurer_pb2_grpc.StructurerStub(channel).StructureStream(
                    structurer_pb2.StructureRequest(notes=notes)
                )
                with pytest.raises(grpc.aio.AioRpcError) as raised:
                    async for _ in stream:
                        pass
                assert raised.value.code() is code
    refused, failed = [s for s in servers(exported) if s.name == STRUCTURE_STREAM]
    assert refused.attributes is not None and failed.attributes is not None
    assert refused.attributes["rpc.grpc.status_code"] == 3
    assert refused.status.status_code is StatusCode.UNSET
    assert failed.attributes["rpc.grpc.status_code"] == 14
    assert failed.status.status_code is StatusCode.ERROR
    for span in (refused, failed):
        assert span.attributes["rpc.system"] == "grpc"
        assert span.attributes["rpc.service"] == "casecraft.v1.Structurer"
        assert span.attributes["rpc.method"] == "StructureStream"
        assert span.parent is None  # no trace came with the call


async def test_a_server_span_continues_the_trace_in_the_calls_metadata(
    exported: InMemorySpanExporter, channel_to: Callable[[int], grpc.aio.Channel]
) -> None:
    tracer = trace.get_tracer(__name__)
    async with running_structurer(ScriptedStructurer()) as running:
        async with channel_to(running.port) as channel:
            with tracer.start_as_current_span("caller") as caller:
                context = caller.get_span_context()
                traceparent = f"00-{context.trace_id:032x}-{context.span_id:016x}-01"
                stream = structurer_pb2_grpc.StructurerStub(channel).StructureStream(
                    structurer_pb2.StructureRequest(notes="Harbor Freightways: 94 to 31 min."),
                    metadata=(("traceparent", traceparent),),
                )
                async for _ in stream:
                    pass
    (server,) = [s for s in servers(exported) if s.name == STRUCTURE_STREAM]
    assert server.parent is not None and server.parent.span_id == context.span_id
    assert server.attributes is not None and server.attributes["rpc.grpc.status_code"] == 0
    assert server.status.status_code is StatusCode.UNSET
