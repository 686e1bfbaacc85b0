"""Image providers: each one turns an ImageJob into one encoded image."""

from __future__ import annotations

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


class ImageProvider(Protocol):
    name: str

    async def generate(self, job: image_pb2.ImageJob) -> GeneratedImage:
        """Produce the job's image or raise; the caller applies timeouts and fallback."""
        ...
