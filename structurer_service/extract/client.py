"""The client's name, wherever notes put it: a "Client:" line, a heading, a participant list, a
signature, or a sentence about the engagement. The consultancy's own name is never the client."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .document import Document

_CLIENT_LINE = re.compile(
    r"[\s>*_#-]{0,8}(?:client|customer|company|account|acct|organi[sz]ation)(?:\s?name)?"
    r"[*_ ]{0,4}(?:[:=—–]|\s-)\s{0,3}[*_]{0,2}(?P<v>[^\n]{1,200})",
    re.IGNORECASE,
)
_CLIENT_HEADING = re.compile(
    r"[\s>*_#]{0,8}(?:\d{1,2}[.)]\s{1,3})?(?:the\s)?client[*_ :]{0,4}", re.IGNORECASE
)
_VALUE_END = re.compile(r"\s\(|\s[—–|-]\s|[,;]|\s{2}")
# One capitalised word: letters, digits and the marks names carry ("St.", "Co-op", "O'Neil").
_WORD = r"(?:[A-Z][\w&'’.-]{0,30}+|&)"
_NAME = re.compile(rf"{_WORD}(?:\s(?:of\s|and\s|de\s|&\s|the\s)?{_WORD}){{0,5}}")
_CUES = (
    # "we worked with X", "the recall work for X", "for the X writeup", "on behalf of X"
    re.compile(
        r"\b(?:worked|working|work|partnered|partnering|engagement|engaged|project|job|case study"
        r"|notes?|write-?up|numbers|figures|months|weeks|debrief|behalf|time|call|wrap-up"
        r"|interview|readout)\s(?:with|for|on|of|at)\s(?:the\s)?(?P<v>[A-Z])"
    ),
    re.compile(r"\b(?:for|on) the\s(?P<v>[A-Z])(?=[^\n]{0,60}?\s(?:writeup|write-up|job|case))"),
    re.compile(r"\bclient (?:is|was)\s(?P<v>[A-Z])"),
)
_AFTER_NAME = re.compile(
    r"\s(?:hired|engaged|asked|brought|called|came|approached|invited|contacted)\sus\b"
    r"|,\s(?:a|an)\s[a-z0-9]|\s\((?:a\s|an\s)?[a-z0-9]"
)
_PARENS = re.compile(r"\(([^()\n]{2,120})\)")
# Words that mark the consultancy: its name is on the notes too, never as the client.
_CONSULTANCY = re.compile(
    r"\b(?:Consult\w*|Advis\w*|Partners|Associates|Strategy|Studio)\b|^us$", re.IGNORECASE
)
_ROLE = re.compile(
    r"\b(?:Head|Director|Manager|Officer|Lead|VP|Chief|Coordinator|Consultant|Analyst|Principal"
    r"|President|Pharmacist|Engineer|Partner|Superintendent|CEO|COO|CFO|CTO|CIO|Team|Dr|Mr|Ms"
    r"|Mrs|Founder|Owner|Chef|Nurse)\b"
)
_ORG_WORDS = re.compile(
    r"\b(?:Group|Inc|Ltd|LLP|LLC|GmbH|AG|SA|plc|Co|Corp|Company|Bank|Mutual|Union|Council|City"
    r"|County|District|Authority|University|College|School|Hospital|Health|Clinic|Labs?|Studios?"
    r"|Media|Foods?|Hotels?|Resorts?|Stores|Builders|Lines|Energy|Utilities|Water|Services"
    r"|Systems|Logistics|Freight|Airlines?|Pharmacy|Therapeutics|Components|Co-op|Cooperative"
    r"|Management|Mgmt|Insurance|Credit|Trust|Foundation|Capital|Holdings|Industries)\b"
)
# Capitalised words that are not names: how notes and e-mails label themselves, days and months.
_NOT_NAMES = frozenset(
    """the we our it they this that in on at a an then when from to subject re fwd fw
    forwarded message sent date cc notes note transcript interview call meeting mtg summary case
    study draft project engagement recap debrief outline readout wrap-up client account acct
    present participants attendees kpi kpis q a quick results problem challenge solution timeline
    plan phases context background situation numbers metrics quote testimonial hi hello dear
    thanks cheers regards best kind begin original email e-mail chat export microsoft teams slack
    whatsapp monday tuesday wednesday thursday friday saturday sunday mon tue wed thu fri
    january february march april may june july august september october november december jan
    feb mar apr jun jul aug sep sept oct nov dec spring summer autumn winter fall and of for
    with by i you he she ok okay yes no team""".split()
)


_TITLE_CHARS = 300  # a title is a line of a few words; past this it is not a title
_MAX_CANDIDATES = 200  # each is judged against the whole notes once


@dataclass(frozen=True)
class ClientGuess:
    """The client's name, and how sure the finder is (an explicit line is sure)."""

    name: str = ""
    sure: bool = False


