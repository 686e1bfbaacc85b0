"""POST /v1/case-studies as multipart/form-data: notes from files, through the real services."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from casecraft.documents import MAX_FILE_BYTES
from tests.conftest import stack
from tests.support.documents import pdf_file, png, word_file, zip_with

Files = list[tuple[str, tuple[str, bytes, str]]]


async def post_form(files: Files, data: dict[str, Any] | None = None) -> httpx.Response:
    async with stack() as client:
        return await client.post("/v1/case-studies", files=files, data=data or {})


def notes_file(name: str, content: bytes) -> tuple[str, tuple[str, bytes, str]]:
    return ("notes_file", (name, content, "application/octet-stream"))


async def test_a_word_file_becomes_a_case_study() -> None:
    response = await post_form(
        [notes_file("interview.docx", word_file())],
        {"components": "metrics", "fast": "true"},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["case_study"]["client_name"] == "Harbor Freightways"
    assert [m["after"] for m in body["case_study"]["metrics"]][:2] == ["31 min", "7%"]
    assert [image["component"] for image in body["images"]] == ["metrics"]


async def test_several_files_are_read_as_one_set_of_notes_with_a_logo() -> None:
    email = (
        b"From: Dana Ruiz <dana@harbor.example>\nSubject: results\n\n"
        b"Late deliveries went from 18% to 7%.\n"
    )
    response = await post_form(
        [
            notes_file("dashboard.pdf", pdf_file()),
            notes_file("thread.eml", email),
            ("logo", ("logo.png", png(), "image/png")),
        ],
        {"options": '{"fast": true}'},
    )
    assert response.status_code == 200, response.text
    metrics = response.json()["case_study"]["metrics"]
    assert ("94 min", "31 min") in [(m["before"], m["after"]) for m in metrics]
    assert ("18%", "7%") in [(m["before"], m["after"]) for m in metrics]


@pytest.mark.parametrize(
    ("files", "data", "status", "words"),
    [
        ([notes_file("scan.pdf", pdf_file(text=False))], {}, 422, ["no text layer"]),
        ([notes_file("sheet.docx", zip_with("xl/book.xml", b"<x/>"))], {}, 415, ["spreadsheet"]),
        ([notes_file("photo.txt", png())], {}, 415, ["image/png"]),
        ([notes_file(f"n{i}.md", b"notes") for i in range(11)], {}, 422, ["limit of 10"]),
        ([notes_file(f"n{i}.md", b"notes") for i in range(13)], {}, 400, ["at most ten"]),
        ([notes_file("a.md", b"# notes")], {"notes": "typed"}, 422, ["not both"]),
        ([notes_file("a.md", b"# notes")], {"colour": "red"}, 422, ["colour", "unknown field"]),
        ([notes_file("a.md", b"# notes")], {"components": "poster"}, 422, ["components"]),
        ([notes_file("a.md", b"x " * 150_000)], {}, 413, ["notes", "200,000"]),
        ([notes_file("big.md", b"x" * (MAX_FILE_BYTES + 1))], {}, 413, ["limit"]),
        ([("logo", ("logo.gif", b"GIF89a....", "image/gif"))], {"notes": "n"}, 422, ["logo"]),
    ],
)
async def test_bad_uploads_get_a_problem_that_names_the_field_and_the_fix(
    files: Files, data: dict[str, Any], status: int, words: list[str]
) -> None:
    response = await post_form(files, data)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    detail = response.json()["detail"]
    for word in words:
        assert word in detail
