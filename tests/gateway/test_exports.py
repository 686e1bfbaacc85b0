"""An export as an HTTP response: the options from the query, the 404, the download headers,
and what a page template that fails becomes."""

from __future__ import annotations

from io import BytesIO
from typing import Any

import pytest
from pypdf import PdfReader
from starlette.datastructures import QueryParams

from gateway.exports import download, export_options, render
from gateway.problems import Problem
from gateway.settings import GatewaySettings
from tests.exports.conftest import answer_for, images_for, study


@pytest.fixture(scope="module")
def answer() -> dict[str, Any]:
    return answer_for(study(), {})


def test_the_query_picks_the_paper_and_the_waterfall_and_the_job_the_brand() -> None:
    settings = GatewaySettings(export_page_size="Letter")
    options = export_options(settings, QueryParams(""), accent_color="#0A7C66", logo=b"png")
    assert (options.page_size, options.timings, options.accent_color) == (
        "Letter",
        False,
        "#0A7C66",
    )
    assert options.logo == b"png"
    options = export_options(settings, QueryParams("page=a4&timings=true"))
    assert (options.page_size, options.timings, options.accent_color) == ("A4", True, None)


@pytest.mark.parametrize(("query", "field"), [("page=A5", "page"), ("timings=maybe", "timings")])
def test_a_bad_query_is_422_naming_the_parameter(query: str, field: str) -> None:
    with pytest.raises(Problem) as problem:
        export_options(GatewaySettings(), QueryParams(query))
    assert problem.value.status == 422 and problem.value.detail.startswith(f"{field}: ")


async def test_an_unknown_format_is_404_naming_the_formats(answer: dict[str, Any]) -> None:
    options = export_options(GatewaySettings(), QueryParams(""))
    with pytest.raises(Problem) as problem:
        await render("docx", answer, {}, options)
    assert problem.value.status == 404
    assert "pdf, pptx, html, md, card, zip" in problem.value.detail


async def test_the_pdf_is_a_download_named_for_the_case_study() -> None:
    cs = study()
    options = export_options(GatewaySettings(), QueryParams(""))
    response = download(await render("pdf", answer_for(cs, {}), images_for(cs), options), "pdf")
    assert response.media_type == "application/pdf"
    assert response.headers["content-disposition"] == (
        'attachment; filename="how-harbor-freightways-cut-dispatch-time-by-67.pdf"'
    )
    assert len(PdfReader(BytesIO(bytes(response.body))).pages) == 1


async def test_a_template_that_fails_on_the_data_is_409_naming_where(
    tmp_path: Any, answer: Any
) -> None:
    (tmp_path / "page.html.j2").write_text("<h1>{{ title }}</h1>\n{{ 1 // study.quote.missing }}\n")
    options = export_options(GatewaySettings(template_dir=tmp_path), QueryParams(""))
    with pytest.raises(Problem) as problem:
        await render("html", answer, {}, options)
    assert problem.value.status == 409
    assert problem.value.extra["template"] == str(tmp_path / "page.html.j2")
    assert problem.value.extra["line"] == 2
    assert problem.value.extra["expression"] == "{{ 1 // study.quote.missing }}"


async def test_a_template_folder_that_does_not_load_names_the_setting(
    tmp_path: Any, answer: Any
) -> None:
    # The gateway refuses to start with it (tests/gateway/test_job_exports.py); called
    # directly, it is the operator's configuration, not the caller's input.
    options = export_options(GatewaySettings(template_dir=tmp_path), QueryParams(""))
    with pytest.raises(Problem) as problem:
        await render("html", answer, {}, options)
    assert problem.value.status == 500
    assert problem.value.detail.startswith("CASECRAFT_TEMPLATE_DIR: ")
