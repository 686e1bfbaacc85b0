"""Structurer.Refine over a real gRPC server: one section rewritten by the LLM chain, nothing else."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import grpc
import pytest

from casecraft.v1 import case_study_pb2, structurer_pb2, structurer_pb2_grpc
from structurer_service.checks import ANONYMIZE_INSTRUCTION
from structurer_service.providers.registry import build_chain, resilient
from structurer_service.refine import SECTIONS, rewrite_section
from structurer_service.settings import StructurerSettings
from tests.conftest import running_structurer
from tests.fakes.anthropic import FakeAnthropic
from tests.fakes.faults import leak, status
from tests.fakes.notes import NOTES
from tests.fakes.openai_chat import FakeOpenAIChat
from tests.fakes.server import serve
from tests.support.providers import ACME

ANTHROPIC_KEY = "sk-ant-test-key-0123456789abcdef"
OPENROUTER_KEY = "sk-or-test-0123456789abcdef"


@pytest.fixture
async def claude() -> AsyncIterator[tuple[FakeAnthropic, str]]:
    fake = FakeAnthropic()
    async with serve(fake.app) as base_url:
        yield fake, base_url


STUDY = case_study_pb2.CaseStudy()
STUDY.CopyFrom(ACME)
STUDY.challenge = "Dispatch took too long. Drivers waited an hour for a route."


def refine_request(
    section: str, instruction: str, notes: str = NOTES
) -> structurer_pb2.RefineRequest:
    return structurer_pb2.RefineRequest(
        case_study=STUDY, section=section, instruction=instruction, notes=notes
    )


async def refine(
    settings: StructurerSettings, request: structurer_pb2.RefineRequest
) -> structurer_pb2.RefineResponse:
    chain = resilient(build_chain(settings), settings)
    try:
        async with running_structurer(chain) as server:
            async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
                answer: structurer_pb2.RefineResponse = await structurer_pb2_grpc.StructurerStub(
                    channel
                ).Refine(request)
                return answer
    finally:
        await chain.aclose()


def with_claude(base_url: str, providers: str = "anthropic,local") -> StructurerSettings:
    return StructurerSettings(
        providers=providers, anthropic_api_key=ANTHROPIC_KEY, anthropic_base_url=base_url
    )


async def test_claude_rewrites_only_the_section_asked_for(
    claude: tuple[FakeAnthropic, str],
) -> None:
    fake, base_url = claude
    answer = await refine(with_claude(base_url), refine_request("challenge", "shorter"))

    assert answer.changed == ["challenge"]
    assert answer.case_study.challenge == "Dispatch took too long."
    rest = case_study_pb2.CaseStudy()
    rest.CopyFrom(answer.case_study)
    rest.challenge = STUDY.challenge
    assert rest == STUDY, "every other field comes back exactly as sent"
    assert answer.usage.provider == "anthropic" and answer.usage.input_tokens > 0
    assert {s.name for s in answer.spans} >= {"refine"}
    # What the model was asked: the section, the instruction, the case study and the notes.
    prompt = fake.requests[0]["messages"][0]["content"]
    assert "<section>challenge</section>" in prompt and "shorter" in prompt
    assert STUDY.challenge in prompt and NOTES in prompt


async def test_the_quote_can_be_rewritten(claude: tuple[FakeAnthropic, str]) -> None:
    _, base_url = claude
    answer = await refine(
        with_claude(base_url), refine_request("quote", "replace with: We shipped it in a week.")
    )
    assert answer.case_study.quote.text == "We shipped it in a week."
    assert answer.case_study.quote.author == ACME.quote.author
    assert answer.changed == ["quote"]


async def test_an_unchanged_rewrite_reports_nothing_changed(
    claude: tuple[FakeAnthropic, str],
) -> None:
    _, base_url = claude
    answer = await refine(
        with_claude(base_url), refine_request("title", f"replace with: {STUDY.title}")
    )
    assert answer.case_study == STUDY
    assert list(answer.changed) == []


async def test_a_failing_provider_falls_back_to_the_next_llm(
    claude: tuple[FakeAnthropic, str],
) -> None:
    fake, base_url = claude
    fake.script(status(400, message="bad request"))
    other = FakeOpenAIChat()
    async with serve(other.app) as other_url:
        settings = StructurerSettings(
            providers="anthropic,openai_compatible,local",
            anthropic_api_key=ANTHROPIC_KEY,
            anthropic_base_url=base_url,
            openrouter_api_key=OPENROUTER_KEY,
            openrouter_base_url=f"{other_url}/api/v1",
        )
        answer = await refine(settings, refine_request("results", "replace with: Faster."))
    assert answer.case_study.results == "Faster."
    assert answer.usage.provider == "openai_compatible"
    assert len(fake.requests) == 1 and len(other.requests) == 1


async def test_the_local_provider_says_it_cannot_follow_instructions() -> None:
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await refine(StructurerSettings(providers="local"), refine_request("title", "shorter"))
    assert raised.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    details = raised.value.details() or ""
    assert "configure an LLM provider" in details and "PATCH" in details


@pytest.mark.parametrize(
    ("request_", "names"),
    [
        (refine_request("metrics", "fewer"), ["section", "title, subtitle"]),
        (refine_request("", "shorter"), ["section"]),
        (refine_request("title", "   "), ["instruction", "empty"]),
        (refine_request("title", "x" * 2_001), ["instruction", "2,001"]),
        (
            structurer_pb2.RefineRequest(section="title", instruction="shorter"),
            ["case_study", "missing"],
        ),
        (refine_request("title", "shorter", notes=" "), ["notes"]),
    ],
)
async def test_bad_requests_name_the_field_and_the_fix(
    claude: tuple[FakeAnthropic, str], request_: structurer_pb2.RefineRequest, names: list[str]
) -> None:
    fake, base_url = claude
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await refine(with_claude(base_url), request_)
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    for name in names:
        assert name in (raised.value.details() or "")
    assert fake.requests == [], "nothing was sent to the model"


def test_a_rewrite_keeps_every_field_but_its_section() -> None:
    rewritten = case_study_pb2.CaseStudy()
    rewritten.CopyFrom(ACME)
    rewritten.client_name = "Someone Else"
    rewritten.solution = "A new solution."
    rewritten.ClearField("quote")
    assert rewrite_section(ACME, rewritten, "solution").client_name == ACME.client_name
    assert rewrite_section(ACME, rewritten, "solution").solution == "A new solution."
    assert not rewrite_section(ACME, rewritten, "quote").HasField("quote")
    assert set(SECTIONS) <= {f.name for f in case_study_pb2.CaseStudy.DESCRIPTOR.fields}


async def test_a_case_study_with_empty_and_default_fields_can_be_refined(
    claude: tuple[FakeAnthropic, str],
) -> None:
    """The model is shown every field (empty strings, false flags), so what it writes back
    holds every field the schema requires."""
    _, base_url = claude
    sparse = case_study_pb2.CaseStudy()
    sparse.CopyFrom(STUDY)
    sparse.subtitle = ""
    for metric in sparse.metrics:
        metric.improvement = ""
        metric.lower_is_better = False
    request = structurer_pb2.RefineRequest(
        case_study=sparse, section="title", instruction="replace with: Faster dispatch", notes=NOTES
    )
    answer = await refine(with_claude(base_url), request)
    assert answer.case_study.title == "Faster dispatch"
    assert answer.changed == ["title"]


def anonymized(request: structurer_pb2.RefineRequest) -> structurer_pb2.RefineRequest:
    request.options.anonymize = True
    return request


async def test_the_rewrite_of_an_anonymized_study_is_asked_to_name_nobody(
    claude: tuple[FakeAnthropic, str],
) -> None:
    fake, base_url = claude
    instruction = "replace with: Northwind Logistics plans routes in 31 min."
    answer = await refine(with_claude(base_url), anonymized(refine_request("results", instruction)))

    prompt = fake.requests[0]["messages"][0]["content"]
    assert ANONYMIZE_INSTRUCTION in prompt, "the model is told to anonymise the rewrite"
    assert len(fake.requests) == 1, "the model complied: no re-ask"
    assert "Northwind" not in answer.case_study.results
    assert "31 min" in answer.case_study.results
    assert answer.HasField("anonymized") and answer.anonymized is True


async def test_a_rewrite_that_keeps_naming_the_client_is_re_asked_then_scrubbed(
    claude: tuple[FakeAnthropic, str],
) -> None:
    fake, base_url = claude
    fake.script(leak(), leak())
    instruction = "replace with: Northwind Logistics plans routes in 31 min."
    answer = await refine(with_claude(base_url), anonymized(refine_request("results", instruction)))

    assert len(fake.requests) == 2, "the name is re-asked about once"
    assert "results" in json.dumps(fake.requests[1]["messages"][-1])
    assert "Northwind" not in answer.case_study.results
    assert "31 min" in answer.case_study.results
    assert answer.HasField("anonymized") and answer.anonymized is False
    assert any("anonymize" in w and "results" in w for w in answer.warnings)
    assert answer.changed == ["results"]
    rest = case_study_pb2.CaseStudy()
    rest.CopyFrom(answer.case_study)
    rest.results = STUDY.results
    assert rest == STUDY, "nothing but the rewritten section changes"


async def test_a_figure_the_notes_do_not_hold_in_the_rewrite_is_re_asked_and_reported(
    claude: tuple[FakeAnthropic, str],
) -> None:
    fake, base_url = claude
    request = refine_request("results", "replace with: Late deliveries fell by 412%.")
    answer = await refine(with_claude(base_url), request)

    assert len(fake.requests) == 2, "the untraced figure is re-asked about once"
    untraced = [(u.field, u.value) for u in answer.fidelity.untraced]
    assert ("results", "412%") in untraced
    assert answer.fidelity.checked >= len(untraced) > 0
    assert any("412%" in w for w in answer.warnings)
    assert not answer.HasField("anonymized"), "anonymizing was not asked for"


async def test_figures_outside_the_section_are_reported_but_not_re_asked_about(
    claude: tuple[FakeAnthropic, str],
) -> None:
    fake, base_url = claude
    request = refine_request("title", "replace with: Faster dispatch")
    request.case_study.challenge = "Dispatch took 412 minutes."  # a person's edit, say
    answer = await refine(with_claude(base_url), request)
    assert len(fake.requests) == 1, "a re-ask could not change the challenge: none is made"
    assert ("challenge", "412") in [(u.field, u.value) for u in answer.fidelity.untraced]


async def test_without_notes_the_rewrite_is_not_checked(
    claude: tuple[FakeAnthropic, str],
) -> None:
    fake, base_url = claude
    request = anonymized(refine_request("results", "replace with: Up 412%.", notes=""))
    answer = await refine(with_claude(base_url), request)
    assert len(fake.requests) == 1
    assert answer.case_study.results == "Up 412%."
    assert not answer.HasField("fidelity") and not answer.HasField("anonymized")
