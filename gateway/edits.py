"""A person's corrections to a case study: JSON merge patches (RFC 7396) and refine requests,
checked against the CaseStudy schema; every problem names the field and the fix."""

from __future__ import annotations

from typing import Any

from google.protobuf import json_format

from casecraft import casestudy_schema, protojson
from casecraft.v1 import case_study_pb2
from gateway.problems import Problem

MERGE_PATCH = "application/merge-patch+json"
MAX_INSTRUCTION_CHARS = 2_000


def merge_patch(target: Any, patch: Any) -> Any:
    """``patch`` applied to ``target`` as RFC 7396 section 2 states it: an object merges
    member by member, ``null`` removes a member, anything else replaces the value whole."""
    if not isinstance(patch, dict):
        return patch
    merged = dict(target) if isinstance(target, dict) else {}
    for name, value in patch.items():
        if value is None:
            merged.pop(name, None)
        else:
            merged[name] = merge_patch(merged.get(name), value)
    return merged


def apply_patch(
    case_study: dict[str, Any], patch: object
) -> tuple[case_study_pb2.CaseStudy, list[str]]:
    """The case study with ``patch`` (``{"case_study": {...}}``) applied, and the names of the
    fields it changed; a 422 naming the field when the patch or its result is invalid."""
    example = '{"case_study": {"client_name": "Acme"}}'
    if not isinstance(patch, dict):
        raise _invalid("body", f"not a JSON object; send a merge patch like {example}")
    unknown = sorted(set(patch) - {"case_study"})
    if unknown:
        raise _invalid(unknown[0], f"unknown field; only case_study can be patched, e.g. {example}")
    changes = patch.get("case_study", {})
    if not isinstance(changes, dict):
        raise _invalid("case_study", "must be an object of CaseStudy fields to change")
    fields = casestudy_schema.schema()["properties"]
    unknown = sorted(set(changes) - set(fields))
    if unknown:
        raise _invalid(
            f"case_study.{unknown[0]}", f"unknown field; the fields are {', '.join(fields)}"
        )
    before = _full(protojson.from_dict(case_study, case_study_pb2.CaseStudy))
    # A removed field that cannot be absent becomes empty, as in a case study that never had it.
    merged = {**_full(case_study_pb2.CaseStudy()), **merge_patch(before, changes)}
    after, errors = casestudy_schema.validate(merged)
    if after is None:
        first = errors[0]
        raise Problem(
            422,
            "Invalid request",
            f"case_study.{first}; the patched case study must match the CaseStudy schema "
            "(GET /openapi.json)",
            errors=[{"field": f"case_study.{e.split(':', 1)[0]}", "message": e} for e in errors],
        )
    return after, [name for name in fields if before.get(name) != merged.get(name)]


def refine_request(body: object) -> tuple[str, str]:
    """The section and instruction of a refine request."""
    if not isinstance(body, dict):
        raise _invalid("body", 'send {"section": "challenge", "instruction": "shorter"}')
    unknown = sorted(set(body) - {"section", "instruction"})
    if unknown:
        raise _invalid(unknown[0], "unknown field; the fields are section, instruction")
    section, instruction = body.get("section"), body.get("instruction")
    if not isinstance(section, str) or not section:
        raise _invalid(
            "section", "required: the case-study field to rewrite, e.g. title or challenge"
        )
    if not isinstance(instruction, str) or not instruction.strip():
        raise _invalid("instruction", 'required: what to change, e.g. "shorter"')
    if len(instruction) > MAX_INSTRUCTION_CHARS:
        raise _invalid("instruction", f"over {MAX_INSTRUCTION_CHARS:,} characters; shorten it")
    return section, instruction


def _full(case_study: case_study_pb2.CaseStudy) -> dict[str, Any]:
    """Every field, empty ones too: the schema requires them."""
    return json_format.MessageToDict(
        case_study, preserving_proto_field_name=True, always_print_fields_with_no_presence=True
    )


def _invalid(field: str, message: str) -> Problem:
    return Problem(
        422, "Invalid request", f"{field}: {message}", errors=[{"field": field, "message": message}]
    )
