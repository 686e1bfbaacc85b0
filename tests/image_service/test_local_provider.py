from __future__ import annotations

import asyncio
from io import BytesIO

import pytest
from PIL import Image, ImageDraw

from casecraft.v1 import case_study_pb2, image_pb2
from image_service.providers import GeneratedImage, ImageProvider
from image_service.providers.local import LocalRenderer


def hero_job(**options: int | bool) -> image_pb2.ImageJob:
    return image_pb2.ImageJob(
        job_id="hero",
        hero=image_pb2.HeroData(
            client_name="Northwind", industry="Freight", title="Faster dispatch"
        ),
        options=image_pb2.ImageOptions(**options),
    )


def metrics_job(*metrics: case_study_pb2.Metric) -> image_pb2.ImageJob:
    return image_pb2.ImageJob(job_id="metrics", metrics=image_pb2.MetricsData(metrics=metrics))


def timeline_job(*phases: case_study_pb2.Phase) -> image_pb2.ImageJob:
    return image_pb2.ImageJob(job_id="timeline", timeline=image_pb2.TimelineData(phases=phases))


def decoded(result: GeneratedImage) -> Image.Image:
    image = Image.open(BytesIO(result.data))
    image.load()
    assert image.format == "PNG"
    assert image.size == (result.width, result.height)
    return image


@pytest.fixture
def renderer() -> LocalRenderer:
    return LocalRenderer()


def test_is_an_image_provider(renderer: LocalRenderer) -> None:
    provider: ImageProvider = renderer
    assert provider.name == "local"


async def test_each_component_renders_a_png(renderer: LocalRenderer) -> None:
    jobs = [
        hero_job(),
        metrics_job(
            case_study_pb2.Metric(
                label="Handle time",
                before="94 min",
                after="31 min",
                before_value=94,
                after_value=31,
            )
        ),
        timeline_job(
            case_study_pb2.Phase(name="Discovery", period="Weeks 1-2", description="Mapped it.")
        ),
    ]
    results = await asyncio.gather(*(renderer.generate(job) for job in jobs))
    for result in results:
        assert result.media_type == "image/png"
        assert result.model == "casecraft-local-renderer"
        assert (result.width, result.height) == (1600, 900)
        assert decoded(result).mode == "RGB"


async def test_fast_mode_renders_half_size(renderer: LocalRenderer) -> None:
    result = await renderer.generate(hero_job(fast=True))
    assert decoded(result).size == (800, 450)


async def test_explicit_size_wins(renderer: LocalRenderer) -> None:
    result = await renderer.generate(hero_job(width=1024, height=1024, fast=True))
    assert decoded(result).size == (1024, 1024)


async def test_logo_is_drawn(renderer: LocalRenderer) -> None:
    logo = Image.new("RGB", (200, 80), (255, 0, 255))
    ImageDraw.Draw(logo).rectangle((0, 0, 20, 80), fill=(255, 255, 255))
    buffer = BytesIO()
    logo.save(buffer, format="PNG")
    job = hero_job(fast=True)
    job.reference_image = buffer.getvalue()
    job.reference_media_type = "image/png"
    image = decoded(await renderer.generate(job))
    colours = dict((colour, count) for count, colour in image.getcolors(maxcolors=1_000_000) or [])
    assert colours.get((255, 0, 255), 0) > 500


@pytest.mark.parametrize(
    ("job", "message"),
    [
        (image_pb2.ImageJob(job_id="empty"), "no data"),
        (metrics_job(), "at least one metric"),
        (timeline_job(), "at least one phase"),
        (image_pb2.ImageJob(hero=image_pb2.HeroData(title="x"), reference_image=b"nope"), "logo"),
        (hero_job(width=100, height=100), r"200\.\.4096"),
        (hero_job(width=8000), r"200\.\.4096"),
    ],
)
async def test_invalid_jobs_raise_value_error(
    renderer: LocalRenderer, job: image_pb2.ImageJob, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        await renderer.generate(job)
