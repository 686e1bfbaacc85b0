"""needs_review: what a person should check, from the local extractor and from any provider."""

from __future__ import annotations

import grpc

from casecraft.v1 import case_study_pb2, structurer_pb2, structurer_pb2_grpc
from structurer_service.extract import extract
from structurer_service.providers.local import LocalStructurer
from tests.conftest import running_structurer, stack
from tests.support.providers import ACME, RecordingImages, ScriptedStructurer

NO_CLIENT = """Notes on the picking project for a pet food distributor (they asked not to be named).
Lines picked per hour rose from 85 to 130. Mis-picks fell from 1.2% to 0.4%.
"""


def fields(items: object) -> list[str]:
    return [item.field for item in items]  # type: ignore[attr-defined]


def test_a_missing_client_is_left_empty_and_flagged_never_invented() -> None:
    result = extract(NO_CLIENT)
    assert result.case_study.client_name == ""
    assert result.case_study.title.startswith("How a logistics client ")


def test_what_was_inferred_rather_than_read_is_flagged() -> None:
    inferred = extract("We worked with Harbor Freightways on dispatch: trucks and loads.\n")
    assert inferred.case_study.client_name == "Harbor Freightways"
    assert {"client_name", "industry", "quote"} <= set(fields(inferred.needs_review))
    stated = extract(
        "Client: Harbor Freightways\nIndustry: Logistics\n"
        'Dispatch time 94 min -> 31 min.\n"It changed our mornings entirely." - Dana Ruiz, COO\n'
    )
    assert fields(stated.needs_review) == []


def test_a_change_without_before_and_after_figures_is_flagged_by_position() -> None:
    result = extract("Client: Acme\nChurn 5% -> 3%.\nFalse declines fell by 40%.\n")
    assert [m.label for m in result.case_study.metrics] == ["Churn", "False declines"]
    assert "metrics[1]" in fields(result.needs_review)
    assert "metrics[0]" not in fields(result.needs_review)


async def test_the_answer_lists_empty_required_fields_for_any_provider() -> None:
    # A model that left client_name and phases empty and said nothing about it.
    sparse = case_study_pb2.CaseStudy()
    sparse.CopyFrom(ACME)
    sparse.client_name = ""
    del sparse.phases[:]
    async with running_structurer(ScriptedStructurer(sparse)) as server:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
            stub = structurer_pb2_grpc.StructurerStub(channel)
            request = structurer_pb2.StructureRequest(notes="notes")
            reply = await stub.Structure(request)
            events = [event async for event in stub.StructureStream(request)]
    assert fields(reply.needs_review) == ["client_name", "phases"]
    assert "never" in reply.needs_review[0].reason or "guessed" in reply.needs_review[0].reason
    assert events[-1].final.needs_review == reply.needs_review


async def test_the_local_provider_flags_over_grpc_in_field_order() -> None:
    async with running_structurer(LocalStructurer()) as server:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
            stub = structurer_pb2_grpc.StructurerStub(channel)
            reply = await stub.Structure(structurer_pb2.StructureRequest(notes=NO_CLIENT))
    listed = fields(reply.needs_review)
    assert listed[0] == "client_name" and "left empty" in reply.needs_review[0].reason
    assert listed == sorted(set(listed), key=listed.index)  # each field once
    assert "phases" in listed and "quote" in listed


async def test_the_gateway_answer_always_carries_needs_review() -> None:
    async with stack(ScriptedStructurer(), RecordingImages()) as client:
        complete = (await client.post("/v1/case-studies", json={"notes": "notes"})).json()
    assert complete["needs_review"] == []
    sparse = case_study_pb2.CaseStudy()
    sparse.CopyFrom(ACME)
    sparse.client_name = ""
    async with stack(ScriptedStructurer(sparse), RecordingImages()) as client:
        answer = (await client.post("/v1/case-studies", json={"notes": "notes"})).json()
    assert answer["needs_review"][0]["field"] == "client_name"
    assert set(answer["needs_review"][0]) == {"field", "reason"}
