"""casecraft.protojson gives exactly json_format's results, whatever the message holds."""

from __future__ import annotations

import math
from typing import Any

import pytest
from google.protobuf import json_format
from google.protobuf.message import Message

from casecraft import protojson
from casecraft.v1 import case_study_pb2, image_pb2, structurer_pb2
from tests.support.providers import ACME


def _full_case_study() -> case_study_pb2.CaseStudy:
    """Every field of CaseStudy set, nested messages included (a new field must be added here)."""
    study = case_study_pb2.CaseStudy()
    study.CopyFrom(ACME)
    study.quote.CopyFrom(case_study_pb2.Quote(text="Great", author="Dana", role="VP"))
    # A set optional field at zero is in the JSON; unset ones are not.
    study.metrics.add(label="Errors", before_value=0.0)
    for field in study.DESCRIPTOR.fields:
        assert field.name in {f.name for f, _ in study.ListFields()}, field.name
    for field in study.metrics[0].DESCRIPTOR.fields:
        assert field.name in {f.name for f, _ in study.metrics[0].ListFields()}, field.name
    return study


MESSAGES: list[Message] = [
    _full_case_study(),
    case_study_pb2.CaseStudy(),
    case_study_pb2.CaseStudy(title="Only a title", quote=case_study_pb2.Quote()),
    structurer_pb2.Usage(
        provider="anthropic", model="m", input_tokens=3, output_tokens=4, cost_usd=0.5, attempts=2
    ),
    # The rest go to json_format: an enum, bytes, a map, non-finite numbers.
    structurer_pb2.FieldGroupReady(
        group=structurer_pb2.FIELD_GROUP_METRICS, partial=_full_case_study()
    ),
    image_pb2.ImageResult(image=b"\x89PNG", status=image_pb2.IMAGE_STATUS_OK),
    case_study_pb2.SpanRecord(name="structure", attributes={"casecraft.component": "hero"}),
    case_study_pb2.CaseStudy(metrics=[case_study_pb2.Metric(before_value=math.inf)]),
    case_study_pb2.CaseStudy(metrics=[case_study_pb2.Metric(after_value=math.nan)]),
]


@pytest.mark.parametrize("message", MESSAGES, ids=lambda m: type(m).__name__)
def test_to_dict_is_message_to_dict(message: Message) -> None:
    expected = json_format.MessageToDict(message, preserving_proto_field_name=True)
    assert protojson.to_dict(message) == expected


@pytest.mark.parametrize("message", MESSAGES, ids=lambda m: type(m).__name__)
def test_to_dict_with_defaults_is_message_to_dict_printing_them(message: Message) -> None:
    expected = json_format.MessageToDict(
        message, preserving_proto_field_name=True, always_print_fields_with_no_presence=True
    )
    assert protojson.to_dict(message, with_defaults=True) == expected


def test_non_finite_numbers_keep_their_json_names() -> None:
    study = case_study_pb2.CaseStudy(metrics=[case_study_pb2.Metric(before_value=-math.inf)])
    assert protojson.to_dict(study)["metrics"][0]["before_value"] == "-Infinity"


DICTS: list[dict[str, Any]] = [
    json_format.MessageToDict(_full_case_study(), preserving_proto_field_name=True),
    {"title": "t", "quote": None, "metrics": []},
    # Forms only the JSON mapping accepts: JSON names, numbers as strings, unknown keys.
    {"clientName": "Harbor", "metrics": [{"label": "x", "beforeValue": "12.5", "note": "?"}]},
]


@pytest.mark.parametrize("data", DICTS)
def test_from_dict_is_parse_dict(data: dict[str, Any]) -> None:
    expected = json_format.ParseDict(data, case_study_pb2.CaseStudy(), ignore_unknown_fields=True)
    assert protojson.from_dict(data, case_study_pb2.CaseStudy) == expected


@pytest.mark.parametrize(
    "data",
    [{"title": 3}, {"metrics": "none"}, {"metrics": [{"label": ["a"]}]}, {"quote": {"text": 1}}],
)
def test_from_dict_raises_what_parse_dict_raises(data: dict[str, Any]) -> None:
    with pytest.raises(json_format.ParseError):
        protojson.from_dict(data, case_study_pb2.CaseStudy)
