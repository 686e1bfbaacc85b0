"""The Structurer RPCs over a real gRPC server: validation, field groups in order, the final answer."""

from __future__ import annotations

import grpc
import pytest

from casecraft.errors import AllProvidersFailed
from casecraft.limits import MAX_NOTES_BYTES
from casecraft.v1 import structurer_pb2, structurer_pb2_grpc
from tests.conftest import running_structurer
from tests.support.providers import ACME, ScriptedStructurer


async def test_stream_sends_each_group_once_in_order_then_the_final_case_study() -> None:
    async with running_structurer(ScriptedStructurer()) as server:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
            stub = structurer_pb2_grpc.StructurerStub(channel)
            events = [
                e async for e in stub.StructureStream(structurer_pb2.StructureRequest(notes="n"))
            ]
    ready = [group for e in events for group in e.field_groups]
    groups = [group.group for group in ready]
    assert groups == [
        structurer_pb2.FIELD_GROUP_HEADLINE,
        structurer_pb2.FIELD_GROUP_METRICS,
        structurer_pb2.FIELD_GROUP_PHASES,
        structurer_pb2.FIELD_GROUP_NARRATIVE,
    ]
    assert events[-1].HasField("final") and sum(e.HasField("final") for e in events) == 1
    headline = ready[0].partial
    assert headline.title == ACME.title and not headline.metrics and not headline.challenge
    metrics = ready[1].partial
    assert metrics.metrics[0].after == "31 min"
    final = events[-1].final
    assert final.case_study == ACME
    assert final.usage.provider == "scripted"
    assert {s.name for s in final.spans} >= {"structure"}
    assert all(s.service == "structurer_service" for s in final.spans)


async def test_a_group_goes_out_alone_when_ready_and_groups_ready_together_share_an_event() -> None:
    provider = ScriptedStructurer(hold_after=1)  # pauses once the headline is complete
    async with running_structurer(provider) as server:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
            stub = structurer_pb2_grpc.StructurerStub(channel)
            stream = stub.StructureStream(structurer_pb2.StructureRequest(notes="n"))
            first = await stream.read()
            assert provider.held.is_set() and not provider.finished
            provider.release.set()  # the other three groups and the answer complete at once
            events = []
            while (event := await stream.read()) is not grpc.aio.EOF:
                events.append(event)
    assert isinstance(first, structurer_pb2.StructureEvent)
    assert [g.group for g in first.field_groups] == [structurer_pb2.FIELD_GROUP_HEADLINE]
    assert not first.HasField("final")
    assert len(events) == 1
    assert [g.group for g in events[0].field_groups] == [
        structurer_pb2.FIELD_GROUP_METRICS,
        structurer_pb2.FIELD_GROUP_PHASES,
        structurer_pb2.FIELD_GROUP_NARRATIVE,
    ]
    assert events[0].final.case_study == ACME


async def test_unary_structure_answers_with_the_validated_case_study() -> None:
    async with running_structurer(ScriptedStructurer()) as server:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
            stub = structurer_pb2_grpc.StructurerStub(channel)
            reply = await stub.Structure(structurer_pb2.StructureRequest(notes="some notes"))
    assert reply.case_study.client_name == "Acme Freight"
    assert reply.usage.attempts == 1


@pytest.mark.parametrize(
    ("notes", "expected"),
    [("", "empty"), ("   \n\t ", "empty"), ("x" * (MAX_NOTES_BYTES + 1), "over the limit")],
)
async def test_bad_notes_are_invalid_argument(notes: str, expected: str) -> None:
    async with running_structurer(ScriptedStructurer()) as server:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
            stub = structurer_pb2_grpc.StructurerStub(channel)
            with pytest.raises(grpc.aio.AioRpcError) as error:
                await stub.Structure(structurer_pb2.StructureRequest(notes=notes))
    assert error.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert "notes" in (error.value.details() or "") and expected in (error.value.details() or "")


class FailingStructurer:
    name = "failing"

    async def structure(self, notes: str, *, fast: bool):  # type: ignore[no-untyped-def]
        raise AllProvidersFailed(["failing: upstream said 503"])
        yield  # pragma: no cover


async def test_every_provider_failing_is_unavailable_with_the_reasons() -> None:
    async with running_structurer(FailingStructurer()) as server:  # type: ignore[arg-type]
        async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
            stub = structurer_pb2_grpc.StructurerStub(channel)
            with pytest.raises(grpc.aio.AioRpcError) as error:
                await stub.Structure(structurer_pb2.StructureRequest(notes="notes"))
    assert error.value.code() is grpc.StatusCode.UNAVAILABLE
    assert "upstream said 503" in (error.value.details() or "")


async def test_health_and_reflection_are_served() -> None:
    from grpc_health.v1 import health_pb2, health_pb2_grpc
    from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

    async with running_structurer(ScriptedStructurer()) as server:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
            health = health_pb2_grpc.HealthStub(channel)
            reply = await health.Check(
                health_pb2.HealthCheckRequest(service="casecraft.v1.Structurer")
            )
            assert reply.status == health_pb2.HealthCheckResponse.SERVING
            reflection = reflection_pb2_grpc.ServerReflectionStub(channel)
            call = reflection.ServerReflectionInfo(
                iter([reflection_pb2.ServerReflectionRequest(list_services="")])
            )
            listed = [s.name async for r in call for s in r.list_services_response.service]
    assert "casecraft.v1.Structurer" in listed and "grpc.health.v1.Health" in listed
