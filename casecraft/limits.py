"""Input limits that the gateway and the services enforce alike."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

MAX_NOTES_BYTES = 200_000
MAX_LOGO_BYTES = 2_000_000
LOGO_MEDIA_TYPES = ("image/png", "image/jpeg")


def notes_problem(notes: str) -> str | None:
    """Why these notes cannot be structured, or None when they can."""
    if not notes.strip():
        return "notes: empty; send the consultant's notes as text"
    if not any(char.isprintable() and not char.isspace() for char in notes):
        return (
            "notes: no visible text, only whitespace, control or formatting characters; "
            "send the consultant's notes as text"
        )
    size = len(notes.encode("utf-8"))
    if size > MAX_NOTES_BYTES:
        return (
            f"notes: {size:,} bytes is over the limit of {MAX_NOTES_BYTES:,} bytes; "
            "send the notes of one engagement, without attachments"
        )
    return None


MAX_PROMPT_CHARS = 20_000
# Characters per text field of an image job: several times what any real case study needs. The
# renderer shows far less; generative providers are sent (and bill) every character.
MAX_TEXT_CHARS = {
    "client_name": 300,
    "industry": 300,
    "title": 400,
    "subtitle": 1_000,
    "label": 400,
    "before": 400,
    "after": 400,
    "improvement": 400,
    "unit": 100,
    "name": 400,
    "period": 200,
    "description": 2_000,
}
_TEXT_FIELDS = {
    "hero": ("client_name", "industry", "title", "subtitle"),
    "metrics": ("label", "before", "after", "improvement", "unit"),
    "timeline": ("name", "period", "description"),
}
_ITEMS = {"metrics": "metrics", "timeline": "phases"}
_SMALLEST = {
    kind: min(MAX_TEXT_CHARS[name] for name in names) for kind, names in _TEXT_FIELDS.items()
}


def texts_over_limit(kind: str, data: Any) -> Iterator[tuple[str, Any, str]]:
    """(path, message, field) for each text field of an image job's ``kind`` data (HeroData,
    MetricsData or TimelineData) that is over its limit.

    A field has no more characters than its message has bytes, so a message no larger than its
    smallest limit is not looked into: most never are, and this runs for every job.
    """
    if kind not in _TEXT_FIELDS:
        return
    if kind != "hero":
        if len(data.client_name) > MAX_TEXT_CHARS["client_name"]:
            yield f"{kind}.client_name", data, "client_name"
        items = getattr(data, _ITEMS[kind])
    else:
        items = (data,)
    smallest = _SMALLEST[kind]
    for index, message in enumerate(items):
        if message.ByteSize() <= smallest:
            continue
        for name in _TEXT_FIELDS[kind]:
            if len(getattr(message, name)) > MAX_TEXT_CHARS[name]:
                where = kind if kind == "hero" else f"{kind}.{_ITEMS[kind]}[{index}]"
                yield f"{where}.{name}", message, name


def clip_job_texts(kind: str, data: Any) -> None:
    """Shorten, in place, each text field of ``data`` that is over its limit, ending it with an
    ellipsis: what a job sender does so that its jobs are never refused for length."""
    for _, message, name in list(texts_over_limit(kind, data)):
        setattr(message, name, getattr(message, name)[: MAX_TEXT_CHARS[name] - 1] + "…")
