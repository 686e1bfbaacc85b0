"""LLM answers checked before they are answered: an invented figure or a name left in is re-asked
once, and what still does not hold is reported (fidelity, anonymized), through the real servicer."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import grpc
import pytest

from casecraft.v1 import structurer_pb2, structurer_pb2_grpc
from structurer_service.anonymize import find_names
from structurer_service.providers import StructurerProvider
from structurer_service.providers.anthropic import AnthropicStructurer, ClaudeModel
from structurer_service.providers.llm import Prices
from structurer_service.providers.openai_compatible import ChatModel, OpenAICompatibleStructurer
from tests.conftest import running_structurer
from tests.fakes.anthropic import FakeAnthropic
from tests.fakes.faults import invent, leak
from tests.fakes.notes import NOTES
from tests.fakes.openai_chat import FakeOpenAIChat
from tests.fakes.server import serve

NAMES = ("Northwind", "Dana", "Ruiz")


@asynccontextmanager
async def openai_fake() -> AsyncIterator[tuple[FakeOpenAIChat, StructurerProvider]]:
    fake = FakeOpenAIChat()
    async with serve(fake.app) as base_url:
        provider = OpenAICompatibleStructurer(
            api_key="sk-test-0123456789abcdef",
            base_url=f"{base_url}/v1",
            model=ChatModel("local-model", Prices(0, 0)),
            fast_model=ChatModel("local-model", Prices(0, 0)),
        )
        try:
            yield fake, provider
        finally:
            await provider.aclose()


@asynccontextmanager
async def anthropic_fake() -> AsyncIterator[tuple[FakeAnthropic, StructurerProvider]]:
    fake = FakeAnthropic()
    async with serve(fake.app) as base_url:
        provider = AnthropicStructurer(
            api_key="sk-ant-test-0123456789abcdef",
            base_url=base_url,
            model=ClaudeModel("claude-sonnet-5-5", Prices(2, 10)),
            fast_model=ClaudeModel("claude-haiku-5-5", Prices(0.1, 0.5)),
        )
        try:
            yield fake, provider
        finally:
            await provider.aclose()


FAKES = {"openai_compatible": openai_fake, "anthropic": anthropic_fake}


async def structure(
    provider: StructurerProvider, *, anonymize: bool = False
) -> structurer_pb2.StructureResponse:
    async with running_structurer(provider) as server:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
            stub = structurer_pb2_grpc.StructurerStub(channel)
            request = structurer_pb2.StructureRequest(
                notes=NOTES, options=structurer_pb2.StructureOptions(anonymize=anonymize)
            )
            reply: structurer_pb2.StructureResponse = await stub.Structure(request)
            return reply


def last_user_text(request: dict[str, object]) -> str:
    """The text of the request's last user turn (a chat message or a tool result)."""
    messages = request["messages"]
    assert isinstance(messages, list)
    content = messages[-1]["content"]
    if isinstance(content, str):
        return content
    return json.dumps(content)


@pytest.mark.parametrize("provider", FAKES)
async def test_an_invented_figure_is_reasked_once_and_the_second_answer_stands(
    provider: str,
) -> None:
    async with FAKES[provider]() as (fake, structurer):
        fake.script(invent())
        reply = await structure(structurer)
    assert len(fake.requests) == 2
    reask = last_user_text(fake.requests[1])
    assert "23%" in reask and "41,500" in reask and "results" in reask
    assert reply.fidelity.checked > 10 and list(reply.fidelity.untraced) == []
    assert "23%" not in reply.case_study.results
    assert reply.usage.attempts == 2
    assert not reply.HasField("anonymized")


@pytest.mark.parametrize("provider", FAKES)
async def test_a_model_that_insists_on_an_invented_figure_is_flagged(provider: str) -> None:
    async with FAKES[provider]() as (fake, structurer):
        fake.script(invent(), invent())
        reply = await structure(structurer)
    assert len(fake.requests) == 2  # one re-ask, no more
    assert [(u.field, u.value) for u in reply.fidelity.untraced] == [
        ("results", "23%"),
        ("results", "41,500"),
    ]
    assert "overtime fell by $41,500" in reply.fidelity.untraced[1].text
    assert any("23% in results" in w and "41,500 in results" in w for w in reply.warnings)


