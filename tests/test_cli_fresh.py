"""`casecraft generate --fresh` asks the gateway to structure the notes again (options.fresh)."""

from __future__ import annotations

from casecraft.notes_input import Notes, request_body


def test_fresh_and_fast_travel_as_the_request_options() -> None:
    notes = Notes("Acme cut dispatch time from 94 min to 31 min.", "notes.md")
    assert request_body(notes, fresh=True)["options"] == {"fresh": True}
    assert request_body(notes, fast=True, fresh=True)["options"] == {"fast": True, "fresh": True}
    assert "options" not in request_body(notes)
