"""fidelity and anonymize through the gateway, the real local extractor and the local renderer:
no name in the answer, in the image jobs' input data, or in the files exported from it."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from PIL import Image

from casecraft.outputs import write_outputs
from casecraft.v1 import image_pb2
from gateway.schemas import CaseStudyResponse
from image_service.providers import GeneratedImage
from image_service.providers.local import LocalRenderer
from tests.conftest import stack
from tests.fakes.notes import NOTES
from tests.support.providers import png
from tests.telemetry.test_span_tree import exported, one  # noqa: F401 (exported: a fixture)

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
# Every name each example gives: the client, its short forms, the people, whoever they are.
NAMES = {
    "logistics_dispatch.md": ("Harbor", "Freightways", "Dana", "Ruiz", "Okafor"),
    "healthcare_discharge.md": ("Cedar", "Valley Health", "Priya", "Natarajan"),
    "insurance_claims_triage.md": ("Meridian", "Helen", "Achebe"),
    "northwind_meeting_notes.md": ("Northwind", "Park", "Lindqvist", "Osei", "Rosa"),
    "fintech_onboarding.md": ("Orbital", "Tomás", "Herrera"),
    "manufacturing_changeover.md": ("Brightwater",),
    "retail_returns_checkout.md": ("Lumen",),
}


class RecordingRenderer:
    """The local renderer, keeping each job it was given (its input data)."""

    name = "local"

    def __init__(self) -> None:
        self.jobs: list[image_pb2.ImageJob] = []
        self._renderer = LocalRenderer()

    async def generate(self, job: image_pb2.ImageJob) -> GeneratedImage:
        self.jobs.append(job)
        return await self._renderer.generate(job)


def _text_of(path: Path) -> str:
    """The words an exported file holds, whatever its format."""
    if path.suffix == ".pdf":
        import pdfplumber

        with pdfplumber.open(path) as pdf:
            return " ".join(page.extract_text() or "" for page in pdf.pages)
    if path.suffix == ".pptx":
        from pptx import Presentation

        return " ".join(
            shape.text_frame.text
            for slide in Presentation(str(path)).slides
            for shape in slide.shapes
            if shape.has_text_frame
        )
    return path.read_text(encoding="utf-8")


def logo() -> str:
    return "data:image/png;base64," + base64.b64encode(png()).decode()


@pytest.mark.parametrize("example", sorted(NAMES))
async def test_an_anonymized_case_study_names_nobody_anywhere(example: str, tmp_path: Path) -> None:
    notes = (EXAMPLES / example).read_text(encoding="utf-8")
    renderer = RecordingRenderer()
    async with stack(images=renderer) as client:
        response = await client.post(
            "/v1/case-studies?inline=true",
            json={"notes": notes, "logo": logo(), "options": {"anonymize": True}},
        )
    assert response.status_code == 200, response.text
    body = response.json()
    CaseStudyResponse.model_validate(body)
    assert body["anonymized"] is True
    assert body["case_study"]["client_name"]  # a descriptor, not empty
    assert any(w.startswith("logo: not used") for w in body["warnings"])
    written = write_outputs(body, tmp_path)
    assert {path.suffix for path in written} >= {".json", ".html", ".md", ".pdf", ".pptx"}
    assert renderer.jobs and all(not job.reference_image for job in renderer.jobs)
    assert all(image["status"] == "ok" for image in body["images"])
    places = {
        "answer": json.dumps(body, ensure_ascii=False),
        "image jobs": " ".join(str(job) for job in renderer.jobs),
        **{path.name: _text_of(path) for path in written if path.suffix != ".png"},
    }
    industry = body["case_study"]["industry"]
    assert all(industry in places[f"case_study.{kind}"] for kind in ("pdf", "pptx", "md"))
    for name in NAMES[example]:
        for place, text in places.items():
            assert name not in text, f"{name!r} in {place}"


async def test_the_answer_reports_every_figure_checked() -> None:
    notes = (EXAMPLES / "logistics_dispatch.md").read_text(encoding="utf-8")
    async with stack(images=RecordingRenderer()) as client:
        response = await client.post(
            "/v1/case-studies?inline=true", json={"notes": notes, "logo": logo()}
        )
        again = (await client.get(f"/v1/case-studies/{response.json()['id']}")).json()
    body = response.json()
    assert body["fidelity"]["checked"] > 40 and body["fidelity"]["untraced"] == []
    assert again["fidelity"] == body["fidelity"]
    assert "anonymized" not in body
    assert not any(w.startswith("logo:") for w in body["warnings"])
    assert "Harbor Freightways" in body["case_study"]["title"]


async def test_the_hero_drawn_for_an_anonymized_case_study_shows_the_descriptor(
    tmp_path: Path,
) -> None:
    notes = (EXAMPLES / "insurance_claims_triage.md").read_text(encoding="utf-8")
    renderer = RecordingRenderer()
    async with stack(images=renderer) as client:
        response = await client.post(
            "/v1/case-studies?inline=true", json={"notes": notes, "options": {"anonymize": True}}
        )
    hero = next(job for job in renderer.jobs if job.WhichOneof("data") == "hero")
    assert hero.hero.client_name == "An insurer"
    assert hero.hero.title.startswith("How an insurer ")
    image = next(i for i in response.json()["images"] if i["component"] == "hero")
    data = base64.b64decode(image["data_url"].split(",", 1)[1])
    (tmp_path / "hero.png").write_bytes(data)
    assert Image.open(io.BytesIO(data)).size[0] > 100


async def test_anonymize_must_be_a_boolean() -> None:
    async with stack(images=RecordingRenderer()) as client:
        response = await client.post(
            "/v1/case-studies?inline=true", json={"notes": "n", "options": {"anonymize": "yes"}}
        )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "options.anonymize"


async def test_the_structure_span_counts_what_was_checked_and_names_nobody(
    exported: InMemorySpanExporter,  # noqa: F811
) -> None:
    async with stack(images=RecordingRenderer()) as client:
        response = await client.post(
            "/v1/case-studies?inline=true", json={"notes": NOTES, "options": {"anonymize": True}}
        )
    assert response.status_code == 200
    spans = list(exported.get_finished_spans())
    attributes = dict(one(spans, "structure").attributes or {})
    assert attributes["casecraft.anonymize"] is True and attributes["casecraft.anonymized"] is True
    assert attributes["casecraft.fidelity.checked"] == response.json()["fidelity"]["checked"] > 0
    assert attributes["casecraft.fidelity.untraced"] == 0
    recorded = " ".join(str(dict(span.attributes or {})) for span in spans)
    assert "Northwind" not in recorded and "Dana" not in recorded
