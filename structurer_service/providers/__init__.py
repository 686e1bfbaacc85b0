"""Structuring providers: each one turns notes into a CaseStudy, streaming drafts as it writes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from casecraft.v1 import case_study_pb2, structurer_pb2


@dataclass(frozen=True)
class Draft:
    """The case study as far as the provider has written it.

    ``fields`` is a JSON object with CaseStudy's field names, in CaseStudy field order; each draft
    extends the one before. A field group counts as complete once a key of a later group appears.
    """

    fields: dict[str, Any]


@dataclass(frozen=True)
class Structured:
    """The provider's final answer."""

    case_study: case_study_pb2.CaseStudy
    usage: structurer_pb2.Usage
    warnings: tuple[str, ...] = ()
    # Fields the provider is unsure of; the servicer adds every required field left empty.
    needs_review: tuple[structurer_pb2.ReviewItem, ...] = ()


@dataclass(frozen=True)
class Refinement:
    """One section of a finished case study to rewrite, and how."""

    case_study: case_study_pb2.CaseStudy
    section: str
    instruction: str
    notes: str = ""


CANNOT_REFINE = (
    "the local provider cannot follow free-text instructions; configure an LLM provider "
    "(CASECRAFT_STRUCTURER_PROVIDERS=anthropic,...) or edit the field with PATCH"
)


class CannotRefine(Exception):
    """No configured provider can follow a free-text instruction (the local extractor cannot)."""


class StructurerProvider(Protocol):
    name: str

    def structure(self, notes: str, *, fast: bool) -> AsyncIterator[Draft | Structured]:
        """Yield drafts as the case study is written, then exactly one ``Structured``."""
        ...


@runtime_checkable
class RefiningProvider(StructurerProvider, Protocol):
    """A provider that can also rewrite one section of a case study (the LLM providers)."""

    def refine(self, refinement: Refinement, *, fast: bool) -> AsyncIterator[Draft | Structured]:
        """Yield drafts of the rewritten case study, then exactly one ``Structured``."""
        ...
