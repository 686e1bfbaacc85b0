"""Uploads built to hurt: deep nesting, decompression bombs, images that lie about their size, and
files that lie about their type, through the gateway's multipart route and the real services.
Each is refused with a 4xx problem that names the field, never a 5xx or a long wait."""

from __future__ import annotations

import io
import zipfile
from typing import Any

import pytest

from casecraft.documents import MAX_HTML_DEPTH, html_depth
from tests.conftest import stack
from tests.fakes.openrouter_images import bomb_png
from tests.gateway.test_uploads import Files, notes_file, post_form
from tests.support.documents import png, word_file, zip_with

NOTES = b"# Acme Freight\nDispatch time went from 94 min to 31 min."


def nested_html(depth: int) -> bytes:
    return b"<html><body>" + b"<div>" * depth + NOTES + b"</div>" * depth + b"</body></html>"


def nested_docx(depth: int) -> bytes:
    """A real Word file whose body nests ``depth`` content controls around one paragraph."""
    source = zipfile.ZipFile(io.BytesIO(word_file()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "word/document.xml":
                paragraph = b"<w:p><w:r><w:t>deep</w:t></w:r></w:p>"
                nested = b"<w:sdt><w:sdtContent>" * depth + paragraph
                nested += b"</w:sdtContent></w:sdt>" * depth
                data = data.replace(b"<w:body>", b"<w:body>" + nested, 1)
            archive.writestr(item, data)
    return out.getvalue()


@pytest.mark.parametrize(
    ("files", "data", "status", "field", "words"),
    [
        (
            [notes_file("page.html", nested_html(100_000))],
            {},
            422,
            "notes_file",
            ["100,002 levels deep", f"limit of {MAX_HTML_DEPTH}"],
        ),
        ([notes_file("report.docx", nested_docx(50_000))], {}, 422, "notes_file", ["damaged"]),
        (
            [notes_file("bomb.docx", zip_with("word/document.xml", b"\0" * 5_000_000))],
            {},
            422,
            "notes_file",
            ["decompression bomb"],
        ),
        (
            [("logo", ("logo.png", bomb_png(50_000, 50_000), "image/png"))],
            {"notes": NOTES.decode()},
            422,
            "logo",
            ["pixels"],
        ),
        (
            [("logo", ("logo.png", b"<html><body>not a logo</body></html>", "image/png"))],
            {"notes": NOTES.decode()},
            422,
            "logo",
            ["logo"],
        ),
        ([notes_file("notes.md", png())], {}, 415, "notes_file", ["image/png"]),
        ([notes_file("scan.pdf", word_file())], {}, 200, "", []),  # read as what it is
        (
            [notes_file("notes.md", NOTES)],
            {"options": "[" * 10_000 + "]" * 10_000},
            422,
            "options",
            ["nests too deeply"],
        ),
        (
            [notes_file("notes.md", NOTES)],
            {"options": '{"fast":' * 10_000 + "true" + "}" * 10_000},
            422,
            "options",
            ["nests too deeply"],
        ),
        (
            [notes_file("notes.md", NOTES)],
            {"components": "[" * 10_000 + "]" * 10_000},
            422,
            "components",
            ["flat JSON list"],
        ),
    ],
    ids=[
        "html-nested-100000",
        "docx-xml-nested-50000",
        "docx-zip-bomb",
        "png-logo-50000x50000",
        "logo-that-is-html",
        "png-named-md",
        "docx-named-pdf",
        "options-list-nested-10000",
        "options-object-nested-10000",
        "components-nested-10000",
    ],
)
async def test_hostile_uploads_get_a_clear_answer(
    files: Files, data: dict[str, Any], status: int, field: str, words: list[str]
) -> None:
    response = await post_form(files, data)
    assert response.status_code == status, response.text
    if status == 200:
        assert response.json()["status"] == "done"
        return
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert field in {error["field"] for error in problem.get("errors") or []} | {
        problem["detail"].partition(":")[0]
    }, problem
    for word in words:
        assert word in problem["detail"], problem["detail"]


async def test_a_json_body_nested_10000_deep_is_a_400() -> None:
    async with stack() as client:
        for body in (b"[" * 10_000 + b"]" * 10_000, b'{"notes":' * 10_000 + b"1" + b"}" * 10_000):
            response = await client.post(
                "/v1/case-studies", content=body, headers={"content-type": "application/json"}
            )
            assert response.status_code == 400, response.text
            assert "nest" in response.json()["detail"]


def test_html_depth_counts_elements_that_hold_others() -> None:
    assert html_depth(b"<html><body><p>a<p>b<br><img src=x /></body></html>") == 2
    assert html_depth(b"<div><div><div></div></div><div></div></div>") == 3
    assert html_depth(nested_html(300)) == 302


async def test_a_page_at_the_depth_limit_is_read() -> None:
    response = await post_form([notes_file("page.html", nested_html(MAX_HTML_DEPTH - 2))])
    assert response.status_code == 200, response.text
