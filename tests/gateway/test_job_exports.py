"""GET /v1/case-studies/{id}/export/{format} through the real gateway: every format from a
finished job with its brand, 409 while the job is being made, 404s, an edit changing the next
export, what a failed job can still export, and a template that fails on the data."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
import zipfile
from io import BytesIO
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image
from pptx import Presentation
from pypdf import PdfReader

from casecraft import brand
from casecraft.errors import ConfigurationError
from gateway.app import create_app
from gateway.settings import GatewaySettings
from tests.exports.conftest import logo_png, study
from tests.support.jobs import served_stack, wait_done
from tests.support.providers import (
    FailsAfterTheHeadline,
    FailsAtOnce,
    RecordingImages,
    ScriptedStructurer,
)

ACCENT = "#0A7C66"
ASYNC = {"Prefer": "respond-async"}
MERGE = {"content-type": "application/merge-patch+json"}
SLUG = "how-harbor-freightways-cut-dispatch-time-by-67"


async def finished(client: httpx.AsyncClient, **options: Any) -> str:
    """The id of a case study made synchronously (so it is done)."""
    body: dict[str, Any] = {"notes": "n"}
    if "logo" in options:
        body["logo"] = "data:image/png;base64," + base64.b64encode(options.pop("logo")).decode()
    if options:
        body["options"] = options
    response = await client.post("/v1/case-studies", json=body)
    assert response.status_code == 200, response.text
    job_id: str = response.json()["id"]
    return job_id


def export_url(job_id: str, format: str) -> str:
    return f"/v1/case-studies/{job_id}/export/{format}"


def pdf_text(data: bytes) -> tuple[int, str]:
    reader = PdfReader(BytesIO(data))
    return len(reader.pages), " ".join(reader.pages[0].extract_text().split())


async def test_every_format_of_a_finished_job_with_its_accent() -> None:
    cs = study()
    async with served_stack(ScriptedStructurer(cs), RecordingImages()) as client:
        job_id = await finished(client, accent_color=ACCENT)
        got = {f: await client.get(export_url(job_id, f)) for f in ("pdf", "pptx", "html")}
        got |= {f: await client.get(export_url(job_id, f)) for f in ("md", "card", "zip")}
        links = (await client.get(f"/v1/case-studies/{job_id}")).json()["links"]
        spec = (await client.get("/openapi.json")).json()
    assert links["export"] == f"/v1/case-studies/{job_id}/export/{{format}}"
    route = spec["paths"]["/v1/case-studies/{id}/export/{format}"]["get"]
    assert {"200", "404", "409", "422"} <= set(route["responses"])
    declared = set(route["responses"]["200"]["content"])
    assert {r.headers["content-type"].partition(";")[0] for r in got.values()} == declared
    assert {f: r.status_code for f, r in got.items()} == dict.fromkeys(got, 200)
    assert {f: r.headers["content-type"] for f, r in got.items()} == {
        "pdf": "application/pdf",
        "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "html": "text/html; charset=utf-8",
        "md": "text/markdown; charset=utf-8",
        "card": "image/png",
        "zip": "application/zip",
    }
    assert {f: r.headers["content-disposition"] for f, r in got.items()} == {
        "pdf": f'attachment; filename="{SLUG}.pdf"',
        "pptx": f'attachment; filename="{SLUG}.pptx"',
        "html": f'inline; filename="{SLUG}.html"',
        "md": f'attachment; filename="{SLUG}.md"',
        "card": f'inline; filename="{SLUG}-card.png"',
        "zip": f'attachment; filename="{SLUG}.zip"',
    }

    pages, text = pdf_text(got["pdf"].content)
    assert pages == 1
    assert cs.title in text and cs.client_name.upper() in text
    for metric in cs.metrics:
        assert metric.before in text and metric.after in text, metric.label
    # The accent (#0A7C66) is the PDF's fill colour somewhere on the page.
    contents = PdfReader(BytesIO(got["pdf"].content)).pages[0].get_contents()
    assert contents is not None and b".039216 .486275 .4 rg" in contents.get_data()

    charts = [
        shape.chart
        for slide in Presentation(BytesIO(got["pptx"].content)).slides
        for shape in slide.shapes
        if shape.has_chart
    ]
    assert {
        chart.plots[0].categories[0]: {s.name: tuple(s.values) for s in chart.plots[0].series}
        for chart in charts
    } == {
        "Average dispatch time": {"Before": (94.0,), "After": (31.0,)},
        "Empty miles": {"Before": (18.0,), "After": (11.0,)},
        "Loads per dispatcher": {"Before": (38.0,), "After": (57.5,)},
    }

    page = got["html"].text
    assert f"--accent:{ACCENT}" in page and 'src="data:image/png;base64,' in page
    assert "| Average dispatch time | 94 min | 31 min | 67% faster |" in got["md"].text

    card = Image.open(BytesIO(got["card"].content))
    assert card.format == "PNG" and card.size == (1200, 630)
    deep = brand.palette(brand.parse_hex(ACCENT)).accent_deep
    assert card.convert("RGB").getpixel((1199, 629)) == deep

    with zipfile.ZipFile(BytesIO(got["zip"].content)) as archive:
        assert sorted(archive.namelist()) == [
            "card.png",
            "case_study.json",
            "case_study.md",
            "case_study.pdf",
            "case_study.pptx",
            "hero.png",
            "index.html",
            "metrics.png",
            "timeline.png",
        ]
        assert archive.read("card.png") == got["card"].content
        assert archive.read("case_study.pptx") == got["pptx"].content
        assert f'"id": "{job_id}"'.encode() in archive.read("case_study.json")


async def test_without_an_accent_the_job_keeps_its_logo_and_the_logo_colour() -> None:
    logo = logo_png((200, 30, 60))
    async with served_stack(ScriptedStructurer(study()), RecordingImages()) as client:
        branded = await finished(client, logo=logo)
        plain = await finished(client)
        page = (await client.get(export_url(branded, "html"))).text
        default = (await client.get(export_url(plain, "html"))).text
        with_logo = (await client.get(export_url(branded, "card"))).content
        without = (await client.get(export_url(plain, "card"))).content
    assert "--accent:#C81E3C" in page and "--accent:#C81E3C" not in default
    assert with_logo != without


async def test_an_anonymized_answer_keeps_the_client_off_the_exports() -> None:
    cs = study()
    cs.client_name, cs.title = "Regional Carrier", "How a carrier cut dispatch time by 67%"
    async with served_stack(ScriptedStructurer(cs), RecordingImages()) as client:
        anonymous = await finished(client, anonymize=True)
        named = await finished(client)
        answer = (await client.get(f"/v1/case-studies/{anonymous}")).json()
        hidden = (await client.get(export_url(anonymous, "pdf"))).content
        shown = (await client.get(export_url(named, "pdf"))).content
    assert answer["anonymized"] is True
    assert "REGIONAL CARRIER" not in pdf_text(hidden)[1]  # the header's eyebrow leaves it out
    assert "REGIONAL CARRIER" in pdf_text(shown)[1]


async def test_an_export_of_a_job_being_made_is_409_with_retry_after() -> None:
    structurer = ScriptedStructurer(study(), hold_after=1)
    async with served_stack(structurer, RecordingImages()) as client:
        job_id = (await client.post("/v1/case-studies", json={"notes": "n"}, headers=ASYNC)).json()[
            "id"
        ]
        await structurer.held.wait()
        early = await client.get(export_url(job_id, "pdf"))
        structurer.release.set()
        await wait_done(client, job_id)
        done = await client.get(export_url(job_id, "pdf"))
    assert early.status_code == 409 and early.headers["retry-after"] == "5"
    assert early.headers["content-type"] == "application/problem+json"
    problem = early.json()
    assert problem["status_now"] == "structuring"
    assert f"/v1/case-studies/{job_id}/events" in problem["detail"]
    assert done.status_code == 200 and done.content.startswith(b"%PDF")


async def test_unknown_jobs_formats_and_options_are_4xx_naming_the_fix() -> None:
    async with served_stack(ScriptedStructurer(study()), RecordingImages()) as client:
        job_id = await finished(client)
        no_job = await client.get(export_url("0" * 32, "pdf"))
        no_format = await client.get(export_url(job_id, "docx"))
        bad_page = await client.get(export_url(job_id, "pdf") + "?page=A5")
        letter = await client.get(export_url(job_id, "pdf") + "?page=letter")
    assert no_job.status_code == 404 and "no case study" in no_job.json()["detail"]
    assert no_format.status_code == 404
    assert "use one of pdf, pptx, html, md, card, zip" in no_format.json()["detail"]
    assert no_format.json()["formats"] == ["pdf", "pptx", "html", "md", "card", "zip"]
    assert bad_page.status_code == 422 and bad_page.json()["errors"][0]["field"] == "page"
    width, height = PdfReader(BytesIO(letter.content)).pages[0].mediabox.upper_right
    assert (round(float(width)), round(float(height))) == (612, 792)


async def test_an_edit_changes_the_next_export_and_is_409_while_its_images_are_made() -> None:
    images = RecordingImages()
    async with served_stack(ScriptedStructurer(study()), images) as client:
        job_id = await finished(client)
        first = await client.get(export_url(job_id, "md"))
        again = await client.get(export_url(job_id, "md"))
        images.release.clear()  # hold the hero the edit makes again
        patched = await client.patch(
            f"/v1/case-studies/{job_id}",
            json={"case_study": {"title": "How Harbor Freightways halved empty miles"}},
            headers=MERGE,
        )
        while_rendering = await client.get(export_url(job_id, "md"))
        images.release.set()
        await wait_done(client, job_id)
        after = await client.get(export_url(job_id, "md"))
    assert again.content == first.content
    assert patched.status_code == 202
    assert while_rendering.status_code == 409
    assert while_rendering.json()["status_now"] == "rendering"
    assert after.status_code == 200
    assert after.text.startswith("# How Harbor Freightways halved empty miles")
    assert after.headers["content-disposition"] == (
        'attachment; filename="how-harbor-freightways-halved-empty-miles.md"'
    )


@pytest.mark.parametrize("structurer", [FailsAfterTheHeadline, FailsAtOnce])
async def test_a_failed_job_exports_what_it_has_and_409_when_it_has_nothing(
    structurer: type[ScriptedStructurer],
) -> None:
    async with served_stack(structurer(study()), RecordingImages()) as client:
        post = await client.post("/v1/case-studies", json={"notes": "n"}, headers=ASYNC)
        job_id = post.json()["id"]
        await wait_done(client, job_id)
        job = (await client.get(f"/v1/case-studies/{job_id}")).json()
        pdf = await client.get(export_url(job_id, "pdf"))
    assert job["status"] == "failed"
    if structurer is FailsAfterTheHeadline:
        assert pdf.status_code == 200
        _, text = pdf_text(pdf.content)
        assert study().title in text
    else:
        assert job["case_study"] == {}
        assert pdf.status_code == 409 and "retry-after" not in pdf.headers
        problem = pdf.json()
        assert problem["title"] == "Nothing to export" and problem["status_now"] == "failed"
        assert "the model went away" in problem["detail"]
        assert "POST the notes again" in problem["detail"]


async def test_a_template_that_fails_on_the_data_is_409_naming_the_template_and_field(
    tmp_path: Path,
) -> None:
    template = tmp_path / "page.html.j2"
    template.write_text(
        "<h1>{{ title }}</h1>\n"
        "{% for m in study.metrics %}\n"
        "<p>{{ '%.1f' | format(m.before_value) }}</p>\n"
        "{% endfor %}\n"
    )
    cs = study()  # its last metric ("Driver mood") has no parsed numbers
    async with served_stack(
        ScriptedStructurer(cs), RecordingImages(), template_dir=tmp_path
    ) as client:
        job_id = await finished(client)
        page = await client.get(export_url(job_id, "html"))
        bundle = await client.get(export_url(job_id, "zip"))
        pdf = await client.get(export_url(job_id, "pdf"))
    assert page.status_code == 409 and bundle.status_code == 409
    problem = page.json()
    assert problem["title"] == "Export template failed"
    assert problem["template"] == str(template) and problem["line"] == 3
    assert problem["expression"] == "<p>{{ '%.1f' | format(m.before_value) }}</p>"
    assert "before_value" in problem["reason"] and "PATCH" in problem["detail"]
    assert pdf.status_code == 200  # the other formats do not use the page template


def test_a_template_folder_that_cannot_be_loaded_stops_the_gateway_at_start_up(
    tmp_path: Path,
) -> None:
    with pytest.raises(ConfigurationError, match=r"^CASECRAFT_TEMPLATE_DIR: .*no such file"):
        create_app(GatewaySettings(template_dir=tmp_path))
    (tmp_path / "page.html.j2").write_text("{{ study.title | no_such_filter }}")
    with pytest.raises(ConfigurationError, match=r"line 1: .*no_such_filter"):
        create_app(GatewaySettings(template_dir=tmp_path))


def test_a_gateway_with_an_unusable_template_folder_exits_with_one_line(tmp_path: Path) -> None:
    env = {**os.environ, "CASECRAFT_TEMPLATE_DIR": str(tmp_path), "CASECRAFT_GATEWAY_PORT": "0"}
    done = subprocess.run(
        [sys.executable, "-m", "gateway"], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(
        f"gateway: CASECRAFT_TEMPLATE_DIR: {tmp_path / 'page.html.j2'}: no such file"
    )
