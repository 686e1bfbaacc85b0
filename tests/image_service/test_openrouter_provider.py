"""The OpenRouter image provider against a loopback fake that speaks OpenRouter's wire format."""

from __future__ import annotations

import base64
import io
from collections.abc import AsyncIterator

import pytest
from PIL import Image
from pydantic import SecretStr

from casecraft.errors import ProviderError
from casecraft.v1 import case_study_pb2, image_pb2
from image_service.image_check import ImageLimits, ImageRejected
from image_service.providers.openrouter import OpenRouterImages, nearest_aspect_ratio
from tests.fakes.openrouter_images import (
    GARBAGE,
    NO_IMAGES,
    FakeOpenRouter,
    draw,
    error_object,
    image_parts,
    prompt_text,
    status,
)

KEY = "sk-or-v1-test-0123456789abcdef"
LOGO = draw("LOGO", (96, 96))


@pytest.fixture
async def fake() -> AsyncIterator[FakeOpenRouter]:
    fake = FakeOpenRouter(api_key=KEY)
    async with fake.running():
        yield fake


def provider_for(fake: FakeOpenRouter, *, key: str = KEY) -> OpenRouterImages:
    return OpenRouterImages(
        api_key=SecretStr(key),
        base_url=fake.base_url,
        model="google/gemini-3.1-flash-image-preview",
        fast_model="google/gemini-2.5-flash-image",
        limits=ImageLimits(max_bytes=5_000_000, max_pixels=4096 * 4096),
        timeout_s=10,
    )


def hero(**fields: object) -> image_pb2.ImageJob:
    data = image_pb2.HeroData(
        client_name="Acme Freight",
        industry="Logistics",
        title="How Acme Freight cut dispatch time by 67%",
        subtitle="Route planning rebuilt in ten weeks",
    )
    return image_pb2.ImageJob(job_id="hero", hero=data, **fields)  # type: ignore[arg-type]


async def test_draws_the_hero_at_the_size_the_job_asks_for(fake: FakeOpenRouter) -> None:
    image = await provider_for(fake).generate(hero())

    assert (image.media_type, image.width, image.height) == ("image/png", 1600, 900)
    assert image.model == "google/gemini-3.1-flash-image-preview"
    assert Image.open(io.BytesIO(image.data)).size == (1600, 900)
    [request] = fake.requests
    assert request.path == "/api/v1/chat/completions"
    assert request.headers["authorization"] == f"Bearer {KEY}"
    body = request.json
    assert body["modalities"] == ["image", "text"]
    assert body["image_config"] == {"aspect_ratio": "16:9"}
    prompt = prompt_text(body)
    assert '"How Acme Freight cut dispatch time by 67%"' in prompt
    assert "Acme Freight" in prompt and "Logistics" in prompt
    assert "aspect ratio 16:9, about 1600x900 pixels" in prompt
    assert image_parts(body) == []


async def test_the_image_depends_on_the_prompt(fake: FakeOpenRouter) -> None:
    provider = provider_for(fake)
    first = await provider.generate(hero(prompt="A blue banner for Acme"))
    second = await provider.generate(hero(prompt="A green banner for Globex"))
    assert first.data != second.data
    assert prompt_text(fake.requests[0].json).startswith("A blue banner for Acme\n")


async def test_the_logo_travels_as_an_image_url_part(fake: FakeOpenRouter) -> None:
    await provider_for(fake).generate(hero(reference_image=LOGO, reference_media_type="image/png"))
    [url] = image_parts(fake.requests[0].json)
    header, _, payload = url.partition(",")
    assert header == "data:image/png;base64"
    assert base64.b64decode(payload) == LOGO
    assert "client's logo" in prompt_text(fake.requests[0].json)


async def test_fast_mode_uses_the_fast_model_and_a_smaller_image(fake: FakeOpenRouter) -> None:
    image = await provider_for(fake).generate(hero(options=image_pb2.ImageOptions(fast=True)))
    assert image.model == "google/gemini-2.5-flash-image"
    assert (image.width, image.height) == (800, 450)
    assert fake.requests[0].json["model"] == "google/gemini-2.5-flash-image"


