"""What a person should check before publishing a case study: ``needs_review`` entries.

A provider may say what it is unsure of; whatever it says, a required field left empty is always
listed, so an LLM that skipped a field is caught the same way the local extractor is.
"""

from __future__ import annotations

from collections.abc import Iterable

from casecraft.v1.case_study_pb2 import CaseStudy
from casecraft.v1.structurer_pb2 import ReviewItem

# Required fields in CaseStudy order, and what an empty one means.
_REQUIRED = (
    ("client_name", "no client name in the notes; it is left empty rather than guessed: add it"),
    ("industry", "no industry in the notes; add it"),
    ("title", "no title could be written from the notes; write one"),
    ("metrics", "no before/after figures found in the notes; add the results that were measured"),
    ("phases", "no implementation phases found in the notes; add how the work was rolled out"),
    ("challenge", "no challenge found in the notes; say what problem the client had"),
    ("solution", "no solution found in the notes; say what was done"),
    ("results", "no results found in the notes; say what changed"),
)
_ORDER = [name for name, _ in _REQUIRED] + ["subtitle", "quote"]


def needs_review(study: CaseStudy, reported: Iterable[ReviewItem] = ()) -> list[ReviewItem]:
    """The provider's entries plus one for every required field left empty, one per field (the
    first reason given wins), in CaseStudy field order."""
    items: dict[str, ReviewItem] = {}
    for name, reason in _REQUIRED:
        value = getattr(study, name)
        if not (len(value) if not isinstance(value, str) else value.strip()):
            items[name] = ReviewItem(field=name, reason=reason)
    for item in reported:
        items.setdefault(item.field, ReviewItem(field=item.field, reason=item.reason))
    return sorted(items.values(), key=lambda item: _rank(item.field))


def _rank(field: str) -> tuple[int, str]:
    base = field.split("[", 1)[0]
    return (_ORDER.index(base) if base in _ORDER else len(_ORDER), field)
