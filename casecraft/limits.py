"""Input limits that the gateway and the services enforce alike."""

from __future__ import annotations

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
