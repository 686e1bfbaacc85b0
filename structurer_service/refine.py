"""What a Refine request may ask for, and how its answer is folded into the case study."""

from __future__ import annotations

from casecraft.limits import notes_problem
from casecraft.v1 import case_study_pb2, structurer_pb2

# The sections a person may ask to have rewritten: the prose and the headline. The metrics and
# phases are data (edit them directly); the client's name is a fact, not a style.
SECTIONS = ("title", "subtitle", "industry", "challenge", "solution", "results", "quote")
MAX_INSTRUCTION_CHARS = 2_000


def refine_problem(request: structurer_pb2.RefineRequest) -> str | None:
    """Why this Refine request cannot run, naming the field and the fix; None when it can."""
    if request.section not in SECTIONS:
        return f"section: {request.section[:40]!r} cannot be refined; use one of: " + ", ".join(
            SECTIONS
        )
    instruction = request.instruction.strip()
    if not instruction:
        return 'instruction: empty; say what to change, e.g. "shorter, and lead with the saving"'
    if len(instruction) > MAX_INSTRUCTION_CHARS:
        return (
            f"instruction: {len(instruction):,} characters is over the limit of "
            f"{MAX_INSTRUCTION_CHARS:,}; say what to change in a few sentences"
        )
    if not request.HasField("case_study"):
        return "case_study: missing; send the case study whose section should be rewritten"
    if request.notes:
        return notes_problem(request.notes)
    return None


def rewrite_section(
    original: case_study_pb2.CaseStudy, rewritten: case_study_pb2.CaseStudy, section: str
) -> case_study_pb2.CaseStudy:
    """``original`` with ``section`` taken from ``rewritten``: whatever else the model changed
    is dropped, so a rewrite never touches a field nobody asked about."""
    result = case_study_pb2.CaseStudy()
    result.CopyFrom(original)
    if section == "quote":
        if rewritten.HasField("quote"):
            result.quote.CopyFrom(rewritten.quote)
        else:
            result.ClearField("quote")
    else:
        setattr(result, section, getattr(rewritten, section))
    return result
