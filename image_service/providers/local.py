"""The embedded image provider: draws the visuals from the job's typed data with Pillow."""

from __future__ import annotations

import asyncio

from casecraft import brand
from casecraft.v1 import image_pb2
from image_service import render
from image_service.providers import GeneratedImage


class LocalRenderer:
    """Renders PNGs locally; deterministic, offline, and exact about the numbers it charts."""

    name = "local"
    model = "casecraft-local-renderer"

    async def generate(self, job: image_pb2.ImageJob) -> GeneratedImage:
        kind = job.WhichOneof("data")
        if kind is None:
            raise ValueError("image job has no data: set one of hero, metrics or timeline")
        options = job.options
        size = render.render_size(options.width, options.height, fast=options.fast)
        accent = brand.parse_hex(options.accent_color) if options.accent_color else None
        palette = render.palette_for(accent)
        if kind == "hero":
            logo = job.reference_image or None
            data = await asyncio.to_thread(
                render.render_hero, job.hero, logo=logo, size=size, palette=palette
            )
        elif kind == "metrics":
            if not job.metrics.metrics:
                raise ValueError("metrics job needs at least one metric in metrics.metrics")
            data = await asyncio.to_thread(
                render.render_metrics, job.metrics, size=size, palette=palette
            )
        else:
            if not job.timeline.phases:
                raise ValueError("timeline job needs at least one phase in timeline.phases")
            data = await asyncio.to_thread(
                render.render_timeline, job.timeline, size=size, palette=palette
            )
        return GeneratedImage(
            data=data, media_type="image/png", width=size[0], height=size[1], model=self.model
        )
