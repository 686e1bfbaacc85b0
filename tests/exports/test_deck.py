"""The deck: a native chart of the exact numbers, prose as text, notes naming the sources."""

from __future__ import annotations

from io import BytesIO
from typing import Any

from pptx import Presentation
from pptx.enum.shapes import MSO_SHAPE_TYPE

from casecraft.exports import ExportOptions, render_export
from tests.exports.conftest import answer_for, logo_png, study


def deck(answer: dict[str, Any], **options: Any) -> Any:
    export = render_export("pptx", answer, options=ExportOptions(**options))
    assert export.filename.endswith(".pptx")
    return Presentation(BytesIO(export.data))


def slide_text(slide: Any) -> str:
    return " ".join(s.text_frame.text for s in slide.shapes if s.has_text_frame)


def test_the_charts_hold_exactly_the_before_and_after_values(answer: dict[str, Any]) -> None:
    charts = [
        shape.chart for slide in deck(answer).slides for shape in slide.shapes if shape.has_chart
    ]
    charted = {
        chart.plots[0].categories[0]: {s.name: tuple(s.values) for s in chart.plots[0].series}
        for chart in charts
    }
    assert charted == {
        "Average dispatch time": {"Before": (94.0,), "After": (31.0,)},
        "Empty miles": {"Before": (18.0,), "After": (11.0,)},
        "Loads per dispatcher": {"Before": (38.0,), "After": (57.5,)},
    }


def test_slides_hold_the_prose_as_text_and_the_notes_the_sources(answer: dict[str, Any]) -> None:
    slides = list(deck(answer).slides)
    text = " ".join(slide_text(slide) for slide in slides)
    cs = answer["case_study"]
    for field in ("title", "subtitle", "challenge", "solution", "results"):
        assert cs[field] in text, field
    assert "Nobody misses a window anymore." in text and "Dana Ruiz, VP Operations" in text
    for phase in cs["phases"]:
        assert phase["name"] in text and phase["period"] in text
    # The metric with no numbers is stated in words on its slide rather than charted.
    assert "grim" in text and "cheerful" in text
    notes = " ".join(s.notes_slide.notes_text_frame.text for s in slides if s.has_notes_slide)
    for metric in cs["metrics"]:
        assert f"{metric['label']}: before “{metric['before']}”, after “{metric['after']}”" in notes


def test_the_title_slide_has_the_hero_and_logo_and_the_timeline_is_native_shapes(
    answer: dict[str, Any],
) -> None:
    slides = list(deck(answer, logo=logo_png()).slides)
    pictures = [s for s in slides[0].shapes if s.shape_type == MSO_SHAPE_TYPE.PICTURE]
    assert len(pictures) == 2  # the logo and the hero
    assert answer["case_study"]["title"] in slide_text(slides[0])
    (timeline,) = [s for s in slides if "How it was done" in slide_text(s)]
    markers = [
        s
        for s in timeline.shapes
        if s.shape_type == MSO_SHAPE_TYPE.AUTO_SHAPE and s.text_frame.text.isdigit()
    ]
    assert [m.text_frame.text for m in markers] == ["1", "2", "3"]
    assert not [s for s in timeline.shapes if s.shape_type == MSO_SHAPE_TYPE.PICTURE]


def test_prose_too_long_for_one_slide_continues_on_the_next() -> None:
    cs = study()
    cs.challenge = " ".join(f"word{index}" for index in range(1500))
    slides = list(deck(answer_for(cs, {})).slides)
    parts = [slide_text(s) for s in slides if "The challenge" in slide_text(s)]
    assert len(parts) == 5  # 12,389 characters, at most 3,000 a slide
    assert all("The challenge (continued)" in part for part in parts[1:])
    words = " ".join(
        p.replace("The challenge (continued)", "").replace("The challenge", "") for p in parts
    )
    assert words.split() == cs.challenge.split()
