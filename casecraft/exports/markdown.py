"""The case study as Markdown, its images linked beside it."""

from __future__ import annotations

import re

from casecraft.exports.source import Export, Source
from casecraft.exports.web_page import image_file

_SPECIAL = re.compile(r"([\\`*_{}\[\]<>#|!])")


def render(src: Source) -> Export:
    s = src.study
    lines = [f"# {_text(src.title)}", ""]
    if s.subtitle and s.title:
        lines += [f"_{_text(s.subtitle)}_", ""]
    facts = [f"**Client:** {_text(s.client_name)}" if not src.anonymous else ""]
    facts.append(f"**Industry:** {_text(s.industry)}" if s.industry else "")
    if any(facts):
        lines += [" · ".join(f for f in facts if f), ""]
    if "hero" in src.images:
        lines += [f"![{_text(src.title)}]({image_file('hero', src.images['hero'])})", ""]
    for heading, text in (("The challenge", s.challenge), ("The solution", s.solution)):
        if text.strip():
            lines += [f"## {heading}", "", _text(text), ""]
    if s.metrics:
        lines += ["## Results in numbers", ""]
        if "metrics" in src.images:
            lines += [f"![Metrics dashboard]({image_file('metrics', src.images['metrics'])})", ""]
        lines += ["| Metric | Before | After | Change |", "| --- | --- | --- | --- |"]
        lines += [
            f"| {_cell(m.label)} | {_cell(m.before)} | {_cell(m.after)} | {_cell(m.improvement)} |"
            for m in s.metrics
        ]
        lines.append("")
    if s.phases:
        lines += ["## How it was done", ""]
        if "timeline" in src.images:
            lines += [
                f"![Implementation timeline]({image_file('timeline', src.images['timeline'])})",
                "",
            ]
        for index, phase in enumerate(s.phases, 1):
            period = f" ({_text(phase.period)})" if phase.period else ""
            description = f": {_text(phase.description)}" if phase.description else ""
            lines.append(f"{index}. **{_text(phase.name)}**{period}{description}")
        lines.append("")
    if s.results.strip():
        lines += ["## The results", "", _text(s.results), ""]
    if s.HasField("quote") and s.quote.text.strip():
        who = ", ".join(x for x in (s.quote.author, s.quote.role) if x)
        lines += [f"> “{_text(s.quote.text)}”", ">"] + ([f"> — {_text(who)}"] if who else [])
        lines.append("")
    return Export(
        "\n".join(lines).encode("utf-8"), "text/markdown; charset=utf-8", f"{src.slug}.md"
    )


def _text(text: str) -> str:
    """One paragraph of Markdown that shows `text` as written (no markup or HTML from the notes)."""
    return _SPECIAL.sub(r"\\\1", " ".join(text.split()))


def _cell(text: str) -> str:
    return _text(text) or " "
