"""The Structurer RPCs against callers that are not the gateway: odd notes, cancels, deadlines."""

from __future__ import annotations

import logging

import grpc
import pytest

from casecraft.v1 import structurer_pb2, structurer_pb2_grpc
from tests.conftest import running_structurer
from tests.support.providers import ACME, ScriptedStructurer


async def test_unary_structure_ends_its_span_in_its_own_call_and_logs_no_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING)
    async with running_structurer(ScriptedStructurer()) as server:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
            stub = structurer_pb2_grpc.StructurerStub(channel)
            reply = await stub.Structure(structurer_pb2.StructureRequest(notes="notes"))
    assert reply.case_study == ACME
    assert [record.getMessage() for record in caplog.records] == []


@pytest.mark.parametrize("notes", ["\u00a0\u2003\n", "\u3000"])
async def test_notes_of_unicode_whitespace_are_invalid_argument(notes: str) -> None:
    async with running_structurer(ScriptedStructurer()) as server:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
            stub = structurer_pb2_grpc.StructurerStub(channel)
            call = stub.StructureStream(structurer_pb2.StructureRequest(notes=notes))
            with pytest.raises(grpc.aio.AioRpcError) as error:
                [event async for event in call]
    assert error.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert "notes: empty" in (error.value.details() or "")


async def test_a_client_cancelling_mid_stream_cancels_the_provider() -> None:
    provider = ScriptedStructurer(hold_after=1)
    async with running_structurer(provider) as server:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
            stub = structurer_pb2_grpc.StructurerStub(channel)
            call = stub.StructureStream(structurer_pb2.StructureRequest(notes="notes"))
            first = await call.read()
            assert isinstance(first, structurer_pb2.StructureEvent)
            call.cancel()
            await provider.cancelled.wait()
    assert not provider.finished


async def test_an_expired_deadline_is_deadline_exceeded_and_the_server_still_answers() -> None:
    provider = ScriptedStructurer(hold_after=1)
    async with running_structurer(provider) as server:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
            stub = structurer_pb2_grpc.StructurerStub(channel)
            with pytest.raises(grpc.aio.AioRpcError) as error:
                await stub.Structure(structurer_pb2.StructureRequest(notes="notes"), timeout=0)
            provider.release.set()
            reply = await stub.Structure(structurer_pb2.StructureRequest(notes="notes"))
    assert error.value.code() is grpc.StatusCode.DEADLINE_EXCEEDED
    assert reply.case_study == ACME


@pytest.mark.parametrize("method", ["Structure", "StructureStream"])
async def test_a_request_that_does_not_parse_is_invalid_argument(
    method: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    async with running_structurer(ScriptedStructurer()) as server:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
            raw = getattr(channel, "unary_stream" if method == "StructureStream" else "unary_unary")
            call = raw(f"/casecraft.v1.Structurer/{method}")  # bytes in, bytes out
            with pytest.raises(grpc.aio.AioRpcError) as error:
                if method == "StructureStream":
                    [event async for event in call(b"\x0a\x02\xff\xfe")]  # notes: bad UTF-8
                else:
                    await call(b"\x0a\x02\xff\xfe")
            stub = structurer_pb2_grpc.StructurerStub(channel)
            reply = await stub.Structure(structurer_pb2.StructureRequest(notes="notes"))
    assert error.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    details = error.value.details() or ""
    assert "not a valid casecraft.v1.StructureRequest" in details, details
    assert reply.case_study == ACME
    assert [record.getMessage() for record in caplog.records] == []
