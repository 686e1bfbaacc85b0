"""The casecraft command's own errors: a file it cannot use stops it before anything starts."""

from __future__ import annotations

import io
import zipfile
from importlib.metadata import version
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


@pytest.fixture
def services_would_fail(monkeypatch: pytest.MonkeyPatch) -> None:
    """Services started now would fail with a different message, so a refusal that names the
    argument proves nothing was started."""
    monkeypatch.setenv("CASECRAFT_STRUCTURER_PROVIDERS", "no_such_provider")


@pytest.mark.usefixtures("services_would_fail")
def test_unusable_arguments_are_refused_before_any_service_starts(tmp_path: Path) -> None:
    empty = tmp_path / "empty.md"
    empty.write_text("  \n\n")
    existing_file = tmp_path / "taken"
    existing_file.write_text("x")

    assert exit_message(["demo", str(tmp_path)]) == (
        f"casecraft: {tmp_path} is a folder; pass a notes file (or - for standard input)"
    )
    assert exit_message(["demo", str(empty)]) == (
        f"casecraft: {empty} is empty; write the consultant's notes in it"
    )
    assert exit_message(["demo", str(NOTES), "--components", "hero,charts"]) == (
        "casecraft: --components 'hero,charts': unknown 'charts'; choose from hero,metrics,timeline"
    )
    assert exit_message(["demo", str(NOTES), "--out", str(existing_file)]) == (
        f"casecraft: --out {existing_file} is a file; pass a folder (it is created if missing)"
    )


def test_empty_standard_input_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(""))

    assert exit_message(["generate", "-", "--gateway", NOWHERE]) == (
        "casecraft: standard input is empty; write the consultant's notes in it"
    )


def test_version_and_help_with_each_default(capsys: pytest.CaptureFixture[str]) -> None:
    assert exit_code(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"casecraft {version('casecraft')}"

    assert exit_code(["demo", "--help"]) == 0
    shown = " ".join(capsys.readouterr().out.split())
    assert "(default: out)" in shown and "(default: 600.0)" in shown
    assert "(default: all)" in shown and "(default: None)" not in shown

    assert exit_code(["up", "--help"]) == 0
    assert "(default: 8080)" in " ".join(capsys.readouterr().out.split())


def exit_code(argv: list[str]) -> int | str | None:
    with pytest.raises(SystemExit) as stopped:
        main(argv)
    return stopped.value.code


def test_an_accent_that_is_not_rrggbb_is_named_with_the_fix() -> None:
    message = exit_message(["generate", str(NOTES), "--accent", "teal", "--gateway", NOWHERE])

    assert (
        message == "casecraft: --accent: 'teal' is not a colour; write it as #RRGGBB, e.g. #0A7C66"
    )


def test_a_template_folder_without_the_page_template_is_named(tmp_path: Path) -> None:
    message = exit_message(
        ["generate", str(NOTES), "--template", str(tmp_path), "--gateway", NOWHERE]
    )

    assert message.startswith(f"casecraft: --template: {tmp_path / 'page.html.j2'}: no such file")


def test_a_template_that_does_not_parse_is_named_with_its_line(tmp_path: Path) -> None:
    (tmp_path / "page.html.j2").write_text("<h1>{{ title }}</h1>\n{% if %}\n")

    message = exit_message(
        ["generate", str(NOTES), "--template", str(tmp_path), "--gateway", NOWHERE]
    )

    assert message.startswith("casecraft: --template: ") and "line 2" in message


def test_an_unknown_export_format_is_refused_naming_the_formats(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit):
        main(["generate", str(NOTES), "--formats", "pdf,docx", "--gateway", NOWHERE])

    assert "unknown format docx; use some of pdf,pptx,html,md,card,zip" in capsys.readouterr().err


def test_a_file_that_is_not_notes_is_refused_with_what_to_send(tmp_path: Path) -> None:
    sheet = tmp_path / "numbers.docx"
    with zipfile.ZipFile(sheet, "w") as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")

    message = exit_message(["generate", str(sheet), "--gateway", NOWHERE])

    assert message.startswith(f"casecraft: {sheet}: this is a spreadsheet (.xlsx), not notes")
    assert ".docx, .pdf" in message
