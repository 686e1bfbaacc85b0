"""Deterministic extraction of a case study from freeform consultant notes (no network, no LLM).

``extract`` runs every step; the per-group functions let a caller stream the case study group by
group, in CaseStudy field order: headline and metrics, then phases, then the narrative and quote.
"""

from __future__ import annotations

from dataclasses import dataclass

from casecraft.v1.case_study_pb2 import CaseStudy
from casecraft.v1.structurer_pb2 import ReviewItem

from .before_after import extract_metrics
from .document import Document, parse_notes
from .headline import Headline, extract_headline
from .narrative import Narrative, extract_narrative
from .phases import extract_phases
from .quote import extract_quote

__all__ = [
    "Document",
    "ExtractionResult",
    "Headline",
    "Narrative",
    "add_narrative",
    "extract",
    "extract_headline",
    "extract_metrics",
    "extract_narrative",
    "extract_phases",
    "extract_quote",
    "headline_and_metrics",
    "missing_warnings",
    "parse_notes",
    "uncertain",
]


@dataclass(frozen=True)
class ExtractionResult:
    case_study: CaseStudy
    warnings: tuple[str, ...] = ()
    needs_review: tuple[ReviewItem, ...] = ()


def headline_and_metrics(doc: Document) -> tuple[CaseStudy, Narrative, list[str], Headline]:
    """A CaseStudy holding the headline fields and metrics, the narrative the headline drew on,
    warnings about metrics that did not parse, and the headline (with how sure each part is)."""
    metrics, warnings = extract_metrics(doc)
    narrative = extract_narrative(doc)
    headline = extract_headline(doc, metrics, narrative.solution)
    study = CaseStudy(
        client_name=headline.client_name,
        industry=headline.industry,
        title=headline.title,
        subtitle=headline.subtitle,
        metrics=metrics,
    )
    return study, narrative, warnings, headline


def uncertain(study: CaseStudy, headline: Headline) -> list[ReviewItem]:
    """What the extractor inferred rather than read, or could not find: a person checks these.

    (Required fields left empty are added by the servicer for every provider.)
    """
    items = []
    if study.client_name and not headline.client_sure:
        items.append(
            ReviewItem(
                field="client_name",
                reason=f"{study.client_name!r} was inferred from how the notes mention it (there "
                "is no 'Client:' line); check it names the client, not the consultancy",
            )
        )
    if study.industry and not headline.industry_sure:
        items.append(
            ReviewItem(
                field="industry",
                reason=f"{study.industry!r} was inferred from the words the notes use (there is "
                "no 'Industry:' line); check it",
            )
        )
    for index, metric in enumerate(study.metrics):
        if not metric.before and not metric.after:
            reason = "the notes give the change but no before and after figures; check it"
        elif not metric.HasField("before_value"):
            reason = "the before and after figures could not be compared; check their units"
        else:
            continue
        items.append(ReviewItem(field=f"metrics[{index}]", reason=reason))
    if any(not phase.name for phase in study.phases):
        items.append(ReviewItem(field="phases", reason="a phase has no name; name it"))
    if not study.HasField("quote"):
        items.append(
            ReviewItem(
                field="quote",
                reason="no attributed quotation in the notes; add one the client approved",
            )
        )
    return items


def add_narrative(study: CaseStudy, doc: Document, narrative: Narrative) -> None:
    """Set challenge, solution, results and, when the notes hold one, the quote."""
    study.challenge = narrative.challenge
    study.solution = narrative.solution
    study.results = narrative.results
    quote = extract_quote(doc)
    if quote is not None:
        study.quote.CopyFrom(quote)


def missing_warnings(study: CaseStudy) -> list[str]:
    """What the notes did not provide, so the caller can say so."""
    checks = (
        ("client name", study.client_name),
        ("industry", study.industry),
        ("metrics", len(study.metrics)),
        ("implementation phases", len(study.phases)),
        ("challenge", study.challenge),
        ("solution", study.solution),
        ("results", study.results),
        ("attributed quotation", study.HasField("quote")),
    )
    return [f"no {what} found in the notes" for what, present in checks if not present]


def extract(notes: str) -> ExtractionResult:
    """The whole case study the notes support, and warnings about what they do not."""
    doc = parse_notes(notes)
    study, narrative, warnings, headline = headline_and_metrics(doc)
    study.phases.extend(extract_phases(doc))
    add_narrative(study, doc, narrative)
    return ExtractionResult(
        study, tuple(warnings + missing_warnings(study)), tuple(uncertain(study, headline))
    )