async def test_the_metrics_prompt_carries_every_number_as_written(fake: FakeOpenRouter) -> None:
    metrics = image_pb2.MetricsData(
        client_name="Acme Freight",
        metrics=[
            case_study_pb2.Metric(
                label="Dispatch time", before="94 min", after="31 min", improvement="67% faster"
            ),
            case_study_pb2.Metric(label="Late deliveries", before="18%", after="7%"),
        ],
    )
    await provider_for(fake).generate(image_pb2.ImageJob(job_id="m", metrics=metrics))
    prompt = prompt_text(fake.requests[0].json)
    assert "Dispatch time: before 94 min, after 31 min (67% faster)" in prompt
    assert "Late deliveries: before 18%, after 7%" in prompt
    assert "do not round" in prompt


async def test_the_timeline_prompt_lists_the_phases_in_order(fake: FakeOpenRouter) -> None:
    timeline = image_pb2.TimelineData(
        phases=[
            case_study_pb2.Phase(
                name="Discovery", period="Weeks 1-2", description="Mapped routes."
            ),
            case_study_pb2.Phase(name="Rollout", period="Weeks 3-10"),
        ]
    )
    await provider_for(fake).generate(image_pb2.ImageJob(job_id="t", timeline=timeline))
    prompt = prompt_text(fake.requests[0].json)
    assert "exactly 2 phases" in prompt
    assert prompt.index("1. Discovery (Weeks 1-2): Mapped routes.") < prompt.index(
        "2. Rollout (Weeks 3-10)"
    )


@pytest.mark.parametrize(
    ("width", "height", "ratio"),
    [(1600, 900, "16:9"), (900, 1600, "9:16"), (1000, 1000, "1:1"), (1200, 900, "4:3")],
)
def test_sizes_map_to_the_nearest_supported_aspect_ratio(
    width: int, height: int, ratio: str
) -> None:
    assert nearest_aspect_ratio(width, height) == ratio


async def test_an_answer_without_an_image_is_a_failed_attempt(fake: FakeOpenRouter) -> None:
    fake.faults.script(NO_IMAGES)
    with pytest.raises(ProviderError, match="without an image") as caught:
        await provider_for(fake).generate(hero())
    assert not caught.value.retryable


async def test_an_error_object_is_a_failed_attempt_retryable_by_its_code(
    fake: FakeOpenRouter,
) -> None:
    fake.faults.script(error_object(502, "Upstream overloaded"), error_object(400, "Bad prompt"))
    provider = provider_for(fake)
    with pytest.raises(ProviderError, match="Upstream overloaded") as upstream:
        await provider.generate(hero())
    assert upstream.value.retryable
    with pytest.raises(ProviderError, match="Bad prompt") as bad:
        await provider.generate(hero())
    assert not bad.value.retryable


async def test_rate_limit_carries_status_and_retry_after(fake: FakeOpenRouter) -> None:
    fake.faults.script(status(429, retry_after="2"))
    with pytest.raises(ProviderError) as caught:
        await provider_for(fake).generate(hero())
    error = caught.value
    assert (error.status, error.retry_after_s, error.retryable) == (429, 2.0, True)
    assert "Rate limit exceeded" in str(error)


async def test_garbage_image_bytes_are_rejected(fake: FakeOpenRouter) -> None:
    fake.faults.script(GARBAGE)
    with pytest.raises(ImageRejected):
        await provider_for(fake).generate(hero())


async def test_a_wrong_key_is_a_clear_error_without_the_key(fake: FakeOpenRouter) -> None:
    wrong = "sk-or-v1-wrong-key-ffffffffffff"
    with pytest.raises(ProviderError) as caught:
        await provider_for(fake, key=wrong).generate(hero())
    assert caught.value.status == 401 and not caught.value.retryable
    assert wrong not in str(caught.value) and KEY not in str(caught.value)
    assert wrong not in repr(provider_for(fake, key=wrong).__dict__)
