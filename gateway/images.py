"""Images by address: each image's bytes kept under the sha256 of those bytes.

The store is a Protocol with an in-memory implementation that holds a byte budget, evicting the
least recently used image first, except the images a live job still refers to (pinned).
"""

from __future__ import annotations

import hashlib
from collections import Counter, OrderedDict
from dataclasses import dataclass
from typing import Protocol

IMAGE_PATH = "/v1/images/"


def image_url(sha256: str) -> str:
    """Where ``GET /v1/images/{sha256}`` serves the image."""
    return IMAGE_PATH + sha256


@dataclass(frozen=True)
class StoredImage:
    data: bytes
    media_type: str


class ImageStore(Protocol):
    """Content-addressed image bytes with their media type."""

    async def put(self, data: bytes, media_type: str, sha256: str = "") -> str:
        """Keep the image, pinned once for the caller (who ``unpin``s it when it no longer
        refers to it), and return its address: the sha256 of ``data``, hex. ``sha256`` is that
        address when the caller knows it already (the image service's ImageResult.sha256): an
        image kept before is then not hashed, copied or sent again."""
        ...

    async def get(self, sha256: str) -> StoredImage | None:
        """The image at that address, or None when it is unknown or was evicted."""
        ...

    async def unpin(self, sha256: str) -> None:
        """One reference fewer; an unreferenced image may be evicted again."""
        ...


class MemoryImageStore:
    """Images in this process's memory, at most ``budget_bytes`` of them unless pinned."""

    def __init__(self, budget_bytes: int) -> None:
        self.budget_bytes = budget_bytes
        self._images: OrderedDict[str, StoredImage] = OrderedDict()
        self._pins: Counter[str] = Counter()
        self._bytes = 0

    async def put(self, data: bytes, media_type: str, sha256: str = "") -> str:
        sha256 = sha256 or hashlib.sha256(data).hexdigest()
        self._pins[sha256] += 1
        if sha256 in self._images:
            self._images.move_to_end(sha256)
        else:
            self._images[sha256] = StoredImage(data, media_type)
            self._bytes += len(data)
            self._evict()
        return sha256

    async def get(self, sha256: str) -> StoredImage | None:
        image = self._images.get(sha256)
        if image is not None:
            self._images.move_to_end(sha256)
        return image

    async def unpin(self, sha256: str) -> None:
        self._pins[sha256] -= 1
        if self._pins[sha256] <= 0:
            del self._pins[sha256]
        self._evict()

    def size_bytes(self) -> int:
        return self._bytes

    def _evict(self) -> None:
        if self._bytes <= self.budget_bytes:
            return
        for sha256 in [s for s in self._images if not self._pins[s]]:
            self._bytes -= len(self._images.pop(sha256).data)
            if self._bytes <= self.budget_bytes:
                return
