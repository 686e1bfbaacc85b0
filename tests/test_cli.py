"""The casecraft command's own errors: a file it cannot use stops it before anything starts."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from casecraft.cli import main

ROOT = Path(__file__).resolve().parent.parent
NOTES = ROOT / "examples" / "fintech_onboarding.md"
# Nothing listens here: reaching the network at all would be a different error.
NOWHERE = "http://127.0.0.1:9"


def exit_message(argv: list[str]) -> str:
    with pytest.raises(SystemExit) as stopped:
        main(argv)
    return str(stopped.value.code)


def test_notes_that_are_not_utf8_are_named_with_the_fix(tmp_path: Path) -> None:
    notes = tmp_path / "notes.md"
    notes.write_bytes("Client: Acmé".encode("latin-1"))

    for argv in (["demo", str(notes)], ["generate", str(notes), "--gateway", NOWHERE]):
        message = exit_message(argv)
        assert f"{notes}: not UTF-8 text (byte 0xe9 at offset 11)" in message
        assert "save the notes as UTF-8" in message


def test_a_missing_logo_is_named(tmp_path: Path) -> None:
    logo = tmp_path / "logo.png"

    message = exit_message(["generate", str(NOTES), "--logo", str(logo), "--gateway", NOWHERE])

    assert message == f"casecraft: --logo {logo}: No such file or directory"


def test_missing_notes_are_named(tmp_path: Path) -> None:
    assert exit_message(["demo", str(tmp_path / "x.md")]).endswith("x.md: no such file")


def test_a_file_that_is_not_notes_is_refused_with_what_to_send(tmp_path: Path) -> None:
    sheet = tmp_path / "numbers.docx"
    with zipfile.ZipFile(sheet, "w") as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")

    message = exit_message(["generate", str(sheet), "--gateway", NOWHERE])

    assert message.startswith(f"casecraft: {sheet}: this is a spreadsheet (.xlsx), not notes")
    assert ".docx, .pdf" in message
