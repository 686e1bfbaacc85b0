"""The web page, Markdown, the social card and the zip; and what every format shares: the same
input gives the same bytes, an edit changes them, and the accent reaches each one."""

from __future__ import annotations

import zipfile
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from pypdf import PdfReader

from casecraft import brand
from casecraft.exports import FORMATS, ExportOptions, UnknownFormat, render_export
from tests.exports.conftest import answer_for, images_for, logo_png, study

ACCENT = "#0A7C66"


def pdf_content(data: bytes) -> bytes:
    contents = PdfReader(BytesIO(data)).pages[0].get_contents()
    assert contents is not None
    return contents.get_data()


def test_the_card_is_1200_by_630_and_names_the_client_unless_anonymous(
    answer: dict[str, Any],
) -> None:
    export = render_export("card", answer)
    assert export.media_type == "image/png"
    card = Image.open(BytesIO(export.data))
    assert card.format == "PNG" and card.size == (1200, 630)
    anonymous = render_export("card", {**answer, "anonymized": True})
    assert Image.open(BytesIO(anonymous.data)).size == (1200, 630)
    assert anonymous.data != export.data


def test_the_zip_holds_the_json_the_pngs_and_every_format(answer: dict[str, Any]) -> None:
    export = render_export("zip", answer)
    assert export.media_type == "application/zip"
    with zipfile.ZipFile(BytesIO(export.data)) as archive:
        names = archive.namelist()
        assert sorted(names) == sorted(
            [
                "case_study.json",
                "hero.png",
                "metrics.png",
                "timeline.png",
                "index.html",
                "case_study.md",
                "case_study.pdf",
                "case_study.pptx",
                "card.png",
            ]
        )
        assert b"data_url" not in archive.read("case_study.json")
        assert b'src="hero.png"' in archive.read("index.html")
        assert archive.read("case_study.pdf").startswith(b"%PDF")


@pytest.mark.parametrize("format", FORMATS)
def test_the_same_input_gives_the_same_bytes_and_an_edit_changes_them(
    format: str, answer: dict[str, Any]
) -> None:
    first = render_export(format, answer)
    assert render_export(format, answer).data == first.data
    edited = study()
    edited.title = "How Harbor Freightways halved empty miles"
    edited.metrics[0].after = "29 min"
    edited.metrics[0].after_value = 29
    assert render_export(format, answer_for(edited, images_for(edited))).data != first.data


def test_the_page_escapes_the_notes_and_shows_timings_only_when_asked(
    answer: dict[str, Any],
) -> None:
    hostile = study()
    hostile.challenge = "<script>alert(1)</script> & more"
    hostile.quote.author = '"><img src=x onerror=alert(1)>'
    page = render_export("html", answer_for(hostile, {})).data.decode()
    assert (
        "<script>alert(1)" not in page
        and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in page
    )
    assert "<img src=x" not in page
    plain = render_export("html", answer).data.decode()
    assert "Where the time went" not in plain
    assert 'src="data:image/png;base64,' in plain  # embedded by default
    timed = render_export("html", answer, options=ExportOptions(timings=True)).data.decode()
    assert "Where the time went" in timed and "POST /v1/case-studies" in timed
    linked = render_export("html", answer, options=ExportOptions(embed_images=False)).data
    assert b'src="hero.png"' in linked and b"base64" not in linked


def test_a_template_folder_replaces_the_page_and_is_still_escaped(
    answer: dict[str, Any], tmp_path: Path
) -> None:
    (tmp_path / "page.html.j2").write_text(
        "<h1>{{ title }}</h1><p>{{ client }}</p><i>{{ colours.accent }}</i>"
        "{% for m in study.metrics %}<b>{{ m.after }}</b>{% endfor %}"
    )
    hostile = study()
    hostile.title = "<b>bold</b>"
    page = render_export(
        "html",
        answer_for(hostile, {}),
        options=ExportOptions(template_dir=tmp_path, accent_color=ACCENT),
    ).data.decode()
    assert page.startswith("<h1>&lt;b&gt;bold&lt;/b&gt;</h1><p>Harbor Freightways</p>")
    assert "<i>#0A7C66</i>" in page and "<b>31 min</b>" in page


