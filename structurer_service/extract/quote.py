"""A quotation from someone at the client: '"..." — Name, Role' or 'Name, Role, said: "..."'."""

from __future__ import annotations

import re

from casecraft.v1.case_study_pb2 import Quote

from .document import Document

_NAME = r"[A-ZÀ-Ý][\w.'’-]{0,30}(?:\s[A-ZÀ-Ý][\w.'’-]{0,30}){0,3}"
_QUOTED = re.compile(r"[\"“”](?P<text>[^\"“”]{12,800})[\"“”]")
_AFTER = re.compile(
    rf"[\s,]{{0,6}}(?:—|–|-{{1,2}}|~)\s{{0,2}}(?P<name>{_NAME})"
    r"(?:\s{0,2},\s{0,2}(?P<role>[^\n\"“”()]{1,80})|\s{0,2}\((?P<role2>[^)\n]{1,80})\))?"
)
_BEFORE = re.compile(
    rf"(?P<name>{_NAME})"
    r"(?:\s{0,2},\s{0,2}(?P<role>[^,:\n\"“”]{1,80}?)\s{0,2},|\s{0,2}\((?P<role2>[^)\n]{1,80})\))?"
    r"(?:\s{0,2}(?:said|says|told us|put it|noted|added|wrote|explained)\b[^\"“\n]{0,20}?"
    r"|\s{0,2}:)\s{0,2}$"
)
_NOT_NAMES = frozenset("The We Our It They This That He She I You In On At".split())
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
        before = _BEFORE.search(text[max(0, match.start() - 160) : match.start()])
        for attribution in (after, before):
            if attribution and _is_name(attribution["name"]):
                role = attribution["role"] or attribution["role2"] or ""
                return Quote(text=words, author=attribution["name"].strip(), role=_clean_role(role))
    return None


def _is_name(name: str) -> bool:
    return name.split()[0] not in _NOT_NAMES and not re.search(r"['’]s\b", name)


def _clean_role(role: str) -> str:
    role = role.strip().rstrip(".,;:—–-").strip()
    role = re.split(r"\s(?:at|@)\s", role, maxsplit=1)[0]
    return role.strip()
