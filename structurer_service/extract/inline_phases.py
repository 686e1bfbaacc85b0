"""Phases written inside a paragraph or on one line, and phases told as a story.

"Q1 discovery; Q2 pilot; Q3 national", "sprint 1 = checklist, sprint 2 = bank feeds",
"We piloted in the spring in 12 stores, went to all 140 stores over the summer, and in the autumn
we added ...", "In July the model was trained ..., in August ...": a paragraph that names two or
more periods of one kind (numbered phases, weeks, months, quarters, seasons, terms, ordinal months)
is cut at the clause boundaries between them, each piece a phase named by what it says besides
its period. "It started with ... Then ... Once ... Finally ..." is read as steps in order.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from casecraft.v1.case_study_pb2 import Phase

from .document import Document, split_sentences

_NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7}
_ORDINALS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6}
_MONTHS = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?"
    r"|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\b\.?"
)
_RANGE = r"\d{1,2}(?:\s?[-–—&]\s?\d{1,2}|\s(?:and|to)\s\d{1,2})?"
_MARKER = re.compile(
    r"(?P<paren>\(\s?)?(?:(?:in|during|over|by|from)\s)?(?:the\s)?(?:"
    r"(?P<kind>(?i:phase|stage|step|wave|sprint|term|season|milestone|workstream))s?\s{0,2}"
    r"(?P<n>" + _RANGE + r"|(?i:one|two|three|four|five|six|seven)\b)"
    r"|(?P<unit>(?i:weeks?|wks?|months?|quarters?))\s{0,2}(?P<un>" + _RANGE + r")"
    r"|(?P<q>(?i:q[1-4])(?:\s?[-–]\s?(?i:q[1-4]))?(?:\s\d{4})?)\b"
    r"|(?P<month>" + _MONTHS + r"(?:\s?[-–—]\s?" + _MONTHS + r")?(?:\s\d{4})?)"
    r"|(?P<season>(?i:spring|summer|autumn|winter)|Fall)(?:\s(?P<sterm>(?i:term|quarter)))?\b"
    r"|(?P<ord>(?i:first|second|third|fourth|fifth|sixth))(?:\sand\s(?P<ord2>(?i:second|third"
    r"|fourth|fifth|sixth)))?\s(?P<ounit>(?i:month|week|quarter|sprint|phase|wave|stage|term))s?"
    r")(?(paren)\s?\))"
)
# "last winter", "this spring", "next month": when something was measured, not a phase.
_DEICTIC = re.compile(r"\b(?:last|this|next|each|every|per)\s$", re.IGNORECASE)
_STRONG = re.compile(r"[.;|](?:\s|$)|\s\|\s")
_MEDIUM = re.compile(r",\s|:\s|\s[—–-]\s|\s=\s")
_WEAK = re.compile(r"\s(?:and|then)\s")
_LEAD_IN = frozenset(
    """rollout roll-out timeline plan phases schedule was were is it then and the we did work
    project ran so in over during by it's were done went for finally""".split()
)
_SUBJECT = re.compile(
    r"^(?:and\s|then\s|first,?\s|next,?\s|finally,?\s|after that,?\s)?"
    r"(?:we|they|it|the team)\s(?:was\s|were\s|then\s)?|^(?:was|were|is|are)\s"
    r"|^(?:for|on|with|to|in|at)\s(?:the\s)?|^(?:and|then)\s",
    re.IGNORECASE,
)
_STORY_START = re.compile(
    r"^(?:it\sstarted\swith|we\sstarted\swith|we\sbegan\swith|first(?:ly)?,?|to\sbegin(?:\swith)?,?"
    r"|to\sstart,?)\s",
    re.IGNORECASE,
)
_STORY_NEXT = re.compile(
    r"^(?:then|next|after\sthat|afterwards|later|finally|lastly|in\sthe\send|once\s[^,]{3,60},)"
    r",?\s",
    re.IGNORECASE,
)
_NAME_CUT = re.compile(r"\s(?:so|so that|which|because|while|with the help of)\s|,\s|[;:(]")
_NAME_WORDS = 9
_LEADING_PARENS = re.compile(r"^\([^()]{1,40}\)\s?")


class _Marker(NamedTuple):
    start: int
    end: int
    family: str
    period: str


def inline_phases(doc: Document) -> list[Phase]:
    """Phases found inside paragraphs and one-line lists, in the order of the notes."""
    phases: list[Phase] = []
    for unit in doc.units:
        markers = _markers(unit.text)
        if len(markers) >= 2:
            phases.extend(_cut(unit.text, markers))
        elif not phases and (story := _story(unit.text)):
            phases.extend(story)
    return phases


