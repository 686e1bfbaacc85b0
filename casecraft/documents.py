"""Notes from files: Markdown, text, Word, PDF, HTML and e-mail, read into plain text.

The kind of a file is decided by its content (magic bytes, then the shape of the text), not by its
name alone, so a PDF called ``notes.txt`` is read as a PDF and a spreadsheet called ``notes.docx`` is
refused as a spreadsheet. Everything that cannot be read as notes raises ``DocumentError`` with the
kind found and what to send instead.

``read_document(data, name)`` reads one file; ``await read_documents(files)`` reads several at once,
each in a worker thread, and joins them in order under their names, so a structurer sees one set
of notes.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import io
import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage

import docx
import filetype
import html2text
import pdfplumber
from bs4 import BeautifulSoup
from docx.table import Table
from pdfminer.pdfdocument import PDFEncryptionError, PDFPasswordIncorrect

MAX_FILES = 10
MAX_FILE_BYTES = 10_000_000
# What the parts of a Word file (a zip archive) may expand to, in all and relative to their size:
# a real document stays far below both; a decompression bomb does not.
MAX_EXPANDED_BYTES = 100_000_000
MAX_EXPANSION_RATIO = 200
MAX_PDF_PAGES = 300

_EMAIL_HEADER = re.compile(r"^(from|to|cc|subject|date|received|message-id|mime-version):", re.I)
_HTML_START = re.compile(r"^\s*(<!--.*?-->\s*)*<(!doctype\s+html|html|head|body)\b", re.I | re.S)
_BLANK_RUNS = re.compile(r"\n{3,}")
_OFFICE_PARTS = {
    "word/": "a Word document",
    "xl/": "a spreadsheet (.xlsx)",
    "ppt/": "a PowerPoint deck (.pptx)",
}
_ENCRYPTED = (PDFEncryptionError, PDFPasswordIncorrect)
_WHAT_TO_SEND = (
    "send the notes as .md, .txt, .docx, .pdf (with a text layer), .html or .eml, "
    "or paste them as text"
)


class DocumentError(ValueError):
    """A file that cannot be read as notes. ``kind`` is what it was found to be; ``status`` the
    HTTP status that fits (415: a kind we do not read; 422: a kind we read, but not this file)."""

    def __init__(self, name: str, kind: str, message: str, *, status: int = 415) -> None:
        super().__init__(f"{name}: {message}")
        self.name = name
        self.kind = kind
        self.status = status


@dataclass(frozen=True)
class Document:
    name: str
    kind: str  # text, docx, pdf, html, eml
    text: str


def read_document(data: bytes, name: str = "notes") -> Document:
    """The text of one file, read according to what its content is."""
    if len(data) > MAX_FILE_BYTES:
        raise DocumentError(
            name,
            "file",
            f"{len(data):,} bytes is over the limit of {MAX_FILE_BYTES:,} bytes per file; "
            "send the notes without embedded media",
            status=413,
        )
    kind = detect(data, name)
    reader = _READERS[kind]
    text = _tidy(reader(data, name))
    if not text.strip():
        raise DocumentError(
            name, kind, f"the {_LABELS[kind]} holds no text; {_WHAT_TO_SEND}", status=422
        )
    return Document(name, kind, text)


async def read_documents(files: Sequence[tuple[str, bytes]]) -> str:
    """Several files about one engagement, read concurrently and joined in order under their
    names. One file is returned as it is."""
    if not files:
        raise DocumentError("notes_file", "none", "no file was sent; " + _WHAT_TO_SEND, status=422)
    if len(files) > MAX_FILES:
        raise DocumentError(
            "notes_file",
            "files",
            f"{len(files)} files is over the limit of {MAX_FILES}; join the notes of one "
            "engagement into fewer files",
            status=422,
        )
    documents = await asyncio.gather(
        *(asyncio.to_thread(read_document, data, name) for name, data in files)
    )
    if len(documents) == 1:
        return documents[0].text
    return "\n\n".join(f"## {doc.name}\n\n{doc.text}" for doc in documents)


def detect(data: bytes, name: str) -> str:
    """What ``data`` is, by its content: one of the kinds ``read_document`` reads; anything else
    raises ``DocumentError`` naming what it is."""
    if data.startswith(b"%PDF-"):
        return "pdf"
    if data.startswith(b"PK\x03\x04"):
        return _office_kind(data, name)
    if data.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        raise DocumentError(
            name,
            "legacy Office file",
            "this is a legacy Office file (.doc, .xls or .ppt) or a password-protected one; "
            "save it as .docx without a password",
        )
    guessed = filetype.guess(data)
    if guessed is not None:
        raise DocumentError(
            name,
            guessed.mime,
            f"this is {guessed.mime} (.{guessed.extension}), not notes; " + _WHAT_TO_SEND,
        )
    text = _decode(data, name)
    head = text[:2_000]
    if _HTML_START.match(head) or (name.lower().endswith((".html", ".htm")) and "<" in head):
        return "html"
    if _looks_like_email(head):
        return "eml"
    return "text"


def _office_kind(data: bytes, name: str) -> str:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        entries = archive.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise DocumentError(
            name, "zip", "the archive is damaged; save the file again", status=422
        ) from exc
    names = [entry.filename for entry in entries]
    found = next(
        (
            label
            for prefix, label in _OFFICE_PARTS.items()
            if any(n.startswith(prefix) for n in names)
        ),
        None,
    )
    if found != "a Word document":
        kind = found or "a zip archive"
        raise DocumentError(name, kind, f"this is {kind}, not notes; {_WHAT_TO_SEND}")
    expanded = sum(entry.file_size for entry in entries)
    packed = max(1, sum(entry.compress_size for entry in entries))
    if expanded > MAX_EXPANDED_BYTES or expanded / packed > MAX_EXPANSION_RATIO:
        raise DocumentError(
            name,
            "docx",
            f"the document expands to {expanded:,} bytes from {packed:,}, which is refused as a "
            "decompression bomb; send the notes as plain text",
            status=422,
        )
    return "docx"


def _decode(data: bytes, name: str) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        where = f"byte {data[exc.start]:#04x} at offset {exc.start}"
        if b"\x00" in data[:4096]:
            raise DocumentError(
                name, "binary data", f"this is binary data, not notes; {_WHAT_TO_SEND}"
            ) from exc
        raise DocumentError(
            name, "text", f"not UTF-8 text ({where}); save the notes as UTF-8"
        ) from exc
    if "\x00" in text:
        raise DocumentError(name, "binary data", f"this is binary data, not notes; {_WHAT_TO_SEND}")
    return text


def _looks_like_email(head: str) -> bool:
    """RFC 5322 headers first: at least two known header lines before the first blank line."""
    header, _, _ = head.partition("\n\n")
    lines = header.splitlines()
    known = sum(1 for line in lines if _EMAIL_HEADER.match(line))
    return known >= 2 and bool(lines) and _EMAIL_HEADER.match(lines[0]) is not None


def _tidy(text: str) -> str:
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    return _BLANK_RUNS.sub("\n\n", "\n".join(lines)).strip()


def _read_text(data: bytes, name: str) -> str:
    return _decode(data, name)


def _read_html(data: bytes, name: str) -> str:
    return html_text(_decode(data, name))


def html_text(html: str) -> str:
    """The visible text of an HTML page as Markdown: scripts, styles and templates dropped,
    headings, lists and table rows kept."""
    soup = BeautifulSoup(html, "html.parser")
    for hidden in soup(["script", "style", "noscript", "template", "head", "iframe", "svg"]):
        hidden.decompose()
    converter = html2text.HTML2Text()
    converter.body_width = 0  # no hard wrapping: a sentence stays on one line
    converter.ignore_images = True
    converter.ignore_links = True
    converter.ignore_emphasis = True
    return converter.handle(str(soup))


def _read_email(data: bytes, name: str) -> str:
    message = email.message_from_bytes(data, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    headers = [
        f"{field}: {message[field]}"
        for field in ("From", "To", "Cc", "Date", "Subject")
        if message[field]
    ]
    body = message.get_body(preferencelist=("plain", "html"))
    text = ""
    if body is not None:
        content = body.get_content()
        text = html_text(content) if body.get_content_subtype() == "html" else content
    return "\n".join(headers) + "\n\n" + text


def _read_docx(data: bytes, name: str) -> str:
    """Paragraphs, lists and tables in reading order; headings as Markdown headings."""
    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as exc:  # python-docx raises several kinds for a file it cannot open
        raise DocumentError(
            name, "docx", "the Word document is damaged or incomplete; save it again", status=422
        ) from exc
    lines: list[str] = []
    for block in document.iter_inner_content():
        if isinstance(block, Table):
            rows = [[cell.text for cell in row.cells] for row in block.rows]
            lines += ["", markdown_table(rows), ""]
            continue
        text = block.text.strip()
        style = (block.style.name if block.style is not None else "") or ""
        if not text:
            lines.append("")
        elif style.startswith("Heading") and style[-1:].isdigit():
            lines += ["", "#" * int(style[-1]) + " " + text, ""]
        elif style.startswith("List") or _numbered(block):
            lines.append("- " + text)
        else:
            lines.append(text)
    return "\n".join(lines)


def _numbered(paragraph: object) -> bool:
    """A paragraph in a Word list that is not styled as one (numbering set directly)."""
    properties = getattr(getattr(paragraph, "_p", None), "pPr", None)
    return properties is not None and properties.numPr is not None


def _read_pdf(data: bytes, name: str) -> str:
    """Text in reading order, page by page; tables kept as rows of cells."""
    try:
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            if len(pdf.pages) > MAX_PDF_PAGES:
                raise DocumentError(
                    name,
                    "pdf",
                    f"{len(pdf.pages)} pages is over the limit of {MAX_PDF_PAGES}; "
                    "send the pages about the engagement",
                    status=422,
                )
            pages = [_pdf_page_text(page) for page in pdf.pages]
    except DocumentError:
        raise
    except Exception as exc:  # pdfminer raises many kinds for a damaged file, most wrapped
        cause = exc.args[0] if exc.args else None
        if isinstance(exc, _ENCRYPTED) or isinstance(cause, _ENCRYPTED):
            raise DocumentError(
                name,
                "encrypted pdf",
                "the PDF is encrypted; send a copy without a password",
                status=422,
            ) from exc
        raise DocumentError(
            name, "pdf", "the PDF is damaged and cannot be read; export it again", status=422
        ) from exc
    text = "\n\n".join(pages)
    if not text.strip():
        raise DocumentError(
            name,
            "scanned pdf",
            "the PDF has no text layer (a scan or images of text); run it through OCR or "
            "send the notes as text",
            status=422,
        )
    return text


def markdown_table(rows: Sequence[Sequence[str]]) -> str:
    """Rows of cells as a Markdown table, the first row its header."""
    cells = [[" ".join(cell.split()).replace("|", "/") for cell in row] for row in rows if row]
    if not cells:
        return ""
    width = max(len(row) for row in cells)
    lines = ["| " + " | ".join(row + [""] * (width - len(row))) + " |" for row in cells]
    lines.insert(1, "|" + " --- |" * width)
    return "\n".join(lines)


def _pdf_page_text(page: object) -> str:
    tables = page.find_tables()  # type: ignore[attr-defined]
    boxes = [table.bbox for table in tables]

    def outside_tables(obj: dict[str, float]) -> bool:
        return not any(
            x0 <= obj.get("x0", -1)
            and obj.get("x1", -1) <= x1
            and top <= obj.get("top", -1)
            and obj.get("bottom", -1) <= bottom
            for x0, top, x1, bottom in boxes
        )

    blocks: list[tuple[float, str]] = [
        (line["top"], line["text"])
        for line in page.filter(outside_tables).extract_text_lines()  # type: ignore[attr-defined]
    ]
    for table in tables:
        rows = [[cell or "" for cell in row] for row in table.extract()]
        blocks.append((table.bbox[1], "\n" + markdown_table(rows) + "\n"))
    return "\n".join(text for _, text in sorted(blocks, key=lambda block: block[0]))


_READERS = {
    "text": _read_text,
    "html": _read_html,
    "eml": _read_email,
    "docx": _read_docx,
    "pdf": _read_pdf,
}
_LABELS = {
    "text": "text file",
    "html": "HTML page",
    "eml": "e-mail",
    "docx": "Word document",
    "pdf": "PDF",
}
