"""The story in prose: challenge, solution and results, from headed sections or from cue words."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from .document import Document, Unit, kind_of, split_sentences, trim
from .phases import is_phase_line

NARRATIVE_KINDS = ("challenge", "solution", "results")
_LIMIT = 600
_FALLBACK_SENTENCES = 3
_QUOTATION = re.compile(r"[\"“][^\"“”]{20,}[\"”]")
_META = re.compile(r"(?P<key>[A-Za-z][\w /&.-]{0,24}?)\s{0,2}[:=]\s")
_CUES = {
    "solution": (
        2,
        re.compile(
            r"\bwe (?:built|replaced|implemented|introduced|designed|deployed|rolled out|automated"
            r"|set up|redesigned|rebuilt|moved|migrated|added|trained|created|launched|ran|piloted"
            r"|standardi[sz]ed|mapped|consolidated|integrated|proposed|recommended|removed"
            r"|rewrote|connected)\b|\b(?:rolled out|new (?:process|system|tool|workflow|portal))",
            re.IGNORECASE,
        ),
    ),
    "results": (
        1,
        re.compile(
            r"\b(?:results?|outcomes?|now|since (?:launch|go-live|rollout)|after launch|went from"
            r"|dropped|fell|rose|grew|improved|saved|reduced|increased|doubled|halved|down to"
            r"|faster|fewer|no longer|calmer|caught|less|better)\b",
            re.IGNORECASE,
        ),
    ),
    "challenge": (
        1,
        re.compile(
            r"\b(?:struggl\w*|problems?|pain\w*|manual\w*|bottlenecks?|slow|backlog|couldn't"
            r"|could not|can't|too many|too long|challenges?|issues?|legacy|frustrat\w*|complain\w*"
            r"|behind|error-prone|spreadsheets?|paper|whiteboards?|losing|lost|missed|delays?"
            r"|waited|waiting|re-?typed|re-?keyed|stalled|blocked|because|eating|costing|hurting"
            r"|came to us|suspected)\b",
            re.IGNORECASE,
        ),
    ),
}
# Matches where any cue does: a sentence it misses scores zero for every kind.
_ANY_CUE = re.compile("|".join(pattern.pattern for _, pattern in _CUES.values()), re.IGNORECASE)
_NUMBERS = re.compile(r"\d")


@dataclass(frozen=True)
class Narrative:
    challenge: str = ""
    solution: str = ""
    results: str = ""


def extract_narrative(doc: Document) -> Narrative:
    """Challenge, solution and results, each a few sentences taken from the notes themselves."""
    by_section: dict[int, list[Unit]] = {}
    skipping_children = False
    for unit in doc.units:
        if unit.indented and skipping_children:
            continue
        skipping_children = not _usable(unit.text)
        if not skipping_children:
            by_section.setdefault(unit.section, []).append(unit)
    by_kind: dict[str, list[Unit]] = {kind: [] for kind in (*NARRATIVE_KINDS, "metrics")}
    for index, section in enumerate(doc.sections):
        if section.kind in by_kind:
            by_kind[section.kind].extend(by_section.get(index, []))
    found = {kind: _text_of(by_kind[kind]) for kind in NARRATIVE_KINDS}
    if not found["results"]:
        found["results"] = _text_of([u for u in by_kind["metrics"] if _NUMBERS.search(u.text)])
    missing = [kind for kind in NARRATIVE_KINDS if not found[kind]]
    if missing:
        loose = [
            unit
            for index, section in enumerate(doc.sections)
            if section.kind is None
            for unit in by_section.get(index, [])
        ]
        for kind, sentence in _classified(loose):
            if kind in missing and len(found[kind]) < _FALLBACK_SENTENCES:
                found[kind].append(sentence)
                if all(len(found[k]) >= _FALLBACK_SENTENCES for k in missing):
                    break
    return Narrative(**{kind: trim(" ".join(found[kind]), _LIMIT) for kind in NARRATIVE_KINDS})


def _usable(text: str) -> bool:
    if is_phase_line(text) or _QUOTATION.search(text):
        return False
    meta = _META.match(text)
    return not (meta and len(meta["key"].split()) <= 3 and kind_of(meta["key"]) is None)


def _text_of(units: list[Unit]) -> list[str]:
    """Sentences of the paragraphs, or of the list items when there are no paragraphs."""
    paragraphs = [unit for unit in units if not unit.is_item]
    chosen = paragraphs or units
    return [_as_sentence(sentence) for unit in chosen for sentence in split_sentences(unit.text)]


def _classified(units: list[Unit]) -> Iterator[tuple[str, str]]:
    for unit in units:
        if not _ANY_CUE.search(unit.text):
            continue  # no sentence of it can hold a cue either
        for sentence in split_sentences(unit.text):
            if not _ANY_CUE.search(sentence):
                continue
            scores = {
                kind: weight * len(pattern.findall(sentence))
                for kind, (weight, pattern) in _CUES.items()
            }
            if _NUMBERS.search(sentence) and scores["results"]:
                scores["results"] += 1
            kind = max(scores, key=lambda k: scores[k])  # ties: solution, results, challenge
            if scores[kind] > 0:
                yield kind, _as_sentence(sentence)


def _as_sentence(text: str) -> str:
    text = text.strip()
    if not text:
        return ""
    text = text[:1].upper() + text[1:]
    return text if text[-1] in ".!?…" else text + "."
