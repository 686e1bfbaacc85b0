"""Before/after pairs in running text, however the notes join the two numbers.

The numbers of a paragraph are read in order (compound durations such as "4h 10m" as one), and each
two neighbours are judged by the words around them: an arrow or "from ... to" reads forward;
"down to 2% from 7%", "38% (was 61%)", "94 days, compared with 168" read backward; "27 before, 9
after", "was 36h, now 14h" and "used to take 3 days; it is now 5 hours" name the two sides.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from .numbers import QUANTITY, Quantity, time_unit

_APPROX = r"(?:(?:around|about|roughly|approximately|some|over|under|nearly|almost|~|≈)\s)?"
_FILLER = r"(?:[a-z/%-]{1,15}\s){0,3}?"  # "of volume", "per week", "a month": the unit's tail
_ARROW = re.compile(r"(?:->|-->|=>|→|⟶|➜|➔|—>|–>|>|»)")
_FROM_END = re.compile(rf"\bfrom\s{_APPROX}$")
_TO_END = re.compile(r"\bto\s$")
_BEFORE_END = re.compile(r"\b(?:before|baseline|previously|pre)\s?:?\s$")
_GAP_TO = re.compile(rf"{_FILLER}to\s{_APPROX}")
_SIDE_WORDS = re.compile(r"\b(?:before|after|was|now|then|today)\b")
_GAP_BACK = re.compile(
    rf"{_FILLER}(?:(?:up|down)\sfrom|from|was|were|previously|formerly|having been|had been"
    r"|compared (?:with|to)|instead of|rather than|against|before that)\s" + _APPROX
)
_GAP_VERSUS = re.compile(r"(?:vs\.?|versus)\s")
_GAP_BEFORE_AFTER = re.compile(rf"{_FILLER}before\s(?:and\s)?(?:{_FILLER})?")
_GAP_AFTER_BEFORE = re.compile(rf"{_FILLER}(?:after|now|today)\s(?:and\s)?(?:{_FILLER})?")
_GAP_THEN_AFTER = re.compile(rf"{_FILLER}(?:and\s)?after:?\s{_APPROX}")
_GAP_NOW = re.compile(
    rf"{_FILLER}(?:(?:previously|before|earlier|originally)\s)?(?:and\s)?"
    r"(?:(?:is|are|it's|it is|they're|they are|we're)\s)?(?:now|today|currently)\s"
    r"(?:(?:it's|at|is|are|takes|down to|up to)\s)?" + _APPROX
)
_GAP_PREVIOUSLY_NOW = re.compile(
    rf"{_FILLER}(?:previously|before|earlier|originally)\s(?:and\s)?(?:is|are)\s"
)
_GAP_UP_TO = re.compile(rf"{_FILLER}(?:up|down)\sto\s{_APPROX}")
_TAIL_BEFORE = re.compile(
    r"\s?(?:before|previously|earlier|originally|last year|a year ago|on the previous|baseline)\b"
)
_TAIL_AFTER = re.compile(r"\s?(?:after|now|today|currently|since)\b")
_PAST = re.compile(
    r"\b(?:was|were|used to|had been|had averaged|averaged|took|previously|originally|before)\b"
)
_PRESENT = re.compile(r"\b(?:is|are|now)\b")
_NOW = re.compile(r"\b(?:now|today|currently|these days)\b|\b(?:is|are) (?:down|up) to\b")
_WAS = re.compile(r"\b(?:was|were|used to|had been)\b")
_COMPOUND = re.compile(
    r"(?<![\w.])(?P<a>\d{1,3})\s?(?P<ua>h|hrs?|hours?|d|days?|m|mins?|minutes?)\s?(?:and\s)?"
    r"(?P<b>\d{1,2})\s?(?P<ub>m|mins?|minutes?|s|secs?|seconds?|h|hrs?|hours?)\b",
    re.IGNORECASE,
)
_CROSSING = 90  # the most text between two sides a sentence apart ("...; it is now 35 minutes")


class Token(NamedTuple):
    """A quantity's place in the text; its value is parsed only if it joins a pair."""

    start: int
    end: int
    match: re.Match[str] | None = None
    compound: Quantity | None = None

    @property
    def quantity(self) -> Quantity:
        if self.compound is not None:
            return self.compound
        assert self.match is not None
        return Quantity.from_match(self.match)


