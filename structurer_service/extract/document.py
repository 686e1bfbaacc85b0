"""Notes as a document: headed sections, tables, and prose units (paragraphs and list items)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import NamedTuple

MAX_NOTES_CHARS = 400_000
_WRAP_WIDTH = 60  # a line shorter than this ends its paragraph: notes break lines on purpose
# Characters that mean nothing in notes but break words apart: control characters (a NUL, a
# backspace), bidirectional overrides and zero-width marks from pasted text. Page, record and
# paragraph separators end a line instead.
_LINE_BREAKS = re.compile(r"[\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")
_INVISIBLE = re.compile(
    r"[\x00-\x08\x0e-\x1b\x1f\x7f-\x84\x86-\x9f\u00ad\u200b-\u200f\u202a-\u202e"
    r"\u2060-\u2064\u2066-\u2069\ufeff]"
)

_KINDS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (kind, re.compile(words))
    for kind, words in (
        (
            "other",
            r"open items|next steps|follow[- ]?ups?|action items|to-?dos?|appendix|attendees",
        ),
        (
            "phases",
            r"timeline|phases?\b|implementation|plan\b|roll-?out|rolled (?:it |them )?out|roadmap"
            r"|steps\b|schedule"
            r"|milestones|how we did it|work ?plan",
        ),
        (
            "solution",
            r"solution|approach|what we did|what we built|what we changed|intervention|our work"
            r"|recommendation|the fix",
        ),
        ("challenge", r"challenge|problem|situation|background|context|pain|starting point|issue"),
        ("results", r"results?\b|outcomes?|impact|what changed|wins\b|how it went|benefits"),
        ("metrics", r"numbers|metrics|kpis?\b|measures"),
        ("quote", r"quotes?\b|testimonial|feedback|in their words|what they said"),
    )
)
# The same words anchored at the start of a title, one named group per kind, in _KINDS order: the
# first group that matches is the kind the first matching pattern of _KINDS names.
_KIND_AT_START = re.compile("|".join(f"(?P<{kind}>{pattern.pattern})" for kind, pattern in _KINDS))
_LEADING_DETERMINER = re.compile(r"^(?:the|our|key|main)\s")
_MD_HEADING = re.compile(r"#{1,6}\s{1,4}(?P<t>.{1,200})")
_BOLD_HEADING = re.compile(
    r"(?:\*\*|__)(?P<t>[^*_\n]{1,60}?)\s?:?\s?(?:\*\*|__)\s?:?(?:\s{1,3}(?P<rest>.+))?"
)
_COLON_HEADING = re.compile(r"(?P<t>[A-Za-z][A-Za-z &/'-]{0,40}?)\s?:(?:\s{1,3}(?P<rest>.+))?")
_PHASE_LIKE = re.compile(r"(?:phase|stage|step|weeks?|months?|sprints?|days?)\s?\d", re.I)
_ITEM = re.compile(r"\s{0,8}(?:[-*•+]|\d{1,2}[.)])\s{1,4}(?=\S)")
_MARKUP = re.compile(r"\*\*|__|`")
_SPEAKER_LINE = re.compile(
    r"[A-Z][\w.'’-]{0,30}(?:\s[A-Z][\w.'’-]{0,30}){0,3}(?:\s\([^()\n]{1,60}\))?"
    r"\s{1,4}\d{1,2}:\d{2}(?:\s?[AP]M)?"
)
# Who spoke and when, before each line of a chat export: "[09:02] lena.m: ", "<mira> ",
# "12/05/2026, 18:02 - Irene: ". What they said is the notes; the prefix is not.
_CHAT_PREFIX = re.compile(
    r"\s{0,4}(?:\[[^\]\n]{1,30}\]\s?(?:[\w.@-]{1,30}(?:\s[\w.@-]{1,30})?:\s)?"
    r"|<[\w.@-]{1,30}>\s"
    r"|\d{1,4}[/.-]\d{1,2}[/.-]\d{2,4},?\s\d{1,2}:\d{2}(?:\s?[AP]M)?\s[-–]\s[^:\n]{1,40}:\s)"
)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s{1,8}(?=[\"“(A-Za-z0-9])")
_ABBREVIATIONS = re.compile(
    r"(?:\b(?:Dr|Mr|Mrs|Ms|St|Inc|Co|Corp|Ltd|vs|approx|e\.g|i\.e|etc|Jr|Sr|No)|\b[A-Z])\.$"
)


def kind_of(title: str) -> str | None:
    """What a section heading announces: "challenge", "solution", "results", "phases", ..."""
    low = title.lower()
    for kind, pattern in _KINDS:
        if pattern.search(low):
            return kind
    return None


def _names_only_a_kind(title: str) -> bool:
    low = _LEADING_DETERMINER.sub("", title.lower().strip())
    return _KIND_AT_START.fullmatch(low) is not None


@dataclass
class Section:
    kind: str | None
    title: str
    lines: list[str] = field(default_factory=list)


class Unit(NamedTuple):
    """A paragraph or a list item, joined onto one line, without its list marker.

    A named tuple rather than a frozen dataclass: notes can hold a hundred thousand units, and a
    tuple is several times cheaper to build.
    """

    text: str
    is_item: bool
    section: int
    indented: bool = False


@dataclass(frozen=True)
class Document:
    text: str
    lines: tuple[str, ...]
    sections: tuple[Section, ...]
    units: tuple[Unit, ...]
    tables: tuple[tuple[str, ...], ...]


def parse_notes(notes: str) -> Document:
    """Split notes into sections, tables and prose units. Linear in the length of the notes."""
    text = notes[:MAX_NOTES_CHARS].replace("\r\n", "\n").replace("\r", "\n")
    text = _INVISIBLE.sub("", _LINE_BREAKS.sub("\n", text))
    text = text.replace("\u00a0", " ").replace("\t", "    ")
    lines = tuple(line.rstrip() for line in text.split("\n"))
    sections = _sections(lines)
    units: list[Unit] = []
    tables: list[tuple[str, ...]] = []
    for index, section in enumerate(sections):
        table: list[str] = []
        for line in [*section.lines, ""]:
            if line.lstrip().startswith("|"):
                table.append(line.strip())
                continue
            if table:
                tables.append(tuple(table))
                table = []
        units.extend(_units(section.lines, index))
    return Document(text, lines, tuple(sections), tuple(units), tuple(tables))


def heading_of(line: str) -> tuple[str, str | None, str] | None:
    """(title, kind, inline text) when ``line`` is a section heading, else None."""
    stripped = line.strip()
    if not stripped or len(stripped) > 200:
        return None
    if stripped[0] == "#" and (match := _MD_HEADING.fullmatch(stripped)):
        title = clean_markup(match["t"]).strip(" :")
        return title, kind_of(title), ""
    if stripped.startswith(("**", "__")):
        match = _BOLD_HEADING.fullmatch(stripped)
    else:
        match = _COLON_HEADING.fullmatch(stripped) if ":" in stripped else None
    if match:
        title = match["t"].strip()
        rest = (match["rest"] or "").strip()
        if len(title.split()) > 6 or (rest and not _names_only_a_kind(title)):
            return None  # "Client: Acme" or "Quote turnaround: 3 days" are not headings
        return title, kind_of(title), rest
    words = stripped.split()
    if (
        len(words) <= 5
        and line[:1] not in " -*•+>|"
        and not stripped.endswith((".", ","))
        and not _PHASE_LIKE.match(stripped)
    ):
        if match := _KIND_AT_START.match(stripped.lower()):
            return stripped, match.lastgroup, ""
    return None


def _sections(lines: tuple[str, ...]) -> list[Section]:
    sections = [Section(None, "")]
    inline_open = False
    for line in lines:
        if not line.strip():
            if inline_open:
                sections.append(Section(None, ""))
                inline_open = False
            else:
                sections[-1].lines.append("")
            continue
        heading = heading_of(line)
        if heading is None:
            sections[-1].lines.append(line)
            continue
        title, kind, rest = heading
        sections.append(Section(kind, title, [rest] if rest else []))
        inline_open = bool(rest)
    return sections


def _units(lines: list[str], section: int) -> list[Unit]:
    units: list[Unit] = []
    parts: list[str] = []
    is_item = False
    indented = False
    previous = ""

    def flush() -> None:
        if parts:
            joined = clean_markup(parts[0] if len(parts) == 1 else " ".join(parts))
            if joined:
                units.append(Unit(joined, is_item, section, indented))
            parts.clear()

    for line in lines:
        if _SPEAKER_LINE.fullmatch(line):
            flush()  # "Owen Price  10:21 AM" heads a chat message: it is not part of the text
            continue
        if line[:1] in "[<0123456789" and (chat := _CHAT_PREFIX.match(line)):
            flush()
            line = line[chat.end() :]
        stripped = line.strip()
        if not stripped or stripped.startswith("|"):
            flush()
            continue
        stripped = stripped.lstrip("> ").strip()
        if match := _ITEM.match(line.lstrip("> ")):
            flush()
            is_item = True
            indented = line.startswith(" ")
            parts.append(line.lstrip("> ")[match.end() :].strip())
            previous = parts[-1]
            continue
        if parts and (
            (is_item and not line.startswith(" "))
            or len(previous) < _WRAP_WIDTH
            or previous.endswith(":")
            or _PHASE_LIKE.match(stripped)
        ):
            flush()
            is_item = False
        if not parts:
            is_item = indented = False
        parts.append(stripped)
        previous = stripped
    flush()
    return units


def clean_markup(text: str) -> str:
    """Text without markdown emphasis and with single spaces."""
    if "*" in text or "_" in text or "`" in text:
        text = _MARKUP.sub("", text)
    return " ".join(text.split())


def split_sentences(text: str) -> list[str]:
    """Sentences of one paragraph; abbreviations such as "Dr." do not end a sentence."""
    pieces: list[str] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        end = match.start()
        if _ABBREVIATIONS.search(text[max(start, end - 8) : end]):
            continue  # only the last characters can hold an abbreviation: never copy the whole run
        if piece := text[start:end].strip():
            pieces.append(piece)
        start = match.end()
    if piece := text[start:].strip():
        pieces.append(piece)
    return pieces


def trim(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, at a sentence end when one is near."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[:limit]
    end = max(cut.rfind(". "), cut.rfind("! "), cut.rfind("? "))
    if end >= limit // 2:
        return cut[: end + 1]
    return cut[: cut.rfind(" ")].rstrip(",;:-—– ") + "…"
