"""The local provider streams the extractor's case study group by group, in field order."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from google.protobuf.json_format import ParseDict

from casecraft.v1.case_study_pb2 import CaseStudy
from structurer_service.extract import extract
from structurer_service.providers import Draft, Structured, StructurerProvider
from structurer_service.providers.local import LocalStructurer

EXAMPLES = {
    path.stem: path.read_text(encoding="utf-8")
    for path in sorted((Path(__file__).resolve().parents[2] / "examples").glob("*.md"))
}
FIELD_ORDER = [field.name for field in CaseStudy.DESCRIPTOR.fields]


async def collect(notes: str, *, fast: bool = False) -> list[Draft | Structured]:
    provider: StructurerProvider = LocalStructurer()
    return [item async for item in provider.structure(notes, fast=fast)]


def test_identity() -> None:
    provider = LocalStructurer()
    assert (provider.name, provider.model) == ("local", "casecraft-local-extractor")


@pytest.mark.parametrize("name", EXAMPLES)
async def test_drafts_extend_each_other_in_field_order(name: str) -> None:
    items = await collect(EXAMPLES[name])
    assert [type(item) for item in items] == [Draft, Draft, Draft, Structured]
    drafts = [item.fields for item in items if isinstance(item, Draft)]
    assert list(drafts[0]) == ["client_name", "industry", "title", "subtitle", "metrics"]
    assert list(drafts[1])[-1] == "phases"
    assert {"challenge", "solution", "results"} <= set(drafts[2])
    for earlier, later in itertools.pairwise(drafts):
        assert len(later) > len(earlier)
        assert {key: later[key] for key in earlier} == earlier
    for draft in drafts:
        positions = [FIELD_ORDER.index(key) for key in draft]
        assert positions == sorted(positions)


@pytest.mark.parametrize("name", EXAMPLES)
async def test_final_answer_matches_extract(name: str) -> None:
    notes = EXAMPLES[name]
    items = await collect(notes, fast=True)
    final = items[-1]
    assert isinstance(final, Structured)
    expected = extract(notes)
    assert final.case_study == expected.case_study
    assert final.warnings == expected.warnings
    last_draft = items[-2]
    assert isinstance(last_draft, Draft)
    assert ParseDict(last_draft.fields, CaseStudy()) == final.case_study


async def test_usage_is_local_and_free() -> None:
    notes = EXAMPLES["logistics_dispatch"]
    final = (await collect(notes))[-1]
    assert isinstance(final, Structured)
    usage = final.usage
    assert (usage.provider, usage.model, usage.attempts) == (
        "local",
        "casecraft-local-extractor",
        1,
    )
    assert usage.cost_usd == 0
    assert usage.input_tokens >= len(notes.split())
    assert usage.output_tokens > 0


async def test_first_draft_already_holds_the_metrics() -> None:
    items = await collect("Client: Acme\n- Handle time: 12 min -> 7 min\nWeeks 1-2: Discovery\n")
    first = items[0]
    assert isinstance(first, Draft)
    assert first.fields["client_name"] == "Acme"
    assert first.fields["metrics"][0]["before_value"] == 12
    assert "phases" not in first.fields
    second = items[1]
    assert isinstance(second, Draft)
    assert second.fields["phases"] == [
        {"name": "Discovery", "period": "Weeks 1-2", "description": ""}
    ]


async def test_empty_groups_still_appear_so_readers_know_they_are_done() -> None:
    items = await collect("We talked about the weather.")
    first, second = items[0], items[1]
    assert isinstance(first, Draft) and isinstance(second, Draft)
    assert first.fields["metrics"] == [] and first.fields["client_name"] == ""
    assert second.fields["phases"] == []
    final = items[-1]
    assert isinstance(final, Structured)
    assert "no metrics found in the notes" in final.warnings
