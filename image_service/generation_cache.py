"""The generation cache: an image is made once per key, and identical jobs share one call.

The key hashes everything that determines the image: the provider that would make it (the first
of the chain not cooling down) and its model for the job's speed, the job's typed data, prompt,
options and reference image (by its SHA-256), and casecraft's version (the local renderer's
drawing is code). The job's id, deadline, ``bypass_cache`` and ``cache_only`` are not part of
it. Any field a later version adds to ImageJob is hashed too, so a new input can make more misses,
never a wrong hit.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from importlib.metadata import version
from typing import Literal

from casecraft.byte_cache import ByteCache
from casecraft.eventloop import cancel_requested
from casecraft.v1 import image_pb2
from image_service.coalescing import Flights, RedisLocks
from image_service.providers import GeneratedImage, ImageProvider
from image_service.providers.chain import ChainedImage

# How a job's image was found: made by this job's own provider call ("miss"), read from the cache
# ("hit"), shared with an identical job in flight ("coalesced"), made afresh on purpose ("bypass"),
# or made with the cache turned off ("off").
Source = Literal["hit", "miss", "coalesced", "bypass", "off"]
_FORMAT = "casecraft.image/1"
_VERSION = version("casecraft")


@dataclass(frozen=True)
class Served:
    image: ChainedImage
    source: Source

    @property
    def cache_hit(self) -> bool:
        """True when no provider was called for this job."""
        return self.source in ("hit", "coalesced")


def model_for(provider: ImageProvider, fast: bool) -> str:
    """The model ``provider`` would use for a job of this speed, as far as it says."""
    if fast:
        fast_model = getattr(provider, "fast_model", None)
        if fast_model:
            return str(fast_model)
    return str(getattr(provider, "model", ""))


def generation_key(job: image_pb2.ImageJob, provider: ImageProvider) -> str:
    """The hex SHA-256 of what determines ``job``'s image when ``provider`` makes it."""
    keyed = image_pb2.ImageJob()
    keyed.CopyFrom(job)
    for name in ("job_id", "timeout_ms", "bypass_cache", "cache_only"):
        keyed.ClearField(name)  # type: ignore[arg-type]
    if keyed.reference_image:
        keyed.reference_image = hashlib.sha256(job.reference_image).digest()
    digest = hashlib.sha256()
    for part in (_FORMAT, _VERSION, provider.name, model_for(provider, job.options.fast)):
        digest.update(part.encode())
        digest.update(b"\0")
    digest.update(keyed.SerializeToString(deterministic=True))
    return digest.hexdigest()


class GenerationCache:
    """Cached images by key, and identical jobs in flight coalesced, in this process and (with
    ``locks``) across the replicas sharing one Redis."""

    def __init__(self, store: ByteCache, *, locks: RedisLocks | None = None) -> None:
        self.store = store
        self._locks = locks
        self._flights: Flights[tuple[ChainedImage, bool]] = Flights()

    async def aclose(self) -> None:
        """End the calls in flight; called when the service stops, before Redis is closed."""
        await self._flights.aclose()

    async def until_waiting(self, key: str, count: int) -> None:
        """Return once ``count`` jobs of this process wait for ``key``'s image."""
        await self._flights.until_callers(key, count)

    async def cached(self, key: str) -> Served | None:
        """The image under ``key`` if it is cached; nothing is made or waited for."""
        cached = await self._read(key)
        return Served(cached, "hit") if cached is not None else None

    async def serve(self, key: str, make: Callable[[], Awaitable[ChainedImage]]) -> Served:
        """The image under ``key``: from the cache, from a call in flight, or from ``make()``,
        whose image is then cached. ``make`` runs in a task of its own, shared by every caller
        of ``key`` meanwhile; one that leaves does not cancel it, the last one to leave does."""
        cached = await self.cached(key)
        if cached is not None:
            return cached
        (image, made), joined = await self._flights.run(key, lambda: self._produce(key, make))
        if made and not joined:
            return Served(image, "miss")
        return Served(replace(image, attempts=0), "coalesced")  # its calls were another job's

    async def refresh(self, key: str, make: Callable[[], Awaitable[ChainedImage]]) -> Served:
        """A new image from ``make()``, whatever is cached; it replaces the cached one."""
        image = await make()
        await self.store.set(key, _encode(image))
        return Served(image, "bypass")

    async def _produce(
        self, key: str, make: Callable[[], Awaitable[ChainedImage]]
    ) -> tuple[ChainedImage, bool]:
        """The image and whether this process made it."""
        if self._locks is None:
            image = await make()
            await self.store.set(key, _encode(image))
            return image, True
        elsewhere, token = await self._locks.claim(key, lambda: self._read(key))
        if elsewhere is not None:
            return elsewhere, False
        outcome = "abandoned"  # what the waiters are told unless it is made or fails
        try:
            # Another replica may have made it between this caller's read and the lock.
            cached = await self._read(key)
            if cached is not None:
                outcome = "made"
                return cached, False
            if cancel_requested():  # a Redis command above lost the cancellation
                raise asyncio.CancelledError
            try:
                image = await make()
            except Exception:
                outcome = "failed"
                raise
            await self.store.set(key, _encode(image))
            outcome = "made"
        finally:
            if token:
                await self._locks.release(key, token, outcome=outcome)
        return image, True

    async def _read(self, key: str) -> ChainedImage | None:
        data = await self.store.get(key)
        return _decode(data) if data is not None else None


def _encode(chained: ChainedImage) -> bytes:
    image = chained.image
    return image_pb2.ImageResult(
        image=image.data,
        sha256=image.sha256,
        media_type=image.media_type,
        width=image.width,
        height=image.height,
        provider=chained.provider,
        model=image.model,
    ).SerializeToString()


def _decode(data: bytes) -> ChainedImage:
    stored = image_pb2.ImageResult.FromString(data)
    image = GeneratedImage(
        data=stored.image,
        media_type=stored.media_type,
        width=stored.width,
        height=stored.height,
        model=stored.model,
        known_sha256=stored.sha256,  # absent from an entry an older version stored: worked out
    )
    return ChainedImage(image, stored.provider, attempts=0)
