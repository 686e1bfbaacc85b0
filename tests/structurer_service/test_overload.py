"""Past its ceiling the structurer refuses new calls at once, and the gateway says so with a 503."""

from __future__ import annotations

import asyncio

import grpc
import pytest

from casecraft.admission import Admission, Overloaded
from casecraft.v1 import structurer_pb2, structurer_pb2_grpc
from tests.conftest import gateway_client, running_images, running_structurer
from tests.support.providers import ScriptedStructurer

NOTES = "Client: Acme Freight. Dispatch time went from 94 min to 31 min."


async def test_a_call_past_the_ceiling_and_its_queue_is_refused_at_once() -> None:
    provider = ScriptedStructurer(hold_after=1)
    async with running_structurer(provider, max_in_flight=1, max_queued=0) as server:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
            stub = structurer_pb2_grpc.StructurerStub(channel)
            request = structurer_pb2.StructureRequest(notes=NOTES)
            running = asyncio.ensure_future(stub.Structure(request))
            await provider.held.wait()
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await stub.Structure(request)
            bad = stub.Structure(structurer_pb2.StructureRequest(notes=" "))
            with pytest.raises(grpc.aio.AioRpcError) as invalid:
                await bad
            provider.release.set()
            answer = await running
    assert refused.value.code() == grpc.StatusCode.UNAVAILABLE
    assert "at its limit of 1" in (refused.value.details() or "")
    assert ("retry-after", "2") in tuple(refused.value.trailing_metadata() or ())
    assert invalid.value.code() == grpc.StatusCode.INVALID_ARGUMENT, "bad input is still named"
    assert answer.case_study.title, "the admitted call finished"


async def test_the_gateway_answers_a_busy_structurer_with_503_and_retry_after() -> None:
    provider = ScriptedStructurer(hold_after=1)
    async with (
        running_structurer(provider, max_in_flight=1, max_queued=0) as s,
        running_images() as i,
        gateway_client(s.port, i.port) as client,
    ):
        first = asyncio.create_task(client.post("/v1/case-studies", json={"notes": NOTES}))
        await provider.held.wait()
        refused = await client.post("/v1/case-studies", json={"notes": NOTES})
        provider.release.set()
        assert (await first).status_code == 200
    assert refused.status_code == 503
    assert refused.headers["retry-after"] == "2"
    assert refused.json()["title"] == "Backend busy"


async def test_admission_queues_up_to_its_limit_then_refuses() -> None:
    admission = Admission("work", max_in_flight=1, max_queued=1)
    release = asyncio.Event()
    entered: list[int] = []

    async def work(number: int) -> None:
        async with admission.slot():
            entered.append(number)
            await release.wait()

    first = asyncio.create_task(work(1))
    second = asyncio.create_task(work(2))
    await asyncio.sleep(0)  # both tasks reach the gate
    assert entered == [1] and admission.admitted == 2
    with pytest.raises(Overloaded, match="at its limit of 2"):
        async with admission.slot():
            pass
    release.set()
    await asyncio.gather(first, second)
    assert entered == [1, 2] and admission.admitted == 0
