"""Turns a provider's growing drafts into field groups, each announced once, in order."""

from __future__ import annotations

from typing import Any

from google.protobuf import json_format

from casecraft.components import GROUP_FIELDS
from casecraft.v1 import case_study_pb2, structurer_pb2

GROUP_ORDER: tuple[int, ...] = tuple(GROUP_FIELDS)
_GROUP_OF_FIELD = {field: group for group, fields in GROUP_FIELDS.items() for field in fields}


class FieldGroupTracker:
    """A group is complete once the draft holds a field of a later group (fields come in order)."""

    def __init__(self) -> None:
        self._announced = 0

    def advance(self, draft: dict[str, Any]) -> list[structurer_pb2.FieldGroupReady]:
        """The groups that this draft completes and that were not announced before."""
        present = [GROUP_ORDER.index(_GROUP_OF_FIELD[k]) for k in draft if k in _GROUP_OF_FIELD]
        if not present:
            return []
        return self._announce_until(max(present), draft)

    def finish(self, case_study: case_study_pb2.CaseStudy) -> list[structurer_pb2.FieldGroupReady]:
        """Announce every group not yet announced, from the final case study."""
        final = json_format.MessageToDict(case_study, preserving_proto_field_name=True)
        return self._announce_until(len(GROUP_ORDER), final)

    def _announce_until(
        self, end: int, source: dict[str, Any]
    ) -> list[structurer_pb2.FieldGroupReady]:
        ready = []
        while self._announced < end:
            group = GROUP_ORDER[self._announced]
            partial = _partial(source, self._announced + 1)
            if partial is None:
                break
            ready.append(structurer_pb2.FieldGroupReady(group=group, partial=partial))
            self._announced += 1
        return ready


def _partial(source: dict[str, Any], groups: int) -> case_study_pb2.CaseStudy | None:
    fields = {f for g in GROUP_ORDER[:groups] for f in GROUP_FIELDS[g]}
    try:
        return json_format.ParseDict(
            {k: v for k, v in source.items() if k in fields},
            case_study_pb2.CaseStudy(),
            ignore_unknown_fields=True,
        )
    except json_format.ParseError:
        return None
