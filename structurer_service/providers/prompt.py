"""What the LLM providers say to the model: the system prompt, the notes, and the one re-ask."""

from __future__ import annotations

import re

TOOL_NAME = "record_case_study"
TOOL_DESCRIPTION = "Record the case study written from the consultant's notes."

SYSTEM = """You turn a consultant's freeform notes into a structured case study.
Call the record_case_study tool exactly once. Write its fields in the order of the schema: first
client_name, industry, title and subtitle, then metrics, then phases (the images are drawn from these
and start as soon as they are written), and only then the longer prose: challenge, solution,
results and quote.
- Use only what the notes say. Never invent clients, numbers, people or quotations.
- metrics: every measured before/after outcome; keep before, after and improvement as the notes
  write them ("94 min", "from 18% to 7%"); fill the parsed numbers and unit when they parse.
- phases: the implementation steps in the order they happened, with their period when given.
- title: a specific headline (the outcome, not the client's name alone); subtitle: one sentence.
- challenge, solution, results: two to four plain sentences each.
- quote: only a quotation that appears in the notes; leave it out otherwise."""

_NOTES = re.compile(r"<notes>\n?(.*?)\n?</notes>", re.DOTALL)
_REFINE = re.compile(
    r"<section>(.*?)</section>\s*<instruction>\n?(.*?)\n?</instruction>\s*"
    r"<case_study>\n?(.*?)\n?</case_study>",
    re.DOTALL,
)


def user_message(notes: str, instructions: str = "") -> str:
    """The notes, and the request's own instructions (anonymize) after them when it has some."""
    message = f"Write the case study for these notes.\n\n<notes>\n{notes}\n</notes>"
    return f"{message}\n\n{instructions}" if instructions else message


def notes_in(message: str) -> str | None:
    """The notes inside a user message written by ``user_message`` (the fakes read them back)."""
    found = _NOTES.search(message)
    return found.group(1) if found else None


def refine_message(
    notes: str, case_study_json: str, section: str, instruction: str, instructions: str = ""
) -> str:
    """The request to rewrite one section: the instruction, the case study as it stands, and the
    notes it was written from (so the rewrite keeps to what they say); the request's own
    instructions (anonymize) after them when it has some."""
    message = (
        f"Rewrite only the {section} field of this case study, following the instruction. "
        f"Keep every other field exactly as it is. Use only what the notes say. Call {TOOL_NAME} "
        "with the complete case study.\n\n"
        f"<section>{section}</section>\n"
        f"<instruction>\n{instruction}\n</instruction>\n"
        f"<case_study>\n{case_study_json}\n</case_study>\n"
        f"<notes>\n{notes}\n</notes>"
    )
    return f"{message}\n\n{instructions}" if instructions else message


def refinement_in(message: str) -> tuple[str, str, str] | None:
    """The section, instruction and case study JSON inside a message written by
    ``refine_message`` (the fakes read them back)."""
    found = _REFINE.search(message)
    return (found.group(1), found.group(2), found.group(3)) if found else None


def reask(errors: list[str], *, tool: bool = True) -> str:
    """The message that quotes the validation errors and asks once more."""
    listed = "\n".join(f"- {error}" for error in errors[:20])
    again = f"Call {TOOL_NAME} again" if tool else "Answer again with one JSON object"
    return (
        "The case study you recorded does not match the schema:\n"
        f"{listed}\n"
        f"{again} with the complete case study, every problem above fixed."
    )
