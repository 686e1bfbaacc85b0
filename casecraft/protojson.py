"""Protobuf messages to and from JSON-shaped dicts, without json_format's cost where it can.

``json_format`` is pure Python, and on the request path it costs more than the rest of the
answer's work (docs/performance.md). The message classes themselves (upb, in C) do the same work for the field types the contract uses: ``ListFields``
lists the set fields, and the constructor takes nested dicts and lists. Anything else (enums, bytes,
64-bit integers, well-known types, maps, non-finite numbers, JSON names, numbers written as
strings, unknown keys) goes to ``json_format``, so the result is always exactly its result.
"""

from __future__ import annotations

import math
from typing import Any, TypeVar

from google.protobuf import json_format
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

M = TypeVar("M", bound=Message)

_AS_IS = frozenset(
    {
        FieldDescriptor.TYPE_STRING,
        FieldDescriptor.TYPE_BOOL,
        FieldDescriptor.TYPE_INT32,
        FieldDescriptor.TYPE_UINT32,
        FieldDescriptor.TYPE_SINT32,
        FieldDescriptor.TYPE_FIXED32,
        FieldDescriptor.TYPE_SFIXED32,
    }
)


class _Unsupported(Exception):
    """A field whose JSON form only json_format knows."""


def to_dict(message: Message, *, with_defaults: bool = False) -> dict[str, Any]:
    """``json_format.MessageToDict(message, preserving_proto_field_name=True)``; with
    ``with_defaults``, fields without presence are there at their default too
    (``always_print_fields_with_no_presence=True``), so every required key of a schema is."""
    try:
        return _to_dict(message, with_defaults)
    except _Unsupported:
        return json_format.MessageToDict(
            message,
            preserving_proto_field_name=True,
            always_print_fields_with_no_presence=with_defaults,
        )


def from_dict(data: dict[str, Any], message_class: type[M]) -> M:
    """``json_format.ParseDict(data, message_class(), ignore_unknown_fields=True)``; raises
    ``json_format.ParseError`` when ``data`` does not fit the message."""
    try:
        return message_class(**data)
    except (ValueError, TypeError):
        pass  # a form only the JSON mapping accepts, or an error it will describe
    message = message_class()
    json_format.ParseDict(data, message, ignore_unknown_fields=True)
    return message


def _to_dict(message: Message, with_defaults: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for field, value in message.ListFields():
        kind = field.type
        repeated = field.is_repeated
        if kind == FieldDescriptor.TYPE_MESSAGE:
            nested = field.message_type
            assert nested is not None  # a message field always has its message type
            if nested.GetOptions().map_entry or nested.full_name.startswith("google.protobuf."):
                raise _Unsupported(field.full_name)
            out[field.name] = (
                [_to_dict(v, with_defaults) for v in value]
                if repeated
                else _to_dict(value, with_defaults)
            )
        elif kind in _AS_IS:
            out[field.name] = list(value) if repeated else value
        elif kind == FieldDescriptor.TYPE_DOUBLE:
            values = value if repeated else (value,)
            if not all(math.isfinite(v) for v in values):
                raise _Unsupported(field.full_name)
            out[field.name] = list(value) if repeated else value
        else:
            raise _Unsupported(field.full_name)
    if with_defaults and len(out) < len(message.DESCRIPTOR.fields):
        return _with_defaults(message, out)
    return out


def _with_defaults(message: Message, out: dict[str, Any]) -> dict[str, Any]:
    """``out`` with the unset fields without presence at the default json_format prints for
    them, in field order."""
    full: dict[str, Any] = {}
    for field in message.DESCRIPTOR.fields:
        map_entry = field.message_type is not None and field.message_type.GetOptions().map_entry
        if field.name in out:
            full[field.name] = out[field.name]
        elif field.has_presence:
            continue
        elif field.is_repeated and not map_entry:
            full[field.name] = []
        elif field.type in _AS_IS or field.type == FieldDescriptor.TYPE_DOUBLE:
            full[field.name] = field.default_value
        else:
            raise _Unsupported(field.full_name)
    return full
