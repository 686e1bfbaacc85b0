"""job_problem refuses text no case study needs, and sizes the renderers cannot draw, up front."""

from __future__ import annotations

import pytest

from casecraft.limits import MAX_PROMPT_CHARS, MAX_TEXT_CHARS
from casecraft.v1 import case_study_pb2, image_pb2
from image_service.render import render_size
from image_service.validation import job_problem


def hero_job(**options: int | bool) -> image_pb2.ImageJob:
    return image_pb2.ImageJob(
        job_id="hero",
        hero=image_pb2.HeroData(client_name="Northwind", title="Faster dispatch"),
        options=image_pb2.ImageOptions(**options),
    )


def job_with(field: str, text: str) -> image_pb2.ImageJob:
    """A valid job of the component `field` belongs to, with `text` in that field."""
    component, _, rest = field.partition(".")
    if component == "prompt":
        job = hero_job()
        job.prompt = text
    elif component == "hero":
        job = hero_job()
        setattr(job.hero, rest, text)
    elif component == "metrics":
        job = image_pb2.ImageJob(job_id="metrics")
        job.metrics.metrics.append(case_study_pb2.Metric(label="Handle time", after="31 min"))
        job.metrics.metrics.append(case_study_pb2.Metric(label="NPS", after="61"))
        target = job.metrics if rest == "client_name" else job.metrics.metrics[1]
        setattr(target, rest.rpartition(".")[2], text)
    else:
        job = image_pb2.ImageJob(job_id="timeline")
        job.timeline.phases.append(case_study_pb2.Phase(name="Discovery"))
        job.timeline.phases.append(case_study_pb2.Phase(name="Rollout"))
        target = job.timeline if rest == "client_name" else job.timeline.phases[1]
        setattr(target, rest.rpartition(".")[2], text)
    return job


FIELDS = [
    "prompt",
    *(f"hero.{name}" for name in ("client_name", "industry", "title", "subtitle")),
    "metrics.client_name",
    *(f"metrics.metrics[1].{name}" for name in ("label", "before", "after", "improvement", "unit")),
    "timeline.client_name",
    *(f"timeline.phases[1].{name}" for name in ("name", "period", "description")),
]


@pytest.mark.parametrize("field", FIELDS)
def test_a_text_field_over_its_limit_is_refused_naming_the_field(field: str) -> None:
    problem = job_problem(job_with(field, "x" * 100_000), set())
    assert problem is not None
    assert problem.startswith("job ") and f": {field}: 100,000 characters" in problem
    name = field.rpartition(".")[2]
    limit = MAX_PROMPT_CHARS if name == "prompt" else MAX_TEXT_CHARS[name]
    assert f"over the limit of {limit:,}" in problem
    assert job_problem(job_with(field, "x" * limit), set()) is None
    assert job_problem(job_with(field, "x" * (limit + 1)), set()) is not None


SIZES = {
    "width below the minimum": ({"width": 64}, "options.width", "64 is outside 200..4096"),
    "height below the minimum": ({"height": 150}, "options.height", "150 is outside 200..4096"),
    "width alone, height too small": ({"width": 300}, "options.width", "300x169"),
    "fast, width alone": ({"width": 300, "fast": True}, "options.width", "300x169"),
    "height alone, width too large": ({"height": 4096}, "options.height", "7282x4096"),
}


@pytest.mark.parametrize(("options", "field", "says"), SIZES.values(), ids=SIZES.keys())
def test_a_size_the_renderer_cannot_draw_is_refused(
    options: dict[str, int | bool], field: str, says: str
) -> None:
    problem = job_problem(hero_job(**options), set())
    assert problem is not None
    assert f": {field}: " in problem and says in problem


def test_validation_accepts_exactly_the_sizes_the_renderer_draws() -> None:
    sides = [0, 1, 64, 199, 200, 355, 356, 1200, 2304, 2305, 4096, 4097]
    for fast in (False, True):
        for width in sides:
            for height in sides:
                try:
                    render_size(width, height, fast=fast)
                    drawable = True
                except ValueError:
                    drawable = False
                problem = job_problem(hero_job(width=width, height=height, fast=fast), set())
                assert (problem is None) == drawable, (width, height, fast, problem)