def _markers(text: str) -> list[_Marker]:
    found = [
        _marker(match)
        for match in _MARKER.finditer(text)
        if not _DEICTIC.search(text, max(0, match.start() - 7), match.start())
    ]
    by_family: dict[str, list[_Marker]] = {}
    for marker in found:
        by_family.setdefault(marker.family, []).append(marker)
    if not by_family:
        return []
    family = max(by_family, key=lambda name: (len(by_family[name]), -by_family[name][0].start))
    chosen = by_family[family]
    return chosen if len(chosen) >= 2 else []


def _marker(match: re.Match[str]) -> _Marker:
    if match["kind"]:
        kind = match["kind"].lower()
        number = match["n"]
        number = str(_NUMBER_WORDS.get(number.lower(), number))
        return _Marker(match.start(), match.end(), kind, f"{kind.capitalize()} {number}")
    if match["unit"]:
        unit = match["unit"].lower()
        family = "week" if unit.startswith("w") else unit.rstrip("s")
        plural = "s" if re.search(r"\D", match["un"].strip()) else ""
        return _Marker(
            match.start(), match.end(), family, f"{family.capitalize()}{plural} {match['un']}"
        )
    if match["q"]:
        return _Marker(match.start(), match.end(), "quarter", match["q"].upper())
    if match["month"]:
        return _Marker(match.start(), match.end(), "calendar", match["month"].rstrip("."))
    if match["season"]:
        period = match["season"].capitalize()
        if match["sterm"]:
            period += " " + match["sterm"].lower()
        return _Marker(match.start(), match.end(), "season", period)
    unit = match["ounit"].lower()
    first = _ORDINALS[match["ord"].lower()]
    if match["ord2"]:
        second = _ORDINALS[match["ord2"].lower()]
        return _Marker(match.start(), match.end(), unit, f"{unit.capitalize()}s {first}-{second}")
    return _Marker(match.start(), match.end(), unit, f"{unit.capitalize()} {first}")


def _cut(text: str, markers: list[_Marker]) -> list[Phase]:
    phases = []
    start = _nearest_boundary(text, markers[0].start)
    for index, marker in enumerate(markers):
        if index + 1 < len(markers):
            end, next_start = _boundary(text, marker.end, markers[index + 1].start, last=True)
        else:
            tail = text[marker.end :]
            own = marker.end + len(tail) - len(tail.lstrip(" :=—–-|"))
            end, next_start = _boundary(text, own, len(text), last=False)
        phases.append(
            Phase(
                period=marker.period, **_named(text[start : marker.start], text[marker.end : end])
            )
        )
        start = next_start
    return phases


def _boundary(text: str, start: int, end: int, *, last: bool) -> tuple[int, int]:
    """Where the clause that runs from ``start`` ends before ``end`` (at the last, or the first,
    of the strongest delimiters there), and where the next one starts."""
    window = text[start:end]
    for pattern in (_STRONG, _MEDIUM, _WEAK):
        matches = list(pattern.finditer(window))
        if matches:
            chosen = matches[-1] if last else matches[0]
            return start + chosen.start(), start + chosen.end()
    return end, end


def _nearest_boundary(text: str, end: int) -> int:
    """Where the clause holding the first period starts: after the nearest delimiter before it."""
    window = text[:end]
    ends = [m.end() for pattern in (_STRONG, _MEDIUM) for m in pattern.finditer(window)]
    return max(ends, default=0)


def _named(before: str, after: str) -> dict[str, str]:
    before_words = before.strip(" ,;:-—–=").split()
    after_text = _LEADING_PARENS.sub("", after.strip(" ,;:.-—–=|")).strip(" ,;:.-—–=|")
    if after_text and all(word.lower().strip(",:") in _LEAD_IN for word in before_words):
        text = after_text
    else:
        text = " ".join([*before_words, after_text]).strip()
    return _name_and_description(text)


def _name_and_description(text: str) -> dict[str, str]:
    text = " ".join(text.split()).strip(" ,;:.-—–=|")
    for _ in range(2):
        text = _SUBJECT.sub("", text).strip()
    if not text:
        return {"name": "", "description": ""}
    name = _NAME_CUT.split(text, maxsplit=1)[0].strip()
    words = name.split()
    if len(words) > _NAME_WORDS:
        name = " ".join(words[:_NAME_WORDS])
    description = text[:1].upper() + text[1:]
    if description[-1] not in ".!?":
        description += "."
    return {"name": name[:1].upper() + name[1:], "description": description}


def _story(text: str) -> list[Phase]:
    """Steps told in order: a sentence that starts the story, then ones that carry it on."""
    sentences = split_sentences(text)
    steps: list[str] = []
    for sentence in sentences:
        if not steps:
            if match := _STORY_START.match(sentence):
                steps.append(sentence[match.end() :])
            continue
        if match := _STORY_NEXT.match(sentence):
            steps.append(sentence[match.end() :])
    if len(steps) < 3:
        return []
    return [
        Phase(period=f"Step {number}", **_name_and_description(step.rstrip(".")))
        for number, step in enumerate(steps, 1)
    ]
