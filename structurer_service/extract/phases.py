"""Implementation phases: "Weeks 1-2: ...", "Month 1", "Phase 2: ...", "Sprint 3", numbered steps."""

from __future__ import annotations

import re

from casecraft.v1.case_study_pb2 import Phase

from .document import Document, clean_markup, heading_of, kind_of, split_sentences, trim
from .inline_phases import inline_phases

_RANGE = r"\d{1,3}(?:\s{0,2}(?:-|–|—|to|through|and|&)\s{0,2}\d{1,3})?"
_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\b\.?"
)
# Words that number a period or a phase; the number may be glued on: "wk9-10", "Phase3".
PERIOD_WORDS = tuple(
    "weeks week wks wk months month days day sprints sprint quarters quarter".split()
)
PHASE_WORDS = ("phase", "stage", "step", "wave", "milestone", "workstream", "season", "term")
_PERIOD = (
    rf"(?:(?:{'|'.join(PERIOD_WORDS)})\s{{0,2}}{_RANGE}"
    rf"|q[1-4](?:\s{{0,2}}[-–]\s{{0,2}}q[1-4])?(?:\s{{0,2}}\d{{4}})?"
    rf"|{_MONTH}(?:\s\d{{4}})?(?:\s{{0,2}}[-–—]\s{{0,2}}{_MONTH}(?:\s\d{{4}})?)?"
    r"|(?:spring|summer|autumn|winter|fall)(?:\s(?:term|quarter|\d{4}))?)"
)
_ORDINAL = (
    rf"(?:{'|'.join(PHASE_WORDS)})\s{{0,2}}"
    r"(?:\d{1,2}|[ivx]{1,4}\b|one|two|three|four|five|six)"
)
_PHASE_LINE = re.compile(
    rf"(?P<lead>{_ORDINAL}|{_PERIOD})\b\s{{0,2}}(?:\((?P<paren>[^()]{{1,40}})\))?"
    r"\s{0,2}(?:(?P<sep>[:|.—–-]{1,2})\s{0,3}(?P<rest>.*)|$)",
    re.IGNORECASE,
)
_PERIOD_IN_PARENS = re.compile(rf"\s{{0,2}}\((?P<period>{_PERIOD})\)", re.IGNORECASE)
_MARKERS = re.compile(
    r"\s{0,8}(?:>\s{0,3})?(?:#{1,6}\s{1,4}|[-*•+]\s{1,4}|\d{1,2}(?:\.\d{1,2}){0,3}[.)]?\s{1,4})?"
)
_DURATION_WORDS = re.compile(r"\b(?:days?|weeks?|months?|quarters?|years?)\b", re.IGNORECASE)
_NUMBERED = re.compile(r"\s{0,3}(?P<n>\d{1,2})[.)]\s{1,4}(?P<rest>\S.*)")
_NAME_SPLIT = re.compile(r"\s{0,2}(?:[:—–;]|\s-\s|\.(?:\s|$))\s{0,3}")
_NAME_WORDS = 8
_JOINERS = frozenset(
    "and where which so against with while to for across by using from into through".split()
)
_NAME_STOPS = frozenset("at in to for of on with across into from by".split())
_DESCRIPTION_CHARS = 240


def extract_phases(doc: Document) -> list[Phase]:
    """Phases in the order the notes give them; numbered steps only when nothing else is found."""
    phases: list[Phase] = []
    for section in doc.sections:
        title = _phase_line(section.title) if section.title else None
        if title is not None:
            phases.append(_phase(title, _following(section.lines, -1, 0, heading=True)))
        for index, line in enumerate(section.lines):
            match = _phase_line(line)
            if match is not None:
                indent = len(line) - len(line.lstrip())
                extra = _following(section.lines, index, indent, heading=False)
                phases.append(_phase(match, extra))
    phases = _unique(phases)
    inline = _unique(inline_phases(doc))
    if len(inline) > len(phases):
        phases = inline  # "Q1 discovery; Q2 pilot; Q3 national" read as one phase is worse
    if not phases:
        phases = _unique(_numbered_steps(doc))
    return phases


def is_phase_line(line: str) -> bool:
    """Whether ``line`` starts a phase ("Weeks 1-2: ...", "Phase 2 — Build")."""
    return _phase_line(line) is not None


def _phase_line(line: str) -> re.Match[str] | None:
    stripped = line.strip()
    if not stripped or len(stripped) > 1000:
        return None
    marker = _MARKERS.match(stripped)
    body = clean_markup(stripped[marker.end() if marker else 0 :])
    return _PHASE_LINE.match(body)


