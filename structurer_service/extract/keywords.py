r"""Keyword regexes: ``\b(?:word|other words)\b``, compiled to scan long notes quickly."""

from __future__ import annotations

import re


def keywords(alternatives: str) -> re.Pattern[str]:
    r"""Matches exactly what ``\b(?:alternatives)\b`` does, several times faster on long text.

    A pattern that opens with ``\b`` gives the engine no first character to look for, so it tries
    every position of the text against every alternative. Here each alternative opens with its
    first letter and checks the word boundary just behind it (no word character before that
    letter), which lets the engine skip straight to the letters that can start a keyword. Every
    alternative must open with one lowercase ASCII letter that no quantifier applies to; the
    pattern is case-sensitive, so match it against lowercased or case-folded text.
    """
    branches = []
    for alternative in _top_level(alternatives):
        first, rest = alternative[:1], alternative[1:]
        if not ("a" <= first <= "z") or rest[:1] in ("?", "*", "+", "{"):
            raise ValueError(f"keyword {alternative!r} must open with a plain lowercase letter")
        branches.append(rf"{first}(?<!\w.){rest}")
    return re.compile(rf"(?:{'|'.join(branches)})\b")


def _top_level(alternatives: str) -> list[str]:
    """``alternatives`` split at the ``|`` that are outside parentheses."""
    parts: list[str] = []
    depth = start = 0
    escaped = in_class = False
    for index, char in enumerate(alternatives):
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "|" and depth == 0:
            parts.append(alternatives[start:index])
            start = index + 1
    parts.append(alternatives[start:])
    return parts
