"""Checks an image a provider returned before it is passed on.

The bytes must be within a size limit, declare a pixel size within a pixel limit (read from the
header, before anything is decoded, so a decompression bomb is refused cheaply), be PNG, JPEG or
WebP, and decode completely.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from io import BytesIO

from PIL import Image, UnidentifiedImageError

from casecraft.errors import ProviderError

MEDIA_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp"}


@dataclass(frozen=True)
class ImageLimits:
    max_bytes: int
    max_pixels: int


@dataclass(frozen=True)
class CheckedImage:
    data: bytes
    media_type: str
    width: int
    height: int


class ImageRejected(ProviderError):
    """A provider answered with an image casecraft will not pass on; another attempt may do better."""

    def __init__(self, provider: str, reason: str) -> None:
        super().__init__(provider, f"returned an unusable image: {reason}", retryable=False)
        self.reason = reason


def check_image(data: bytes, limits: ImageLimits, *, provider: str) -> CheckedImage:
    """The image's real type and size, or ImageRejected saying what is wrong with it.

    CPU-bound for large images: call it through ``asyncio.to_thread``.
    """
    if not data:
        raise ImageRejected(provider, "no image bytes")
    if len(data) > limits.max_bytes:
        raise ImageRejected(
            provider, f"{len(data):,} bytes is over the limit of {limits.max_bytes:,} bytes"
        )
    allowed = ", ".join(MEDIA_TYPES.values())
    try:
        with Image.open(BytesIO(data), formats=tuple(MEDIA_TYPES)) as image:
            width, height = image.size
            kind = image.format or ""
            if width * height > limits.max_pixels:
                raise ImageRejected(
                    provider,
                    f"{width}x{height} pixels is over the limit of {limits.max_pixels:,} pixels",
                )
            image.load()
    except ImageRejected:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageRejected(provider, "the image declares too many pixels") from None
    except UnidentifiedImageError:
        raise ImageRejected(
            provider, f"the bytes are not an image of an allowed type ({allowed})"
        ) from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise ImageRejected(provider, f"the image does not decode ({exc})") from None
    return CheckedImage(data, MEDIA_TYPES[kind], width, height)


def decode_data_url(url: str, limits: ImageLimits, *, provider: str) -> bytes:
    """The bytes of a ``data:image/...;base64,`` URL, refusing oversized ones before decoding."""
    header, comma, payload = url.partition(",")
    if not comma or not header.startswith("data:") or not header.endswith(";base64"):
        raise ImageRejected(provider, "the image is not a base64 data URL")
    return decode_base64(payload, limits, provider=provider)


def decode_base64(payload: str, limits: ImageLimits, *, provider: str) -> bytes:
    """Base64 text to bytes, refusing text that would decode to more than the byte limit."""
    if len(payload) > (limits.max_bytes + 2) // 3 * 4 + 4:
        raise ImageRejected(
            provider, f"the encoded image is over the limit of {limits.max_bytes:,} bytes"
        )
    try:
        return base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise ImageRejected(provider, "the image is not valid base64") from None
