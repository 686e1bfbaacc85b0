"""The span tree of one request through real in-process servers, read from an in-memory exporter."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from casecraft.errors import ProviderError
from casecraft.v1 import image_pb2
from image_service.providers import GeneratedImage
from tests.conftest import gateway_client, running_images, running_structurer, stack
from tests.support.providers import DownStructurer, RecordingImages, ScriptedStructurer
from tests.support.spans import exported_spans

NOTES = "Confidential: Zanzibar Widget Cooperative cut returns by half."


@pytest.fixture
def exported() -> Iterator[InMemorySpanExporter]:
    with exported_spans() as exporter:
        yield exporter


def one(spans: list[ReadableSpan], name: str) -> ReadableSpan:
    found = [s for s in spans if s.name == name]
    assert len(found) == 1, f"{name}: {[s.name for s in spans]}"
    return found[0]


def parent_of(span: ReadableSpan, spans: list[ReadableSpan]) -> ReadableSpan:
    assert span.parent is not None, span.name
    return next(s for s in spans if s.context and s.context.span_id == span.parent.span_id)


async def test_one_request_makes_one_tree_across_the_three_services(
    exported: InMemorySpanExporter,
) -> None:
    async with stack(ScriptedStructurer(), RecordingImages()) as client:
        response = await client.post("/v1/case-studies", json={"notes": NOTES})
        assert (await client.get("/readyz")).status_code == 200
        assert (await client.get("/metrics")).status_code == 200
    assert response.status_code == 200, response.text
    body = response.json()
    spans = [s for s in exported.get_finished_spans() if s.name != "POST"]  # test client's own

    trace_ids = {format(s.context.trace_id, "032x") for s in spans if s.context}
    assert trace_ids == {body["trace_id"]} == {response.headers["x-trace-id"]}
    assert not [s.name for s in spans if "Health" in s.name or "readyz" in s.name]
    assert not [s.name for s in spans if "metrics" in s.name.lower()]

    root = one(spans, "POST /v1/case-studies")
    assert root.kind is SpanKind.SERVER and root.parent is None
    assert parent_of(one(spans, "respond"), spans) is root

    clients = [s for s in spans if s.kind is SpanKind.CLIENT and s.name.startswith("/casecraft")]
    servers = [s for s in spans if s.kind is SpanKind.SERVER and s.name.startswith("/casecraft")]
    assert (
        sorted(s.name for s in clients)
        == sorted(s.name for s in servers)
        == [
            "/casecraft.v1.ImageGenerator/Generate",
            "/casecraft.v1.Structurer/StructureStream",
        ]
    )
    for server in servers:
        client_span = parent_of(server, spans)
        assert client_span.kind is SpanKind.CLIENT and client_span.name == server.name
        assert parent_of(client_span, spans) is root

    structure = one(spans, "structure")
    assert parent_of(structure, spans).name == "/casecraft.v1.Structurer/StructureStream"
    attributes = dict(structure.attributes or {})
    assert attributes["gen_ai.operation.name"] == "chat"
    assert attributes["gen_ai.provider.name"] == "scripted"
    assert attributes["gen_ai.request.model"] == attributes["gen_ai.response.model"] == "script-1"
    assert "gen_ai.usage.input_tokens" in attributes and "gen_ai.usage.output_tokens" in attributes
    assert attributes["casecraft.time_to_first_chunk_ms"] >= 0
    groups = [e.attributes["casecraft.field_group"] for e in structure.events if e.attributes]
    assert len(groups) >= 3

    rpc = "/casecraft.v1.ImageGenerator/Generate"
    for name in ("image.wait_for_slot", "image.generate"):
        steps = [s for s in spans if s.name == name]
        assert sorted(s.attributes["casecraft.component"] for s in steps) == [  # type: ignore[index]
            "hero",
            "metrics",
            "timeline",
        ]
        for step in steps:
            server = parent_of(step, spans)
            assert server.name == rpc and server.kind is SpanKind.SERVER
            assert step.attributes is not None
            assert step.attributes["gen_ai.output.type"] == "image"
    for generate in (s for s in spans if s.name == "image.generate"):
        assert generate.attributes is not None
        assert generate.attributes["gen_ai.provider.name"] == "recording"
        assert generate.attributes["casecraft.cache_hit"] is False
        assert [e.name for e in generate.events] == ["provider_attempt"]
    # Seven spans make the request in this process tree: the HTTP request, its two RPCs on both
    # ends, the response, the structuring call and two steps per image.
    assert len(spans) == 1 + 2 * 2 + 1 + 1 + 2 * 3, sorted(s.name for s in spans)

    for span in spans:
        values = [*(span.attributes or {}).values()]
        values += [v for e in span.events for v in (e.attributes or {}).values()]
        assert not [v for v in values if "Zanzibar" in str(v)], span.name


class FailingImages:
    name = "broken"

    async def generate(self, job: image_pb2.ImageJob) -> GeneratedImage:
        raise ProviderError(self.name, "HTTP 400: bad prompt")


async def test_a_failed_image_marks_its_spans_and_the_report(
    exported: InMemorySpanExporter,
) -> None:
    async with stack(ScriptedStructurer(), FailingImages()) as client:
        response = await client.post(
            "/v1/case-studies", json={"notes": NOTES, "components": ["hero"]}
        )
    assert response.status_code == 200, response.text
    spans = exported.get_finished_spans()
    generate = one(list(spans), "image.generate")
    assert generate.status.status_code is StatusCode.ERROR
    assert generate.attributes is not None and generate.attributes["error.type"] == "failed"
    attempts = [dict(e.attributes or {}) for e in generate.events if e.name == "provider_attempt"]
    assert attempts and all(a["error.type"] == "ProviderError" for a in attempts)
    assert all("HTTP 400" in str(a["casecraft.error"]) for a in attempts)
    steps = response.json()["timings"]["steps"]
    assert next(s for s in steps if s["name"] == "image.generate hero")["error"] is True


async def test_a_trace_the_caller_did_not_sample_is_reported_but_not_exported(
    exported: InMemorySpanExporter,
) -> None:
    trace_id = "5f" * 16
    not_sampled = f"00-{trace_id}-{'7a' * 8}-00"  # the caller's trace, sampled flag off
    # The caches off: the second request makes the same steps as the first, not cache hits.
    async with (
        running_structurer(ScriptedStructurer(), cache="off") as s,
        running_images(RecordingImages(), cache="off") as i,
        gateway_client(s.port, i.port) as client,
    ):
        response = await client.post(
            "/v1/case-studies", json={"notes": NOTES}, headers={"traceparent": not_sampled}
        )
        sampled = await client.post("/v1/case-studies", json={"notes": NOTES})
    assert response.status_code == sampled.status_code == 200, response.text
    timings = response.json()["timings"]
    assert timings["trace_id"] == trace_id == response.headers["x-trace-id"]
    assert timings["sampled"] is False and sampled.json()["timings"]["sampled"] is True
    # Every step is still recorded and reported, across the three services ...
    names = {step["name"] for step in timings["steps"]}
    assert {"respond", "structure", "image.generate hero", "image.wait_for_slot hero"} <= names
    assert len(timings["steps"]) == len(sampled.json()["timings"]["steps"])
    # ... but none of it is exported: the sampler said no, and the services followed the caller.
    exported_ids = {format(s.context.trace_id, "032x") for s in exported.get_finished_spans()}
    assert trace_id not in exported_ids
    assert sampled.json()["trace_id"] in exported_ids


async def test_a_failed_rpc_ends_its_client_span_with_the_status(
    exported: InMemorySpanExporter,
) -> None:
    async with stack(DownStructurer(), RecordingImages()) as client:
        response = await client.post("/v1/case-studies", json={"notes": NOTES})
    assert response.status_code == 503, response.text
    spans = list(exported.get_finished_spans())
    rpc = "/casecraft.v1.Structurer/StructureStream"
    client_span = next(s for s in spans if s.name == rpc and s.kind is SpanKind.CLIENT)
    server_span = next(s for s in spans if s.name == rpc and s.kind is SpanKind.SERVER)
    assert parent_of(server_span, spans) is client_span  # the trace went on to the backend
    assert client_span.status.status_code is StatusCode.ERROR
    assert client_span.attributes is not None
    assert client_span.attributes["rpc.grpc.status_code"] == 14  # UNAVAILABLE
    # The image call, opened while the structurer worked, was closed without a job.
    generate = "/casecraft.v1.ImageGenerator/Generate"
    assert len([s for s in spans if s.name == generate and s.kind is SpanKind.CLIENT]) == 1
    assert not [s.name for s in spans if s.name.startswith("image.")]


async def test_a_repeated_request_says_on_its_spans_that_the_caches_answered(
    exported: InMemorySpanExporter,
) -> None:
    images = RecordingImages()
    async with stack(ScriptedStructurer(), images) as client:
        await client.post("/v1/case-studies", json={"notes": NOTES})
        exported.clear()
        again = await client.post("/v1/case-studies", json={"notes": NOTES})
    assert again.status_code == 200, again.text
    spans = exported.get_finished_spans()
    structure = one(list(spans), "structure")
    assert structure.attributes is not None
    assert structure.attributes["casecraft.cache"] == "hit"
    assert structure.attributes["gen_ai.provider.name"] == "scripted"
    generated = [s for s in spans if s.name == "image.generate"]
    assert len(generated) == 3 and not [s for s in spans if s.name == "image.wait_for_slot"]
    for span in generated:
        assert span.attributes is not None
        assert span.attributes["casecraft.cache_hit"] is True
        assert span.attributes["casecraft.cache"] == "hit"
    assert len(images.jobs) == 3  # the first request's three images, none for the repeat