@pytest.mark.parametrize("provider", FAKES)
async def test_the_model_is_told_to_anonymise_and_a_clean_answer_is_not_reasked(
    provider: str,
) -> None:
    async with FAKES[provider]() as (fake, structurer):
        reply = await structure(structurer, anonymize=True)
    assert len(fake.requests) == 1
    assert "Anonymise this case study" in json.dumps(fake.requests[0]["messages"])
    assert reply.HasField("anonymized") and reply.anonymized is True
    text = str(reply.case_study)
    assert not any(name in text for name in NAMES)
    assert reply.case_study.client_name == "A logistics company"


@pytest.mark.parametrize("provider", FAKES)
async def test_a_name_left_in_is_reasked_once(provider: str) -> None:
    async with FAKES[provider]() as (fake, structurer):
        fake.script(leak())
        reply = await structure(structurer, anonymize=True)
    assert len(fake.requests) == 2
    reask = last_user_text(fake.requests[1])
    assert "client_name: still names the client or a person" in reask
    assert reply.anonymized is True
    assert not any(name in str(reply.case_study) for name in NAMES)


@pytest.mark.parametrize("provider", FAKES)
async def test_a_model_that_keeps_a_name_says_so_and_the_name_goes_nowhere(
    provider: str,
) -> None:
    async with FAKES[provider]() as (fake, structurer):
        fake.script(leak(), leak())
        reply = await structure(structurer, anonymize=True)
    assert len(fake.requests) == 2
    assert reply.HasField("anonymized") and reply.anonymized is False
    warning = next(w for w in reply.warnings if w.startswith("anonymize:"))
    assert "client_name" in warning and "title" in warning and "quote.author" in warning
    everything = str(reply.case_study) + " ".join(reply.warnings) + str(reply.fidelity)
    assert not any(name in everything for name in NAMES)


async def test_field_groups_sent_early_carry_no_name_even_when_the_model_leaks() -> None:
    async with openai_fake() as (fake, structurer):
        fake.script(leak(), leak())
        async with running_structurer(structurer) as server:
            async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
                stub = structurer_pb2_grpc.StructurerStub(channel)
                request = structurer_pb2.StructureRequest(
                    notes=NOTES, options=structurer_pb2.StructureOptions(anonymize=True)
                )
                events = [event async for event in stub.StructureStream(request)]
    groups = [group for event in events for group in event.field_groups]
    assert len(groups) == 4
    assert not any(name in str(group.partial) for group in groups for name in NAMES)


def test_names_are_found_where_notes_put_them() -> None:
    notes = (
        "From: Priya Natarajan <priya@cedarvalley.org>\n"
        "Attendees: J. Park (us), A. Lindqvist (Head of Nursing), R. Osei\n\n"
        "Client: Cedar Valley Health System\n"
        "We worked with Cedar Valley across its 12 clinics. Rosa's team pulled the data.\n"
        '"The board finally trusts the numbers." - Helen Achebe, COO\n\n'
        "Thanks,\nMarcus Bell\n"
    )
    names = find_names(notes)
    assert names.client == "Cedar Valley Health System"
    assert {"Cedar Valley Health System", "Cedar Valley", "Cedar"} <= set(names.client_variants)
    found = {person.name for person in names.people}
    assert {"Priya Natarajan", "J. Park", "A. Lindqvist", "R. Osei", "Rosa", "Helen Achebe"} <= (
        found
    )
    assert "Marcus Bell" in found
    assert names.descriptor == "a 12-clinic healthcare network"
    scrubbed = names.scrub(
        "Cedar Valley's nurses met Helen Achebe; A. Lindqvist wrote to priya@cedarvalley.org."
    )
    assert scrubbed == (
        "A 12-clinic healthcare network's nurses met their COO; their Head of Nursing wrote "
        "to (address withheld)."
    )