def _phase(match: re.Match[str], extra: list[str]) -> Phase:
    lead = " ".join(match["lead"].split())
    paren = (match["paren"] or "").strip()
    rest = (match["rest"] or "").strip()
    ordinal = re.match(_ORDINAL, lead, re.IGNORECASE) is not None
    period, name_hint = lead, ""
    if paren:
        if (
            re.fullmatch(_PERIOD, paren, re.IGNORECASE)
            or re.search(r"\d", paren)
            or _DURATION_WORDS.search(paren)
        ):
            period = paren if ordinal else f"{lead} ({paren})"
        else:
            name_hint = paren
    if in_parens := _PERIOD_IN_PARENS.search(rest):
        if ordinal and not paren:
            period = in_parens["period"]
        rest = (rest[: in_parens.start()] + rest[in_parens.end() :]).strip()
    name, description = split_name(rest)
    if name_hint:
        name, description = name_hint, rest
    if extra:
        more = "; ".join(part.rstrip(".;") for part in extra)
        description = f"{description} {_sentence(more)}".strip() if description else _sentence(more)
    return Phase(name=name, period=period, description=_short(description))


def split_name(text: str) -> tuple[str, str]:
    """A short phase name and the description that follows it."""
    text = text.strip().strip(".:;—–-").strip()
    if not text:
        return "", ""
    parts = _NAME_SPLIT.split(text, maxsplit=1)
    head = parts[0].strip()
    if len(parts) == 2 and head and len(head.split()) <= _NAME_WORDS:
        return _capital(head), _sentence(parts[1])
    clause = head.split(",", 1)[0].strip()
    words = clause.split()
    stop = next((i for i, w in enumerate(words[1:5], 1) if w.lower() in _NAME_STOPS), None)
    if stop is not None and len(words) > 5:  # "Pilot at the Dayton terminals" is "Pilot"
        return _capital(" ".join(words[:stop])), _sentence(text)
    if len(words) <= _NAME_WORDS:
        return _capital(clause), _sentence(text) if clause != text.rstrip(".") else ""
    return _capital(_short_name(clause.split())), _sentence(text)


def _short_name(words: list[str]) -> str:
    """The longest prefix of at most eight words that ends before a joining word."""
    cut = max(
        (i for i in range(2, min(len(words), _NAME_WORDS + 1)) if words[i].lower() in _JOINERS),
        default=0,
    )
    return " ".join(words[:cut]) if cut else " ".join(words[:_NAME_WORDS]) + "…"


def _following(lines: list[str], index: int, indent: int, *, heading: bool) -> list[str]:
    """Lines that belong to the phase at ``index``: sub-items, or the paragraph under a heading."""
    collected: list[str] = []
    own_text = index >= 0 and bool((_phase_line(lines[index]) or {"rest": ""})["rest"])
    for line in lines[index + 1 : index + 12]:
        if not line.strip():
            if heading and not collected:
                continue
            break
        if _phase_line(line) is not None or heading_of(line) is not None:
            break
        stripped = line.strip()
        deeper = len(line) - len(line.lstrip()) > indent
        list_item = re.match(r"(?:[-*•+]|\d{1,2}[.)])\s", stripped) is not None
        if deeper or ((heading or not own_text) and not list_item):
            collected.append(clean_markup(re.sub(r"^(?:[-*•+]|\d{1,2}[.)])\s{1,4}", "", stripped)))
        else:
            break
    return collected[:6]


def _numbered_steps(doc: Document) -> list[Phase]:
    steps: list[Phase] = []
    for section in doc.sections:
        in_steps_section = section.kind in ("phases", "solution")
        announced = False
        for line in section.lines:
            match = _NUMBERED.fullmatch(line)
            if match is None:
                if line.strip():
                    announced = _announces_steps(line)
                continue
            if in_steps_section or announced:
                rest = clean_markup(match["rest"])
                period = f"Step {int(match['n'])}"
                if in_parens := _PERIOD_IN_PARENS.search(rest):
                    period = in_parens["period"]
                    rest = (rest[: in_parens.start()] + rest[in_parens.end() :]).strip()
                name, description = split_name(rest)
                steps.append(Phase(name=name, period=period, description=_short(description)))
    return steps


def _announces_steps(line: str) -> bool:
    """A lead-in such as "Here is how we rolled it out:" before a numbered list."""
    return line.rstrip().endswith(":") and kind_of(line) in ("phases", "solution")


def _unique(phases: list[Phase]) -> list[Phase]:
    seen: set[tuple[str, str]] = set()
    unique = []
    for phase in phases:
        key = (phase.period.lower(), phase.name.lower())
        if key not in seen and (phase.name or phase.description):
            seen.add(key)
            unique.append(phase)
    return unique


def _short(text: str) -> str:
    sentences = split_sentences(" ".join(text.split()))
    return trim(" ".join(sentences[:2]), _DESCRIPTION_CHARS)


def _sentence(text: str) -> str:
    text = text.strip()
    if not text:
        return ""
    text = _capital(text)
    return text if text[-1] in ".!?…" else text + "."


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]