def find_client(doc: Document) -> ClientGuess:
    """The client named in ``doc``: from an explicit line when there is one, else the best-placed
    name (a heading, a participant list, a signature, a sentence about the engagement)."""
    lines = doc.lines
    for index, line in enumerate(lines):
        if len(line) >= 300:
            continue
        if match := _CLIENT_LINE.match(line):
            return ClientGuess(_name_value(match["v"]), True)
        if _CLIENT_HEADING.fullmatch(line) and (value := _next_value(lines, index)):
            return ClientGuess(value, True)
    scores: dict[str, float] = {}
    order: dict[str, int] = {}
    judged: dict[str, bool] = {}
    consultancy = _consultancy_names(doc)

    def acceptable(name: str) -> bool:
        squashed = re.sub(r"[^a-z0-9]", "", name.casefold())
        return (
            bool(name)
            and _plausible(name)
            and not _is_person(text, name)
            and not any(
                domain.startswith(squashed) or squashed.startswith(domain) for domain in consultancy
            )
        )

    def add(name: str, weight: float, position: int) -> None:
        name = _tidy(name)
        if name not in judged:
            if len(judged) >= _MAX_CANDIDATES:
                return
            judged[name] = acceptable(name)
        if not judged[name]:
            return
        if _ORG_WORDS.search(name):
            weight += 2
        scores[name] = scores.get(name, 0.0) + weight
        order.setdefault(name, position)

    text = doc.text
    for pattern in _CUES:
        for match in pattern.finditer(text):
            if name := _name_at(text, match.start("v")):
                add(name, 6, match.start())
    for match in _PARENS.finditer(text):
        for part in re.split(r"[,;]\s{0,2}", match[1]):
            if _NAME.fullmatch(part.strip()) and not _ROLE.search(part):
                add(part, 4, match.start())
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is not None:
        for offset, line in enumerate(lines[first : first + 6]):
            if offset and not _is_title_line(line):
                continue
            for name in dict.fromkeys(_heading_names(line)):
                add(name, 5 if offset == 0 else 3, first + offset)
            if offset == 0:
                break
    for line in _title_lines(lines):
        for name in dict.fromkeys(_heading_names(line)):
            add(name, 3, 0)
    for match in _NAME.finditer(text):
        after = text[match.end() : match.end() + 40]
        if _AFTER_NAME.match(after):
            add(match[0], 4, match.start())
    for position, line in _signature_lines(lines):
        add(line, 3, position)
    for name in list(scores):
        occurrences = text.count(name)
        scores[name] += min(occurrences - 1, 3)
    if not scores:
        return ClientGuess()
    best = max(scores, key=lambda name: (scores[name], -order[name]))
    return ClientGuess(best, False) if scores[best] >= 5 else ClientGuess()


def _is_person(text: str, name: str) -> bool:
    """Whether the notes give ``name`` a job title ("Sunita Rao, Head of IT"): a person."""
    titled = re.compile(
        r"(?<![(\w])" + re.escape(name) + r"(?:\s<|(?:,\s{0,2}|\s\(|\s{0,4}\n\s{0,4})"
        r"(?:the\s|our\s|their\s)?(?:[\w-]+\s){0,3}?" + _ROLE.pattern + ")"
    )
    return titled.search(text) is not None