class Pair(NamedTuple):
    before: Token
    after: Token


def compound_durations(text: str) -> list[Token]:
    """The durations written in two units ("4h 10m", "9m30s", "1 day 6 hours"), each one token
    in its smaller unit (250 min, 570 sec, 30 hours)."""
    compounds: list[Token] = []
    for match in _COMPOUND.finditer(text):
        big, small = time_unit(match["ua"]), time_unit(match["ub"])
        if big is None or small is None or small[1] >= big[1]:
            continue
        value = int(match["a"]) * big[1] / small[1] + int(match["b"])
        quantity = Quantity(match[0], value, small[0], "time", small[1])
        compounds.append(Token(match.start(), match.end(), None, quantity))
    return compounds


def tokens(text: str) -> list[Token]:
    """The quantities of ``text`` in order; a compound duration is one token, in its smaller unit."""
    compounds = compound_durations(text)
    if not compounds:
        return [Token(m.start(), m.end(), m) for m in QUANTITY.finditer(text)]
    found: list[Token] = []
    pending = iter(compounds)
    compound = next(pending, None)
    for match in QUANTITY.finditer(text):
        while compound is not None and compound.end <= match.start():
            found.append(compound)
            compound = next(pending, None)
        if compound is not None and compound.start <= match.start() < compound.end:
            continue
        found.append(Token(match.start(), match.end(), match))
    if compound is not None:
        found.append(compound)
    found.extend(pending)
    return found


def pairs(text: str) -> list[Pair]:
    """Before/after pairs of neighbouring quantities, each quantity in at most one pair."""
    toks = tokens(text)
    found: list[Pair] = []
    index = 0
    while index < len(toks) - 1:
        first, second = toks[index], toks[index + 1]
        order = judge(text, first, second)
        if order is None:
            index += 1
            continue
        found.append(Pair(first, second) if order else Pair(second, first))
        index += 2
    return found


def judge(text: str, first: Token, second: Token) -> bool | None:
    """True when ``first`` is the before value, False when it is the after value, None when the
    words between them do not join them as a before/after pair."""
    raw_gap = text[first.end : second.start]
    if any(char.isdigit() for char in raw_gap):
        return None
    gap = _normal(raw_gap)
    if not gap:
        return None  # "1 1" or "12 | 14": numbers side by side, nothing joins them
    head = _normal(text[max(0, first.start - 40) : first.start])
    tail = _normal(text[second.end : second.end + 30])
    if _FROM_END.search(gap) and tail.startswith("to "):
        return None  # "per 10,000 items fell from 14 to 3": the pair is the next two
    if len(raw_gap) <= 16 and _ARROW.fullmatch(_SIDE_WORDS.sub("", gap).strip()):
        return True
    if not any(char.isalpha() for char in gap):
        return None
    if _FROM_END.search(head) and _GAP_TO.fullmatch(gap):
        return True
    if _TO_END.search(head) and _GAP_BACK.fullmatch(gap):
        return False
    if _GAP_VERSUS.fullmatch(gap):
        return not _TAIL_BEFORE.match(tail)
    if _BEFORE_END.search(head) and _GAP_THEN_AFTER.fullmatch(gap):
        return True
    if _GAP_BEFORE_AFTER.fullmatch(gap) and _TAIL_AFTER.match(tail):
        return True
    if _GAP_AFTER_BEFORE.fullmatch(gap) and _TAIL_BEFORE.match(tail):
        return False
    if _GAP_NOW.fullmatch(gap) or _GAP_PREVIOUSLY_NOW.fullmatch(gap) or _GAP_UP_TO.fullmatch(gap):
        return True
    if _GAP_BACK.fullmatch(gap) and not _TAIL_AFTER.match(tail):
        return False
    if len(raw_gap) <= _CROSSING:
        clause_head = re.split(r"[.;!?]\s", head)[-1]
        if _PAST.search(clause_head) and _NOW.search(gap):
            return True
        if _PRESENT.search(clause_head) and _WAS.search(gap) and _TAIL_BEFORE.match(tail):
            return False
    return None


def _normal(text: str) -> str:
    """Lowercase words with single spaces and the commas, brackets and colons that join them
    dropped: "  , (was " -> "was "."""
    words = re.sub(r"[,;:()\[\]]", " ", text.lower()).split()
    return " ".join(words) + " " if words else ""
