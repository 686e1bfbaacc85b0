"""Renders the case study's visuals from typed data with Pillow: no network, no model."""

from __future__ import annotations

from image_service.render.dashboard import render_metrics
from image_service.render.hero import decode_logo, render_hero
from image_service.render.theme import DEFAULT_PALETTE, MAX_SIDE, MIN_SIDE, Palette, palette_for
from image_service.render.timeline import render_timeline

DEFAULT_SIZE = (1600, 900)

__all__ = [
    "DEFAULT_PALETTE",
    "DEFAULT_SIZE",
    "MAX_SIDE",
    "MIN_SIDE",
    "Palette",
    "decode_logo",
    "palette_for",
    "render_hero",
    "render_metrics",
    "render_size",
    "render_timeline",
    "requested_size",
]


def render_size(
    width: int, height: int, *, fast: bool, default: tuple[int, int] = DEFAULT_SIZE
) -> tuple[int, int]:
    """The pixel size to draw: explicit width/height win, else the default (halved when fast).

    One side alone keeps the default's aspect ratio. Raises ValueError outside MIN_SIDE..MAX_SIDE.
    """
    size = requested_size(width, height, fast=fast, default=default)
    for name, value in zip(("width", "height"), size, strict=True):
        if not MIN_SIDE <= value <= MAX_SIDE:
            raise ValueError(f"image {name} must be {MIN_SIDE}..{MAX_SIDE} pixels, got {value}")
    return size


def requested_size(
    width: int, height: int, *, fast: bool, default: tuple[int, int] = DEFAULT_SIZE
) -> tuple[int, int]:
    """The size `render_size` would draw, before it checks the bounds."""
    base_w, base_h = default
    if fast:
        base_w, base_h = base_w // 2, base_h // 2
    if width and height:
        return (width, height)
    if width:
        return (width, round(width * base_h / base_w))
    if height:
        return (round(height * base_w / base_h), height)
    return (base_w, base_h)
