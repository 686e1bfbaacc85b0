"""What a case study is checked against before it is answered: its figures, and its names.

The servicer sets one ``Checks`` per request (``checking(...)``); the LLM providers read it with
``current()`` to add the anonymize instruction to their prompt and, once their answer is valid, to
re-ask once about what did not hold (figures not in the notes, names that should not be there).
The local provider reads it to anonymise deterministically. A context variable, like the usage
ledger, so the providers' ``structure`` signature stays the same for every provider and wrapper.
"""

from __future__ import annotations

import contextvars
import functools
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from casecraft.v1 import case_study_pb2
from structurer_service.anonymize import Names, find_names
from structurer_service.fidelity import FidelityReport, NoteFigures, trace_numbers
from structurer_service.refine import rewrite_section

ANONYMIZE_INSTRUCTION = (
    "Anonymise this case study. Never write the client's name, any short form, abbreviation, "
    "e-mail or web domain of it, or any person's name, anywhere (title, prose, quote, phases). "
    'Write a descriptor instead: client_name such as "A 12-clinic healthcare network" (built '
    'from what the notes say), people by their role ("their head of operations"); the quote\'s '
    "author is the speaker's role."
)

_CHECKS: contextvars.ContextVar[Checks | None] = contextvars.ContextVar(
    "casecraft_checks", default=None
)


@dataclass
class Checks:
    notes: str
    anonymize: bool = False
    # A Refine rewrites one field: only it is re-asked about and has names replaced. Fidelity
    # still reports on the whole case study, which is what the answer describes.
    section: str = ""

    @functools.cached_property
    def figures(self) -> NoteFigures:
        return NoteFigures(self.notes)

    @functools.cached_property
    def names(self) -> Names:
        return find_names(self.notes)

    def instructions(self) -> str:
        """Extra instructions for the model ("" when there are none)."""
        return ANONYMIZE_INSTRUCTION if self.anonymize else ""

    def fidelity(self, case_study: case_study_pb2.CaseStudy) -> FidelityReport:
        return trace_numbers(case_study, self.figures)

    def leaks(self, case_study: case_study_pb2.CaseStudy) -> list[str]:
        """Fields (within ``section``, when set) that hold a name the notes give, when
        anonymising; else none."""
        if not self.anonymize:
            return []
        return [path for path in self.names.leaks(case_study) if self._in_section(path)]

    def _in_section(self, path: str) -> bool:
        """Whether a field path ("results", "quote.author", "metrics[0].after") is in scope."""
        section = self.section
        return not section or path == section or path.startswith((f"{section}.", f"{section}["))

    def problems(self, case_study: case_study_pb2.CaseStudy) -> list[str]:
        """What a model is re-asked about: each untraced figure quoted, each field with a name."""
        problems = [
            f'{u.field}: "{u.value}" ({u.text}) is not in the notes and cannot be computed from '
            "them; use the notes' figure or leave it out"
            for u in self.fidelity(case_study).untraced
            if self._in_section(u.field)
        ]
        problems += [
            f"{path}: still names the client or a person; write a descriptor or a role instead"
            for path in self.leaks(case_study)
        ]
        return problems


@dataclass(frozen=True)
class Verdict:
    """The final case study as answered, and what the checks found in it."""

    case_study: case_study_pb2.CaseStudy
    fidelity: FidelityReport
    # None when anonymising was not asked for; False when a name was still there (then replaced).
    anonymized: bool | None
    warnings: tuple[str, ...]

    def span_attributes(self) -> dict[str, int | bool]:
        """Counts, never the figures or the names."""
        attributes: dict[str, int | bool] = {
            "casecraft.fidelity.checked": self.fidelity.checked,
            "casecraft.fidelity.untraced": len(self.fidelity.untraced),
        }
        if self.anonymized is not None:
            attributes["casecraft.anonymized"] = self.anonymized
        return attributes


def conclude(
    review: Checks, case_study: case_study_pb2.CaseStudy, warnings: tuple[str, ...]
) -> Verdict:
    """Check the provider's final case study: names (replaced, and said so, when one is still
    there) and then every figure. CPU-bound: the servicer runs it in a worker thread."""
    anonymized: bool | None = None
    notes: list[str] = []
    if review.anonymize:
        leaked = review.leaks(case_study)
        anonymized = not leaked
        if leaked:
            if review.section:  # only the rewritten field: the rest came back as it was sent
                scrubbed = case_study_pb2.CaseStudy()
                scrubbed.CopyFrom(case_study)
                review.names.apply(scrubbed)
                case_study = rewrite_section(case_study, scrubbed, review.section)
            else:
                review.names.apply(case_study)
            notes.append(
                "anonymize: the provider still named the client or a person in "
                f"{', '.join(leaked)} after a re-ask; those names were replaced mechanically "
                "with descriptors: read these fields before publishing"
            )
        warnings = tuple(review.names.scrub(w) for w in warnings)
    report = review.fidelity(case_study)
    if (line := report.warning()) is not None:
        notes.append(line)
    return Verdict(case_study, report, anonymized, (*warnings, *notes))


def current() -> Checks | None:
    """The checks of the request being structured, or None outside one."""
    return _CHECKS.get()


@contextmanager
def checking(checks: Checks) -> Iterator[Checks]:
    token = _CHECKS.set(checks)
    try:
        yield checks
    finally:
        _CHECKS.reset(token)


def review_reask(problems: list[str], *, tool: bool = True) -> str:
    """The message that quotes what did not hold in a valid answer and asks once more."""
    listed = "\n".join(f"- {problem}" for problem in problems[:20])
    again = "Call record_case_study again" if tool else "Answer again with one JSON object"
    return (
        "The case study is valid, but it does not hold to the notes:\n"
        f"{listed}\n"
        f"{again} with the complete case study, every problem above fixed and nothing else "
        "changed."
    )
