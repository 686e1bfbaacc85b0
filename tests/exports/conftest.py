"""A case study as the gateway answers it, with real images from the local renderer."""

from __future__ import annotations

import base64
from io import BytesIO
from typing import Any

import pytest
from PIL import Image

from casecraft import protojson
from casecraft.v1 import case_study_pb2, image_pb2
from image_service.render import render_hero, render_metrics, render_timeline

SIZE = (640, 360)


def study() -> case_study_pb2.CaseStudy:
    return case_study_pb2.CaseStudy(
        client_name="Harbor Freightways",
        industry="Logistics",
        title="How Harbor Freightways cut dispatch time by 67%",
        subtitle="A live load board replaced the whiteboards at six terminals",
        metrics=[
            case_study_pb2.Metric(
                label="Average dispatch time",
                before="94 min",
                after="31 min",
                improvement="67% faster",
                before_value=94,
                after_value=31,
                unit="min",
                change_percent=-67.02,
                lower_is_better=True,
            ),
            case_study_pb2.Metric(
                label="Empty miles",
                before="18%",
                after="11%",
                improvement="-7 pts",
                before_value=18,
                after_value=11,
                unit="%",
                change_percent=-38.9,
                lower_is_better=True,
            ),
            case_study_pb2.Metric(
                label="Loads per dispatcher",
                before="38",
                after="57.5",
                improvement="+51%",
                before_value=38,
                after_value=57.5,
                change_percent=51.3,
            ),
            case_study_pb2.Metric(label="Driver mood", before="grim", after="cheerful"),
        ],
        phases=[
            case_study_pb2.Phase(
                name="Discovery", period="Weeks 1-2", description="Shadowed dispatch."
            ),
            case_study_pb2.Phase(name="Build", period="Weeks 3-6", description="Load board MVP."),
            case_study_pb2.Phase(name="Rollout", period="Weeks 7-9", description="Six terminals."),
        ],
        challenge="Dispatch ran on whiteboards and phone calls across six terminals.",
        solution="A live load board fed from the TMS with auto-assignment rules.",
        results="Dispatch is now a queue everyone can see; the night shift runs alone.",
        quote=case_study_pb2.Quote(
            text="Nobody misses a window anymore.", author="Dana Ruiz", role="VP Operations"
        ),
    )


def images_for(cs: case_study_pb2.CaseStudy) -> dict[str, bytes]:
    return {
        "hero": render_hero(
            image_pb2.HeroData(
                client_name=cs.client_name,
                industry=cs.industry,
                title=cs.title,
                subtitle=cs.subtitle,
            ),
            size=SIZE,
        ),
        "metrics": render_metrics(image_pb2.MetricsData(metrics=cs.metrics), size=SIZE),
        "timeline": render_timeline(image_pb2.TimelineData(phases=cs.phases), size=SIZE),
    }


def answer_for(cs: case_study_pb2.CaseStudy, images: dict[str, bytes]) -> dict[str, Any]:
    return {
        "id": "cs_1",
        "case_study": protojson.to_dict(cs),
        "images": [
            {
                "component": component,
                "status": "ok",
                "media_type": "image/png",
                "data_url": "data:image/png;base64," + base64.b64encode(data).decode(),
                "width": SIZE[0],
                "height": SIZE[1],
            }
            for component, data in images.items()
        ],
        "skipped": [],
        "warnings": [],
        "timings": {
            "trace_id": "ab" * 16,
            "total_ms": 100.0,
            "steps": [
                {
                    "name": "POST /v1/case-studies",
                    "service": "gateway",
                    "span_id": "01",
                    "depth": 0,
                    "start_ms": 0.0,
                    "duration_ms": 100.0,
                },
            ],
            "critical_path": [
                {
                    "span_id": "01",
                    "name": "POST",
                    "service": "gateway",
                    "start_ms": 0.0,
                    "duration_ms": 100.0,
                },
            ],
        },
    }


def logo_png(colour: tuple[int, int, int] = (200, 30, 60)) -> bytes:
    image = Image.new("RGBA", (120, 40), (0, 0, 0, 0))
    image.paste((*colour, 255), (10, 5, 110, 35))
    buffer = BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture(scope="session")
def case_study() -> case_study_pb2.CaseStudy:
    return study()


@pytest.fixture(scope="session")
def images(case_study: case_study_pb2.CaseStudy) -> dict[str, bytes]:
    return images_for(case_study)


@pytest.fixture(scope="session")
def answer(case_study: case_study_pb2.CaseStudy, images: dict[str, bytes]) -> dict[str, Any]:
    return answer_for(case_study, images)
