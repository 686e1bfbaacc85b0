"""Image providers: each one turns an ImageJob into one encoded image."""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from typing import Protocol

from casecraft.v1 import image_pb2


@dataclass(frozen=True)
class GeneratedImage:
    data: bytes
    media_type: str
    width: int
    height: int
    model: str
    # The data's SHA-256 (hex) when it is known already: an image read back from the cache.
    known_sha256: str = ""

    @functools.cached_property
    def sha256(self) -> str:
        """The data's SHA-256 (hex), worked out at most once per image (a megabyte or two of
        generated PNG takes a millisecond or two), never for an image read from the cache."""
        return self.known_sha256 or hashlib.sha256(self.data).hexdigest()


class ImageProvider(Protocol):
    name: str

    async def generate(self, job: image_pb2.ImageJob) -> GeneratedImage:
        """Produce the job's image or raise; the caller applies timeouts and fallback."""
        ...
