"""Images from providers are checked before they are passed on: type, bytes, pixels, decodability."""

from __future__ import annotations

import base64
import io

import pytest
from PIL import Image

from image_service.image_check import (
    ImageLimits,
    ImageRejected,
    check_image,
    decode_base64,
    decode_data_url,
)
from tests.fakes.openrouter_images import bomb_png, draw, noise_png

LIMITS = ImageLimits(max_bytes=2_000_000, max_pixels=2048 * 2048)


@pytest.mark.parametrize(
    ("fmt", "media_type"), [("PNG", "image/png"), ("JPEG", "image/jpeg"), ("WEBP", "image/webp")]
)
def test_allowed_types_pass_with_their_real_type_and_size(fmt: str, media_type: str) -> None:
    data = draw("Acme Freight hero", (320, 180), fmt)
    checked = check_image(data, LIMITS, provider="fake")
    assert (checked.media_type, checked.width, checked.height) == (media_type, 320, 180)
    assert checked.data == data


def test_garbage_bytes_are_rejected() -> None:
    with pytest.raises(ImageRejected, match="not an image of an allowed type") as caught:
        check_image(b"\x89PNG\r\n\x1a\n but then nothing", LIMITS, provider="fake")
    assert caught.value.provider == "fake" and not caught.value.retryable


def test_a_type_outside_png_jpeg_webp_is_rejected() -> None:
    with pytest.raises(ImageRejected, match="image/png, image/jpeg, image/webp"):
        check_image(draw("a gif", (64, 64), "GIF"), LIMITS, provider="fake")


def test_too_many_bytes_are_rejected_before_decoding() -> None:
    data = noise_png((600, 600))
    assert len(data) > 1_000_000
    with pytest.raises(ImageRejected, match="over the limit of 1,000,000 bytes"):
        check_image(data, ImageLimits(max_bytes=1_000_000, max_pixels=10**8), provider="fake")


def test_decompression_bomb_is_refused_from_its_header() -> None:
    bomb = bomb_png(9000, 9000)
    assert len(bomb) < 20_000  # a few kilobytes that would decode to 81 million pixels
    with pytest.raises(ImageRejected, match="9000x9000 pixels is over the limit of 4,194,304"):
        check_image(bomb, LIMITS, provider="fake")


def test_a_bomb_past_pillows_own_limit_is_refused_too() -> None:
    with pytest.raises(ImageRejected, match="too many pixels"):
        check_image(bomb_png(40_000, 40_000), LIMITS, provider="fake")


def test_a_truncated_image_is_rejected() -> None:
    data = draw("cut short", (400, 300))
    with pytest.raises(ImageRejected, match="does not decode"):
        check_image(data[: len(data) // 2], LIMITS, provider="fake")


def test_data_urls_decode_and_non_data_urls_are_refused() -> None:
    data = draw("x", (64, 64))
    url = "data:image/png;base64," + base64.b64encode(data).decode()
    assert decode_data_url(url, LIMITS, provider="fake") == data
    with pytest.raises(ImageRejected, match="not a base64 data URL"):
        decode_data_url("https://example.com/image.png", LIMITS, provider="fake")


def test_oversized_base64_is_refused_before_decoding() -> None:
    with pytest.raises(ImageRejected, match="encoded image is over the limit"):
        decode_base64(
            "A" * 2_000_000, ImageLimits(max_bytes=1_000_000, max_pixels=10), provider="f"
        )
    with pytest.raises(ImageRejected, match="not valid base64"):
        decode_base64("not base64!", LIMITS, provider="fake")


def test_the_checked_image_is_the_one_that_decodes() -> None:
    data = draw("Acme", (128, 96))
    image = Image.open(io.BytesIO(check_image(data, LIMITS, provider="fake").data))
    assert image.size == (128, 96)
