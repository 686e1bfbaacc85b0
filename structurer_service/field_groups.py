"""Turns a provider's growing drafts into field groups, each announced once, in order."""

from __future__ import annotations

from typing import Any

from google.protobuf import json_format

from casecraft import protojson
from casecraft.components import GROUP_FIELDS
from casecraft.v1 import case_study_pb2, structurer_pb2

GROUP_ORDER: tuple[structurer_pb2.FieldGroup, ...] = tuple(GROUP_FIELDS)
_GROUP_INDEX = {
    field: GROUP_ORDER.index(group) for group, fields in GROUP_FIELDS.items() for field in fields
}


class FieldGroupTracker:
    """A group is complete once the draft holds a field of a later group (fields come in order).

    A complete group's fields do not change in later drafts, so each group is parsed once, when it
    completes, and its partial case study is the groups before it plus its own fields.
    """

    def __init__(self) -> None:
        self._announced = 0
        self._written = case_study_pb2.CaseStudy()

    def advance(self, draft: dict[str, Any]) -> list[structurer_pb2.FieldGroupReady]:
        """The groups that this draft completes and that were not announced before."""
        reached = max((_GROUP_INDEX[k] for k in draft if k in _GROUP_INDEX), default=-1)
        ready = []
        while self._announced < reached:
            fields = GROUP_FIELDS[GROUP_ORDER[self._announced]]
            try:
                group = protojson.from_dict(
                    {k: v for k, v in draft.items() if k in fields}, case_study_pb2.CaseStudy
                )
            except json_format.ParseError:
                break  # not parseable yet; a later draft tries again
            self._written.MergeFrom(group)
            ready.append(self._announce(self._written))
        return ready

    def finish(self, case_study: case_study_pb2.CaseStudy) -> list[structurer_pb2.FieldGroupReady]:
        """Announce every group not yet announced, from the final case study."""
        ready = []
        while self._announced < len(GROUP_ORDER):
            partial = case_study_pb2.CaseStudy()
            partial.CopyFrom(case_study)
            for group in GROUP_ORDER[self._announced + 1 :]:
                for name in GROUP_FIELDS[group]:
                    partial.ClearField(name)
            ready.append(self._announce(partial))
        return ready

    def _announce(self, partial: case_study_pb2.CaseStudy) -> structurer_pb2.FieldGroupReady:
        ready = structurer_pb2.FieldGroupReady(group=GROUP_ORDER[self._announced], partial=partial)
        self._announced += 1
        return ready
