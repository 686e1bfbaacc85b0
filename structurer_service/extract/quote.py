"""A quotation from someone at the client: '"..." — Name, Role' or 'Name, Role, said: "..."'."""

from __future__ import annotations

import re

from casecraft.v1.case_study_pb2 import Quote

from .document import Document

_NAME = r"[A-ZÀ-Ý][\w.'’-]{0,30}(?:[ ][A-ZÀ-Ý][\w.'’-]{0,30}){0,3}"
_QUOTED = re.compile(r"[\"“”](?P<text>[^\"“”]{12,800})[\"“”]")
_AFTER = re.compile(
    rf"[\s,]{{0,6}}(?:—|–|-{{1,2}}|~|(?:said|says|added|explained|noted|wrote)\s)\s{{0,2}}"
    rf"(?P<name>{_NAME})"
    r"(?:\s{0,2},\s{0,2}(?P<role>[^\n\"“”()]{1,80})|\s{0,2}\((?P<role2>[^)\n]{1,80})\))?"
)
_BEFORE = re.compile(
    rf"(?P<name>{_NAME})"
    r"(?:\s{0,2},\s{0,2}(?P<role>[^,:\n\"“”]{1,80}?)(?=\s{0,2}[,:])|\s{0,2}\((?P<role2>[^)\n]{1,80})\))?"
    r"(?:\s{0,2},?\s{0,2}(?:said|says|told us|put it|noted|added|wrote|explained)\b[^\"“\n]{0,20}?"
    r"|\s{0,2},?\s{0,2}:)\s{0,2}$"
)
_PAREN_BEFORE = re.compile(
    rf"\((?P<name>{_NAME})\)\s{{0,2}},?\s{{0,2}}(?:said|says|told us|put it|noted|added|wrote)\b"
    r"[^\"“\n]{0,20}?\s{0,2}:?\s{0,2}$"
)
_SAID = re.compile(r"(?:said|says|told|put|noted|added|wrote|explained)\b", re.IGNORECASE)
_NOT_NAMES = frozenset(
    "The We Our It They This That He She I You In On At Their His Her Its Your".split()
)
_BLOCKQUOTE = re.compile(r"(?m)^[ ]{0,3}>[ ]?")
_MIN_WORDS = 5


def extract_quote(doc: Document) -> Quote | None:
    """The first attributed quotation in the notes, or None."""
    text = _BLOCKQUOTE.sub("", doc.text)
    for match in _QUOTED.finditer(text):
        words = " ".join(match["text"].split())
        if len(words.split()) < _MIN_WORDS:
            continue
        after = _AFTER.match(text, match.end())
        window = text[max(0, match.start() - 160) : match.start()]
        if paren := _PAREN_BEFORE.search(window):  # "their head of growth (Dana Ortiz) said"
            return _full(doc.text, Quote(text=words, author=paren["name"]))
        before = _before(window)
        for attribution in (after, before):
            if attribution and _is_name(attribution["name"]):
                role = attribution["role"] or attribution["role2"] or ""
                author = _without_title(attribution["name"].strip())
                return _full(doc.text, Quote(text=words, author=author, role=_clean_role(role)))
        if speaker := _speaker_before(text, match.start()):
            return _full(doc.text, Quote(text=words, author=speaker))
    return None


_TITLES = frozenset(
    """vp svp evp ceo coo cfo cto cio cmo director head manager chief executive lead
    superintendent chef president founder owner partner principal""".split()
)
_SPEAKER = re.compile(
    rf"(?m)^\s{{0,4}}(?P<name>{_NAME})(?:\s\([^()\n]{{1,60}}\))?\s{{1,4}}\d{{1,2}}:\d{{2}}"
)


def _before(window: str) -> re.Match[str] | None:
    """The attribution that ends ``window`` ("Ines Duarte, Head of X:"), tried from each capital
    so that "Their COO, Hannah Price, said:" is not read as a person called "Their COO"."""
    for start in re.finditer(r"(?<![\w'’.-])[A-ZÀ-Ý]", window):
        found = _BEFORE.match(window, start.start())
        if found is None:
            continue
        role = (found["role"] or "").strip()
        role_is_a_person = (
            len(role.split()) >= 2 and re.fullmatch(_NAME, role) is not None and not _titled(role)
        )
        if role_is_a_person and (len(found["name"].split()) == 1 or _titled(found["name"])):
            return _BEFORE.match(window, found.start("role") + len(found["role"]) - len(role))
        if _is_name(found["name"]) and not _titled(found["name"]):
            return found
    return None


def _titled(name: str) -> bool:
    """Whether ``name`` holds a job title ("COO", "Head of X"): a role, not a person."""
    return any(word.lower().strip(".") in _TITLES for word in name.split())


def _without_title(name: str) -> str:
    """ "VP Carla Mendes" -> "Carla Mendes"; "Dr. Paul Menon" keeps its "Dr."."""
    words = name.split()
    while len(words) > 2 and words[0].lower().strip(".") in _TITLES:
        words.pop(0)
    return " ".join(words)


def _speaker_before(text: str, start: int) -> str:
    """The chat speaker whose message holds the quotation ("Rashid Ali (...) 14:10" above it)."""
    window = text[max(0, start - 200) : start]
    speakers = list(_SPEAKER.finditer(window))
    if not speakers or "\n\n" in window[speakers[-1].end() :]:
        return ""
    name = speakers[-1]["name"]
    return name if _is_name(name) else ""


def _full(text: str, quote: Quote) -> Quote:
    """The quote with a first name ("Maya:") or a transcript letter ("A:") made the full name the
    notes give elsewhere ("Maya Brooks (Volunteer Coordinator, ...)", "A (Giulia Ferri, ...)")."""
    if " " in quote.author:
        return quote
    pattern = re.compile(
        rf"\b{re.escape(quote.author)}\s\((?P<inner>{_NAME})(?:,\s(?P<r1>[^()\n]{{1,60}}))?\)"
        rf"|\b(?P<full>{re.escape(quote.author)}\s[A-ZÀ-Ý][\w'’-]{{1,30}})(?:\s\((?P<r2>[^()\n]{{1,80}})\))?"
    )
    for match in pattern.finditer(text):
        name = match["inner"] or match["full"]
        if name and _is_name(name) and name.split()[-1] not in _NOT_NAMES:
            role = quote.role or _role_in(match["r1"] or match["r2"] or "")
            return Quote(text=quote.text, author=name, role=role)
    return quote


def _role_in(parenthetical: str) -> str:
    """The job title among "Cornerstone Outdoor, Head of Stores"."""
    for part in parenthetical.split(","):
        if any(word.lower() in _TITLES or word.lower() in _ROLE_WORDS for word in part.split()):
            return part.strip()
    return ""


_ROLE_WORDS = frozenset("coordinator officer analyst nurse engineer consultant".split())


def _is_name(name: str) -> bool:
    return name.split()[0] not in _NOT_NAMES and not re.search(r"['’]s\b", name)


def _clean_role(role: str) -> str:
    role = role.strip().rstrip(".,;:—–-").strip()
    if _SAID.match(role):
        return ""  # "Lars Eide, told us:": the words after the name are not a job title
    role = re.split(r"\s(?:at|@)\s", role, maxsplit=1)[0]
    return role.strip()
