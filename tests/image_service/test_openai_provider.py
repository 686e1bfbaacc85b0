"""The OpenAI Images provider against a loopback fake that speaks the Images API."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator

import pytest
from PIL import Image
from pydantic import SecretStr

from casecraft.errors import ProviderError
from casecraft.v1 import image_pb2
from image_service.image_check import ImageLimits, ImageRejected
from image_service.providers.openai_images import OpenAIImages
from tests.fakes.openai_images import FakeOpenAIImages
from tests.fakes.openrouter_images import BOMB, NO_IMAGES, draw, status

KEY = "sk-proj-test-0123456789abcdef"
LOGO = draw("LOGO", (96, 96), "JPEG")


@pytest.fixture
async def fake() -> AsyncIterator[FakeOpenAIImages]:
    fake = FakeOpenAIImages(api_key=KEY)
    async with fake.running():
        yield fake


def provider_for(fake: FakeOpenAIImages, *, key: str = KEY) -> OpenAIImages:
    return OpenAIImages(
        api_key=SecretStr(key),
        base_url=fake.base_url,
        model="gpt-image-2",
        fast_model="gpt-image-1-mini",
        limits=ImageLimits(max_bytes=5_000_000, max_pixels=4096 * 4096),
        timeout_s=10,
    )


def timeline(**fields: object) -> image_pb2.ImageJob:
    data = image_pb2.TimelineData(client_name="Acme Freight", phases=[{"name": "Discovery"}])
    return image_pb2.ImageJob(job_id="timeline", timeline=data, **fields)  # type: ignore[arg-type]


async def test_generates_with_the_configured_model_size_and_quality(
    fake: FakeOpenAIImages,
) -> None:
    image = await provider_for(fake).generate(timeline())

    assert (image.media_type, image.width, image.height) == ("image/png", 1536, 1024)
    assert image.model == "gpt-image-2"
    assert Image.open(io.BytesIO(image.data)).format == "PNG"
    [request] = fake.requests
    assert request.path == "/v1/images/generations"
    assert request.headers["authorization"] == f"Bearer {KEY}"
    body = request.json
    assert {k: body[k] for k in ("model", "n", "size", "quality", "output_format")} == {
        "model": "gpt-image-2",
        "n": 1,
        "size": "1536x1024",
        "quality": "medium",
        "output_format": "png",
    }
    assert "1. Discovery" in body["prompt"]


async def test_a_portrait_job_asks_for_a_portrait_size(fake: FakeOpenAIImages) -> None:
    image = await provider_for(fake).generate(
        timeline(options=image_pb2.ImageOptions(width=900, height=1600))
    )
    assert fake.requests[0].json["size"] == "1024x1536"
    assert (image.width, image.height) == (1024, 1536)


async def test_the_logo_goes_to_the_edits_endpoint_as_a_multipart_file(
    fake: FakeOpenAIImages,
) -> None:
    job = image_pb2.ImageJob(
        job_id="hero",
        hero=image_pb2.HeroData(title="Acme cuts dispatch time", client_name="Acme Freight"),
        reference_image=LOGO,
        reference_media_type="image/jpeg",
    )
    image = await provider_for(fake).generate(job)

    assert image.media_type == "image/png"
    [request] = fake.requests
    assert request.path == "/v1/images/edits"
    [upload] = request.files
    assert (upload.field, upload.filename, upload.content_type) == (
        "image[]",
        "logo.jpg",
        "image/jpeg",
    )
    assert upload.data == LOGO
    assert request.fields["model"] == "gpt-image-2"
    assert request.fields["n"] == "1"
    assert "Acme cuts dispatch time" in request.fields["prompt"]


async def test_fast_mode_uses_the_fast_model_lower_quality_and_jpeg(
    fake: FakeOpenAIImages,
) -> None:
    fast = await provider_for(fake).generate(timeline(options=image_pb2.ImageOptions(fast=True)))

    assert fast.model == "gpt-image-1-mini"
    assert fast.media_type == "image/jpeg"
    body = fake.requests[0].json
    assert (body["model"], body["quality"], body["output_format"]) == (
        "gpt-image-1-mini",
        "low",
        "jpeg",
    )
    assert "about 800x450 pixels" in body["prompt"]


async def test_an_error_body_in_openais_format_becomes_a_provider_error(
    fake: FakeOpenAIImages,
) -> None:
    fake.faults.script(status(429, "Rate limit reached for images", retry_after_ms="250"))
    with pytest.raises(ProviderError) as caught:
        await provider_for(fake).generate(timeline())
    error = caught.value
    assert (error.status, error.retry_after_s, error.retryable) == (429, 0.25, True)
    assert "Rate limit reached for images" in str(error)


async def test_a_client_error_is_not_retryable(fake: FakeOpenAIImages) -> None:
    fake.faults.script(status(400, "Your request was rejected by the safety system."))
    with pytest.raises(ProviderError, match="safety system") as caught:
        await provider_for(fake).generate(timeline())
    assert caught.value.status == 400 and not caught.value.retryable


async def test_an_answer_without_data_is_a_failed_attempt(fake: FakeOpenAIImages) -> None:
    fake.faults.script(NO_IMAGES)
    with pytest.raises(ProviderError, match="without an image"):
        await provider_for(fake).generate(timeline())


async def test_a_decompression_bomb_is_rejected(fake: FakeOpenAIImages) -> None:
    fake.faults.script(BOMB)
    with pytest.raises(ImageRejected, match="pixels is over the limit"):
        await provider_for(fake).generate(timeline())


async def test_the_key_openai_quotes_back_is_not_repeated(fake: FakeOpenAIImages) -> None:
    wrong = "sk-proj-wrong-key-ffffffffffffffff"
    with pytest.raises(ProviderError) as caught:
        await provider_for(fake, key=wrong).generate(timeline())
    assert caught.value.status == 401
    assert "Incorrect API key provided" in str(caught.value)
    assert wrong not in str(caught.value)
