"""The embedded default structurer: reads the notes themselves, with no network and no LLM."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

from google.protobuf.json_format import MessageToDict

from casecraft.components import GROUP_FIELDS
from casecraft.v1 import case_study_pb2, structurer_pb2
from structurer_service import checks, extract
from structurer_service.providers import Draft, Structured

DEFAULT_MODEL = "casecraft-local-extractor"
_HEADLINE, _METRICS, _PHASES, _NARRATIVE = (
    GROUP_FIELDS[group]
    for group in (
        structurer_pb2.FIELD_GROUP_HEADLINE,
        structurer_pb2.FIELD_GROUP_METRICS,
        structurer_pb2.FIELD_GROUP_PHASES,
        structurer_pb2.FIELD_GROUP_NARRATIVE,
    )
)


class LocalStructurer:
    """Deterministic extraction in milliseconds; the same notes always give the same case study.

    Drafts follow CaseStudy field order: headline and metrics, then phases, then the narrative and
    quote. ``fast`` changes nothing: there is no slower, better mode to skip. The extraction is
    CPU-bound, so each step runs in a worker thread and the event loop keeps answering health
    checks and other calls meanwhile; a cancelled call stops waiting at once, and the step under
    way finishes in its thread with its result unused.
    """

    name = "local"

    def __init__(self, model: str = DEFAULT_MODEL) -> None:
        self.model = model

    def model_for(self, fast: bool) -> str:
        """The model a call of this speed uses (part of the structuring cache's key)."""
        return self.model

    async def structure(self, notes: str, *, fast: bool) -> AsyncIterator[Draft | Structured]:
        steps = self._steps(notes, checks.current())
        while (item := await asyncio.to_thread(next, steps, None)) is not None:
            yield item

    def _steps(
        self, notes: str, review: checks.Checks | None = None
    ) -> Iterator[Draft | Structured]:
        """The extraction step by step; anonymised at every step when the request asks."""
        names = review.names if review is not None and review.anonymize else None
        doc = extract.parse_notes(notes)
        study, narrative, warnings, headline = extract.headline_and_metrics(doc)
        if names is not None:
            names.apply(study)
        yield Draft(_fields(study, (*_HEADLINE, *_METRICS)))
        study.phases.extend(extract.extract_phases(doc))
        if names is not None:
            names.apply(study)
        yield Draft(_fields(study, (*_HEADLINE, *_METRICS, *_PHASES)))
        extract.add_narrative(study, doc, narrative)
        if names is not None:
            names.apply(study)
        fields = _fields(study, (*_HEADLINE, *_METRICS, *_PHASES, *_NARRATIVE))
        yield Draft(fields)
        usage = structurer_pb2.Usage(
            provider=self.name,
            model=self.model,
            input_tokens=estimate_tokens(notes),
            output_tokens=estimate_tokens(str(fields)),
            cost_usd=0.0,
            attempts=1,
        )
        yield Structured(
            study,
            usage,
            tuple(warnings + extract.missing_warnings(study)),
            tuple(extract.uncertain(study, headline)),
        )


def estimate_tokens(text: str) -> int:
    """A rough token count: about four tokens for every three words."""
    return (len(text.split()) * 4 + 2) // 3


def _fields(study: case_study_pb2.CaseStudy, names: tuple[str, ...]) -> dict[str, Any]:
    """The named fields as JSON, empty ones included so a reader sees the group is complete."""
    full = MessageToDict(
        study, preserving_proto_field_name=True, always_print_fields_with_no_presence=True
    )
    return {name: full[name] for name in names if name in full}
