"""The CaseStudy JSON schema is generated from the proto and validates what the LLMs write."""

from __future__ import annotations

import asyncio
from pathlib import Path

from casecraft.casestudy_schema import generate, schema, validate
from casecraft.v1 import case_study_pb2
from tests.fakes.faults import local_answer
from tests.fakes.notes import NOTES

ROOT = Path(__file__).resolve().parents[2]


def test_the_checked_in_schema_is_what_the_proto_generates() -> None:
    asset = ROOT / "casecraft" / "assets" / "case_study.schema.json"
    assert asset.read_text(encoding="utf-8") == generate(ROOT / "protos")


def test_properties_follow_proto_field_order_and_optional_fields_are_not_required() -> None:
    fields = [f.name for f in case_study_pb2.CaseStudy.DESCRIPTOR.fields]
    assert list(schema()["properties"]) == fields
    assert "quote" not in schema()["required"]
    metric = schema()["properties"]["metrics"]["items"]
    assert "before_value" not in metric["required"] and "label" in metric["required"]
    assert metric["properties"]["label"]["description"].startswith("What was measured")


def test_validate_parses_a_good_answer_and_lists_every_problem_of_a_bad_one() -> None:
    good = asyncio.run(local_answer(NOTES))
    study, errors = validate(good)
    assert errors == [] and study is not None and study.client_name == "Northwind Logistics"

    bad = {**good, "client_name": 7, "extra": True}
    bad.pop("title")
    bad["metrics"] = [{**good["metrics"][0], "before": 94}]
    study, errors = validate(bad)
    assert study is None
    assert "client_name: 7 is not of type 'string'" in errors
    assert "metrics[0].before: 94 is not of type 'string'" in errors
    assert any("'title' is a required property" in e for e in errors)
    assert any("'extra' was unexpected" in e for e in errors)
