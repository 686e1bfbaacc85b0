"""Notes from files: each kind read from a file the test builds, each refused kind named."""

from __future__ import annotations

from email.message import EmailMessage

import pytest

from casecraft.documents import DocumentError, detect, read_document, read_documents
from structurer_service.providers import Structured
from structurer_service.providers.local import LocalStructurer
from tests.support.documents import pdf_file, png, word_file, zip_with


def test_word_paragraphs_lists_and_tables_come_in_reading_order() -> None:
    text = read_document(word_file(), "interview.docx").text
    assert text.index("# Harbor Freightways") < text.index("- Interviewed every dispatcher")
    assert "| Planning time | 94 min | 31 min |" in text
    assert text.index("Planning time") < text.index("Rollout finished")


def test_pdf_text_and_tables_keep_their_rows_and_order() -> None:
    document = read_document(pdf_file(), "dashboard.pdf")
    assert document.kind == "pdf"
    lines = document.text.splitlines()
    assert "| Planning time | 94 min | 31 min |" in lines
    assert document.text.index("Client: Harbor") < document.text.index("Planning time")
    assert document.text.index("Planning time") < document.text.index("Rollout finished")


def test_html_drops_scripts_and_styles_and_keeps_rows() -> None:
    page = b"""<!DOCTYPE html><html><head><title>x</title><style>p{color:red}</style></head>
    <body><h1>Harbor Freightways</h1><script>alert('no')</script>
    <p>Planning went from <b>94 min</b> to 31 min.</p>
    <ul><li>Interviewed dispatchers</li></ul>
    <table><tr><th>Metric</th><th>Before</th></tr><tr><td>Planning</td><td>94 min</td></tr></table>
    </body></html>"""
    document = read_document(page, "export.html")
    assert document.kind == "html"
    assert "alert" not in document.text and "color:red" not in document.text
    assert "* Interviewed dispatchers" in document.text
    assert "Planning| 94 min" in document.text
    assert "from 94 min to 31 min" in document.text, "inline markup stays in its sentence"


def test_an_email_keeps_its_headers_and_quoted_replies() -> None:
    message = EmailMessage()
    message["From"] = "Dana Ruiz <dana@harbor.example>"
    message["To"] = "consultant@example.com"
    message["Subject"] = "Fwd: dispatch results"
    message.set_content("Planning went from 94 min to 31 min.\n\n> Can you send the numbers?\n")
    document = read_document(bytes(message), "thread.eml")
    assert document.kind == "eml"
    assert "Subject: Fwd: dispatch results" in document.text
    assert "> Can you send the numbers?" in document.text


def test_the_kind_is_read_from_the_content_not_the_name() -> None:
    assert detect(pdf_file(), "notes.txt") == "pdf"
    assert detect(word_file(), "notes.md") == "docx"
    assert detect(b"# Notes\n\nPlain text.", "notes.pdf") == "text"


@pytest.mark.parametrize(
    ("data", "status", "words"),
    [
        (pdf_file(text=False), 422, ["no text layer", "OCR"]),
        (pdf_file(password="secret"), 422, ["encrypted", "without a password"]),
        (zip_with("xl/workbook.xml", b"<workbook/>"), 415, ["spreadsheet", ".docx"]),
        (zip_with("word/document.xml", b"\0" * 5_000_000), 422, ["decompression bomb"]),
        (zip_with("readme.txt", b"hello"), 415, ["zip archive"]),
        (png(), 415, ["image/png", "notes"]),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, 415, ["legacy Office", ".docx"]),
        (b"\x00\x01\x02\xff\xfe binary", 415, ["binary data"]),
        ("Client: Acmé".encode("latin-1"), 415, ["not UTF-8 text (byte 0xe9 at offset 11)"]),
        (b"   \n\n  ", 422, ["holds no text"]),
        (b"%PDF-1.7\nnot really a pdf", 422, ["damaged"]),
    ],
)
def test_what_cannot_be_read_is_named_with_what_to_send(
    data: bytes, status: int, words: list[str]
) -> None:
    with pytest.raises(DocumentError) as raised:
        read_document(data, "upload")
    assert raised.value.status == status
    for word in words:
        assert word in str(raised.value)
    assert str(raised.value).startswith("upload: ")


async def test_several_files_are_joined_in_order_under_their_names() -> None:
    joined = await read_documents(
        [("interview.docx", word_file()), ("dashboard.pdf", pdf_file()), ("a.md", b"# Later")]
    )
    assert joined.index("## interview.docx") < joined.index("## dashboard.pdf")
    assert joined.index("## dashboard.pdf") < joined.index("## a.md")
    assert "| Planning time | 94 min | 31 min |" in joined


async def test_a_word_file_is_structured_like_typed_notes() -> None:
    notes = read_document(word_file(), "interview.docx").text
    items = [item async for item in LocalStructurer().structure(notes, fast=False)]
    final = items[-1]
    assert isinstance(final, Structured)
    assert final.case_study.client_name == "Harbor Freightways"
    assert [(m.before, m.after) for m in final.case_study.metrics][:2] == [
        ("94 min", "31 min"),
        ("18%", "7%"),
    ]
