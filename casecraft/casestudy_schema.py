"""The CaseStudy JSON schema, generated from the proto (the one definition), and validation.

The schema follows ``casecraft.v1.CaseStudy``: properties in proto field order (image-relevant
fields first), every field required except those declared ``optional``, no extra properties, and
each field described by its comment in ``case_study.proto``. Comments are not in the runtime
descriptor, so the schema is generated at development time into ``assets/case_study.schema.json``
(``python -m casecraft.casestudy_schema``, with the dev extra's grpcio-tools); a test proves that
regenerating changes nothing.

``schema()`` is the schema as a dict; ``validate(data)`` checks a JSON object against it and parses it
into a ``CaseStudy``, returning ``(case_study, [])`` or ``(None, errors)`` with one readable error per
problem, e.g. ``metrics[0].before: 94 is not of type 'string'``.
"""

from __future__ import annotations

import functools
import json
import sys
import tempfile
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any, cast

from google.protobuf import descriptor_pb2, json_format
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from jsonschema import Draft202012Validator

from casecraft import protojson
from casecraft.v1 import case_study_pb2

ASSET = "assets/case_study.schema.json"
_PROTO = "casecraft/v1/case_study.proto"

_SCALARS: dict[int, dict[str, Any]] = {
    FieldDescriptor.TYPE_STRING: {"type": "string"},
    FieldDescriptor.TYPE_BOOL: {"type": "boolean"},
    FieldDescriptor.TYPE_DOUBLE: {"type": "number"},
    FieldDescriptor.TYPE_FLOAT: {"type": "number"},
    FieldDescriptor.TYPE_INT32: {"type": "integer"},
    FieldDescriptor.TYPE_INT64: {"type": "integer"},
    FieldDescriptor.TYPE_UINT32: {"type": "integer", "minimum": 0},
    FieldDescriptor.TYPE_UINT64: {"type": "integer", "minimum": 0},
}


def schema_for(message: Descriptor, comments: Mapping[str, str]) -> dict[str, Any]:
    """The JSON schema of ``message``; ``comments`` maps full field/message names to their docs."""
    properties: dict[str, Any] = {}
    required: list[str] = []
    for field in message.fields:
        if field.message_type is not None:
            item: dict[str, Any] = schema_for(field.message_type, comments)
        else:
            item = dict(_SCALARS[field.type])
        if field.is_repeated:
            item = {"type": "array", "items": item}
        described = comments.get(field.full_name)
        properties[field.name] = {"description": described, **item} if described else item
        if not field.has_presence:
            required.append(field.name)
    schema: dict[str, Any] = {"type": "object"}
    if comments.get(message.full_name):
        schema["description"] = comments[message.full_name]
    schema |= {"properties": properties, "required": required, "additionalProperties": False}
    return schema


def proto_comments(proto_root: Path) -> dict[str, str]:
    """Leading comments of every message and field in case_study.proto, by full name."""
    from grpc_tools import protoc

    include = Path(protoc.__file__).resolve().parent / "_proto"
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "set.pb"
        args = [
            "grpc_tools.protoc",
            f"--proto_path={proto_root}",
            f"--proto_path={include}",
            "--include_source_info",
            f"--descriptor_set_out={out}",
            _PROTO,
        ]
        if protoc.main(args) != 0:
            raise SystemExit("protoc failed; see the messages above")
        files = descriptor_pb2.FileDescriptorSet.FromString(out.read_bytes())
    proto = files.file[0]
    names: dict[tuple[int, ...], str] = {}
    for m, message in enumerate(proto.message_type):
        full = f"{proto.package}.{message.name}"
        names[(4, m)] = full
        for f, field in enumerate(message.field):
            names[(4, m, 2, f)] = f"{full}.{field.name}"
    comments = {}
    for location in proto.source_code_info.location:
        name = names.get(tuple(location.path))
        text = " ".join(line.strip() for line in location.leading_comments.splitlines()).strip()
        if name is not None and text:
            comments[name] = text
    return comments


def generate(proto_root: Path) -> str:
    # The stubs type DESCRIPTOR as the pure-Python or the upb class; both are a Descriptor.
    descriptor = cast(Descriptor, case_study_pb2.CaseStudy.DESCRIPTOR)
    schema = schema_for(descriptor, proto_comments(proto_root))
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


@functools.cache
def schema() -> dict[str, Any]:
    """The generated schema (treat it as read-only)."""
    loaded: dict[str, Any] = json.loads(
        resources.files("casecraft").joinpath(ASSET).read_text(encoding="utf-8")
    )
    return loaded


@functools.cache
def _validator() -> Draft202012Validator:
    return Draft202012Validator(schema())


def _where(path: Any) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def validate(data: Any) -> tuple[case_study_pb2.CaseStudy | None, list[str]]:
    """``(CaseStudy, [])`` when ``data`` matches the schema, else ``(None, errors)``."""
    errors = sorted(
        (f"{_where(e.absolute_path)}: {e.message}" for e in _validator().iter_errors(data)),
    )
    if errors:
        return None, errors
    try:
        return protojson.from_dict(data, case_study_pb2.CaseStudy), []
    except json_format.ParseError as exc:
        return None, [str(exc)]


def main() -> None:
    root = Path(__file__).resolve().parent.parent
    target = Path(__file__).resolve().parent / ASSET
    target.parent.mkdir(exist_ok=True)
    target.write_text(generate(root / "protos"), encoding="utf-8")
    print(f"wrote {target}", file=sys.stderr)


if __name__ == "__main__":
    main()