def _name_value(value: str) -> str:
    value = value.strip()
    end = _VALUE_END.search(value)
    value = (value[: end.start()] if end else value).strip(" *_.:")
    if not value or not (value[0].isupper() or value[0].isdigit()):
        return ""  # "Client: a regional bank (name withheld)" names nobody
    return value[:1].upper() + value[1:]


def _next_value(lines: tuple[str, ...], index: int) -> str:
    for line in lines[index + 1 : index + 3]:
        if line.strip():
            return _name_value(line.strip().lstrip("#*-• ").strip())
    return ""


def _name_at(text: str, start: int) -> str:
    match = _NAME.match(text, start)
    return match[0] if match else ""


def _tidy(name: str) -> str:
    name = re.sub(r"['’]s$", "", name.strip().rstrip(".,:;'’ "))
    words = name.split()
    while words and (words[0].lower() in _NOT_NAMES or words[0] == "&"):
        words.pop(0)
    while words and (words[-1].lower() in _NOT_NAMES or words[-1] == "&"):
        words.pop()
    name = " ".join(words)
    if name.isupper() and len(name) > 4:
        name = " ".join(w.capitalize() if w.isalpha() else w for w in name.split())
    return name


def _plausible(name: str) -> bool:
    if _ROLE.search(name) or _CONSULTANCY.search(name):
        return False
    words = name.split()
    if any(
        not (w[:1].isupper() or w[:1].isdigit() or w in ("of", "and", "de", "&", "the"))
        for w in words
    ):
        return False
    return len(name) >= 3 and not any(char.isdigit() for char in name[:1])


def _is_title_line(line: str) -> bool:
    return bool(line.strip()) and line.lstrip().startswith(("#", "Subject:", "Re:"))


def _title_lines(lines: tuple[str, ...]) -> list[str]:
    """Subject lines and markdown headings: the notes' own titles."""
    found = []
    for line in lines[:400]:
        stripped = line.strip()
        if stripped.lower().startswith("subject:"):
            found.append(stripped[8:])
        elif stripped.startswith("#"):
            found.append(stripped.lstrip("# "))
    return found


def _heading_names(line: str) -> list[str]:
    """Names in a title such as "Harbourview Hotels — housekeeping" or "Notes for the X study"."""
    line = line[:_TITLE_CHARS]
    line = re.sub(r"^\s*(?:subject:|re:|fwd?:|\#{1,6})\s*", "", line.strip(), flags=re.IGNORECASE)
    line = _PARENS.sub(" ", line)
    names = []
    for segment in re.split(r"\s[—–|-]\s|[:,;]\s|\s{2,}", line):
        segment = segment.strip(" *_")
        for match in _NAME.finditer(segment):
            words = match[0].split()
            sentence_case = match.start() == 0 and len(words) == 1 and match.end() < len(segment)
            if sentence_case and segment[match.end() :].lstrip()[:1].islower():
                continue  # "Returns portal for ...": a capital that only starts the title
            names.append(match[0])
    return names


def _signature_lines(lines: tuple[str, ...]) -> list[tuple[int, str]]:
    """Organisation lines of a signature: a short capitalised line under a person's name."""
    found = []
    tail_start = max(0, len(lines) - 8)
    for index in range(tail_start, len(lines)):
        stripped = lines[index].strip()
        for part in re.split(r"\s[|,]\s|,\s", stripped):
            part = part.strip()
            if part and _NAME.fullmatch(part) and _ORG_WORDS.search(part):
                found.append((index, part))
    return found


def _consultancy_names(doc: Document) -> set[str]:
    """Names the consultancy goes by: its e-mail domains' first words ("arcadia-consulting")."""
    names: set[str] = set()
    for domain in re.findall(r"@([a-z0-9-]{2,40})\.", doc.text[:20_000].lower()):
        if domain not in ("gmail", "outlook", "hotmail", "yahoo", "icloud", "proton"):
            names.add(domain.split("-")[0])
    return {name for name in names if len(name) >= 4}