def test_markdown_links_the_images_and_keeps_the_notes_from_becoming_markup(
    answer: dict[str, Any],
) -> None:
    text = render_export("md", answer).data.decode()
    assert text.startswith("# How Harbor Freightways cut dispatch time by 67%")
    assert "![Metrics dashboard](metrics.png)" in text and "(hero.png)" in text
    assert "| Average dispatch time | 94 min | 31 min | 67% faster |" in text
    hostile = study()
    hostile.challenge = "Click [here](javascript:alert(1)) <b>now</b>"
    escaped = render_export("md", answer_for(hostile, {})).data.decode()
    assert "\\[here\\](javascript:alert(1)) \\<b\\>now\\</b\\>" in escaped


def test_the_accent_reaches_every_export(answer: dict[str, Any]) -> None:
    options = ExportOptions(accent_color=ACCENT)
    fill = b".039216 .486275 .4 rg"  # #0A7C66 as the PDF's fill colour operator
    assert fill in pdf_content(render_export("pdf", answer, options=options).data)
    assert fill not in pdf_content(render_export("pdf", answer).data)
    deck = render_export("pptx", answer, options=options).data
    with zipfile.ZipFile(BytesIO(deck)) as archive:
        xml = b"".join(archive.read(n) for n in archive.namelist() if n.endswith(".xml"))
    assert b'val="0A7C66"' in xml
    page = render_export("html", answer, options=options).data
    assert b"--accent:#0A7C66" in page
    card = Image.open(BytesIO(render_export("card", answer, options=options).data)).convert("RGB")
    assert card.getpixel((1199, 629)) == brand.palette(brand.parse_hex(ACCENT)).accent_deep


def test_without_an_accent_the_logo_colour_is_used(answer: dict[str, Any]) -> None:
    page = render_export("html", answer, options=ExportOptions(logo=logo_png((200, 30, 60))))
    assert b"--accent:#C81E3C" in page.data
    assert b"--accent:#2546D6" in render_export("html", answer).data


def test_an_unknown_format_names_the_valid_ones(answer: dict[str, Any]) -> None:
    with pytest.raises(UnknownFormat, match="pdf, pptx, html, md, card, zip"):
        render_export("docx", answer)
    with pytest.raises(brand.InvalidAccent, match="#RRGGBB"):
        render_export("pdf", answer, options=ExportOptions(accent_color="teal"))


@pytest.mark.parametrize("format", FORMATS)
def test_an_empty_case_study_and_unreadable_images_still_export(format: str) -> None:
    webp = BytesIO()
    Image.new("RGB", (160, 90), (9, 9, 200)).save(webp, format="WEBP")
    images = {"hero": b"not an image", "metrics": webp.getvalue()}
    export = render_export(
        format, study_from({}), images, options=ExportOptions(logo=b"not a logo")
    )
    assert export.data and export.filename.startswith("case-study")
    if format == "zip":
        with zipfile.ZipFile(BytesIO(export.data)) as archive:
            assert "metrics.png" in archive.namelist() and "hero.png" not in archive.namelist()


def study_from(fields: dict[str, Any]) -> dict[str, Any]:
    return {"case_study": fields}


def test_the_file_name_is_the_title_cut_at_a_whole_word() -> None:
    long = study()
    long.title = "How Northwind Logistics cut average dispatch planning time by 67%"
    export = render_export("md", answer_for(long, {}))
    assert export.filename == "how-northwind-logistics-cut-average-dispatch-planning-time.md"
    long.title = "Ü" + "x" * 80
    assert render_export("md", answer_for(long, {})).filename == "x" * 60 + ".md"
