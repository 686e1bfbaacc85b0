"""ImageOptions.accent_color through the image service: it colours every image, or is refused."""

from __future__ import annotations

from io import BytesIO

import grpc
import pytest
from PIL import Image

from casecraft import brand
from casecraft.v1 import case_study_pb2, image_pb2, image_pb2_grpc
from image_service.providers.local import LocalRenderer
from image_service.render import palette_for
from tests.conftest import running_images

ACCENT = "#0A7C66"
METRIC = case_study_pb2.Metric(
    label="Dispatch time", before="94 min", after="31 min", before_value=94, after_value=31
)


def jobs(accent: str) -> list[image_pb2.ImageJob]:
    options = image_pb2.ImageOptions(accent_color=accent, width=800, height=450)
    return [
        image_pb2.ImageJob(job_id="hero", hero=image_pb2.HeroData(title="Faster"), options=options),
        image_pb2.ImageJob(
            job_id="metrics", metrics=image_pb2.MetricsData(metrics=[METRIC]), options=options
        ),
        image_pb2.ImageJob(
            job_id="timeline",
            timeline=image_pb2.TimelineData(phases=[case_study_pb2.Phase(name="Pilot")] * 2),
            options=options,
        ),
    ]


async def generate(accent: str) -> dict[str, Image.Image]:
    async with running_images(LocalRenderer()) as server:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
            call = image_pb2_grpc.ImageGeneratorStub(channel).Generate(
                iter([image_pb2.ImageJobs(jobs=jobs(accent))])
            )
            results = [r async for m in call for r in m.results]
    assert all(r.status == image_pb2.IMAGE_STATUS_OK for r in results), results
    return {r.job_id: Image.open(BytesIO(r.image)).convert("RGB") for r in results}


def share(image: Image.Image, colour: tuple[int, int, int]) -> float:
    """The share of the image's pixels that are exactly `colour`."""
    counts = {c: n for n, c in image.getcolors(image.width * image.height) or []}
    return counts.get(colour, 0) / (image.width * image.height)


async def test_the_accent_colours_every_image() -> None:
    accent = brand.parse_hex(ACCENT)
    branded = await generate(ACCENT)
    default = await generate("")
    bar = palette_for(accent).bar_after
    assert bar == accent  # dark enough to be drawn as it is
    assert share(branded["metrics"], accent) > 0.002 and share(default["metrics"], accent) == 0
    # The hero's background runs from a deeper shade to the accent itself, at the right edge.
    hero = branded["hero"]
    right_edge = hero.getpixel((hero.width - 2, hero.height // 2))
    assert isinstance(right_edge, tuple)
    assert max(abs(a - b) for a, b in zip(right_edge[:3], accent, strict=True)) < 40
    assert share(default["hero"], accent) == 0
    # The first marker of the timeline is drawn in the accent's readable shade, the last in it.
    assert share(branded["timeline"], accent) > 0.0005
    assert share(default["timeline"], accent) == 0


@pytest.mark.parametrize("accent", ["0A7C66", "#0A7C6", "#0A7C6G", "green"])
async def test_an_accent_that_is_not_rrggbb_is_invalid_argument(accent: str) -> None:
    async with running_images(LocalRenderer()) as server:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
            call = image_pb2_grpc.ImageGeneratorStub(channel).Generate(
                iter([image_pb2.ImageJobs(jobs=jobs(accent)[:1])])
            )
            with pytest.raises(grpc.aio.AioRpcError) as error:
                [r async for m in call for r in m.results]
    assert error.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert "options.accent_color" in (error.value.details() or "")
    assert "#RRGGBB" in (error.value.details() or "")
