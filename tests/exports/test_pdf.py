"""The one-page PDF: real text holding the numbers, embedded fonts, and never a second page."""

from __future__ import annotations

from io import BytesIO
from typing import Any

import pytest
from pypdf import PdfReader

from casecraft.exports import ExportOptions, render_export
from casecraft.v1 import case_study_pb2
from tests.exports.conftest import answer_for, logo_png, study


def text_of(data: bytes) -> tuple[PdfReader, str]:
    reader = PdfReader(BytesIO(data))
    return reader, " ".join(reader.pages[0].extract_text().split())


def test_the_pdf_is_one_page_holding_the_title_client_and_every_metric_value(
    answer: dict[str, Any],
) -> None:
    export = render_export("pdf", answer)
    assert export.media_type == "application/pdf" and export.filename.endswith(".pdf")
    reader, text = text_of(export.data)
    assert len(reader.pages) == 1
    cs = answer["case_study"]
    assert cs["title"] in text
    assert cs["client_name"].upper() in text  # the eyebrow sets it in capitals
    for metric in cs["metrics"]:
        assert metric["before"] in text and metric["after"] in text, metric
    for section in ("challenge", "solution", "results"):
        assert cs[section] in text
    assert "Nobody misses a window anymore." in text and "Dana Ruiz" in text
    for phase in cs["phases"]:
        assert phase["name"] in text


def test_fonts_are_embedded_and_the_paper_is_a4_unless_letter_is_asked(
    answer: dict[str, Any],
) -> None:
    a4 = PdfReader(BytesIO(render_export("pdf", answer).data))
    fonts = a4.pages[0]["/Resources"]["/Font"]
    assert fonts
    for ref in fonts.values():
        descriptor = ref.get_object()["/FontDescriptor"]
        assert "/FontFile2" in descriptor  # the TrueType program is in the file
    assert [round(float(v)) for v in a4.pages[0].mediabox[2:]] == [595, 842]
    letter = render_export("pdf", answer, options=ExportOptions(page_size="Letter"))
    page = PdfReader(BytesIO(letter.data)).pages[0]
    assert [round(float(v)) for v in page.mediabox[2:]] == [612, 792]


@pytest.mark.parametrize("page_size", ["A4", "Letter"])
def test_very_long_text_still_fits_one_page_cut_with_an_ellipsis(page_size: str) -> None:
    cs = study()
    prose = "The dispatch floor ran on whiteboards and phone calls. " * 400
    cs.title = "How a very long headline " + "keeps going " * 60
    cs.subtitle = "A subtitle " * 80
    cs.challenge = cs.solution = cs.results = prose
    cs.quote.text = "We said a great deal. " * 200
    for index in range(8):
        cs.metrics.add(
            label=f"Extra metric {index} " * 6,
            before=f"{index + 10} h",
            after=f"{index + 1} h",
            before_value=index + 10,
            after_value=index + 1,
        )
    for index in range(12):
        cs.phases.add(name=f"Phase {index} " * 5, period="Weeks 1-2", description=prose[:600])
    export = render_export(
        "pdf", answer_for(cs, {}), options=ExportOptions(page_size=page_size, logo=logo_png())
    )
    reader, text = text_of(export.data)
    assert len(reader.pages) == 1
    assert "…" in text
    assert "Harbor Freightways".upper() in text


def test_a_case_study_message_renders_like_its_json(case_study: case_study_pb2.CaseStudy) -> None:
    from_message = render_export("pdf", case_study)
    from_json = render_export("pdf", answer_for(case_study, {}))
    assert from_message.data == from_json.data


def test_an_anonymous_case_study_keeps_the_client_off_the_page(answer: dict[str, Any]) -> None:
    _, text = text_of(render_export("pdf", {**answer, "anonymized": True}).data)
    assert "HARBOR FREIGHTWAYS" not in text and "CASE STUDY · LOGISTICS" in text
