"""The social card: a 1200x630 PNG with the title, the client (unless anonymous) and the
headline metric, drawn with the image renderer's typefaces in the brand's colours."""

from __future__ import annotations

import math

from PIL import Image, ImageDraw

from casecraft import brand
from casecraft.exports.source import Export, Source
from casecraft.v1 import case_study_pb2
from image_service.render import decode_logo, theme

SIZE = (1200, 630)
_MARGIN = 64


def render(src: Source) -> Export:
    width, height = SIZE
    p = src.palette
    image = _background(p)
    draw = ImageDraw.Draw(image, "RGBA")
    metric = headline_metric(src.study)
    panel_w = 400 if metric is not None else 0
    text_w = width - 2 * _MARGIN - (panel_w + 48 if panel_w else 0)

    top = _MARGIN
    if src.options.logo:
        top = _logo(image, src.options.logo, (_MARGIN, _MARGIN)) + 28
    eyebrow = theme.face(22, "semibold")
    theme.draw_text(draw, (_MARGIN, top), "CASE STUDY", eyebrow, p.on_accent)
    top += 44

    bottom = height - _MARGIN
    if not src.anonymous:
        client = theme.fit(
            src.study.client_name, (text_w, 40), max_size=30, min_size=20, weight="semibold"
        )
        bottom -= client.height
        theme.draw_block(draw, (_MARGIN, bottom), client, p.on_accent)
        bottom -= 20
    title = theme.fit(
        src.title, (text_w, bottom - top), max_size=64, min_size=30, weight="bold", max_lines=4
    )
    theme.draw_block(draw, (_MARGIN, top), title, p.on_accent)

    if metric is not None:
        _metric_panel(
            draw, metric, (width - _MARGIN - panel_w, _MARGIN, width - _MARGIN, height - _MARGIN), p
        )
    return Export(theme.encode_png(image), "image/png", f"{src.slug}-card.png")


def headline_metric(study: case_study_pb2.CaseStudy) -> case_study_pb2.Metric | None:
    """The metric that changed most for the better (by its parsed change), else the first."""
    best: tuple[float, int] | None = None
    for index, metric in enumerate(study.metrics):
        if not metric.HasField("change_percent") or not math.isfinite(metric.change_percent):
            continue
        better = (metric.change_percent < 0) == metric.lower_is_better
        if better and (best is None or abs(metric.change_percent) > best[0]):
            best = (abs(metric.change_percent), index)
    if best is not None:
        return study.metrics[best[1]]
    return study.metrics[0] if study.metrics else None


def _background(p: brand.Palette) -> Image.Image:
    width, height = SIZE
    mask = Image.linear_gradient("L").rotate(90).resize((width, height))
    return Image.composite(
        Image.new("RGB", SIZE, p.accent_deep), Image.new("RGB", SIZE, p.accent), mask
    )


def _logo(image: Image.Image, data: bytes, origin: tuple[int, int]) -> int:
    try:
        logo = decode_logo(data)
    except ValueError:
        return origin[1] - 28
    logo.thumbnail((200, 64), Image.Resampling.LANCZOS)
    pad = 14
    x, y = origin
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle(
        (x, y, x + logo.width + 2 * pad, y + logo.height + 2 * pad), 14, fill=theme.WHITE
    )
    image.paste(logo, (x + pad, y + pad), logo)
    return y + logo.height + 2 * pad


def _metric_panel(
    draw: ImageDraw.ImageDraw,
    metric: case_study_pb2.Metric,
    box: tuple[int, int, int, int],
    p: brand.Palette,
) -> None:
    x0, y0, x1, y1 = box
    draw.rounded_rectangle(box, 24, fill=theme.WHITE)
    inner = x1 - x0 - 64
    big_text = metric.improvement or metric.after or "–"
    big = theme.fit(big_text, (inner, 190), max_size=88, min_size=40, weight="bold", max_lines=2)
    label = theme.fit(
        metric.label or "Result",
        (inner, 90),
        max_size=32,
        min_size=22,
        weight="semibold",
        max_lines=2,
    )
    change = f"{metric.before} → {metric.after}" if metric.before and metric.after else ""
    detail = theme.fit(change, (inner, 40), max_size=28, min_size=18) if change else None
    block_h = big.height + 16 + label.height + (12 + detail.height if detail else 0)
    y = y0 + (y1 - y0 - block_h) // 2
    y += theme.draw_block(draw, (x0 + 32, y), big, p.accent_ink) + 16
    y += theme.draw_block(draw, (x0 + 32, y), label, theme.INK) + 12
    if detail:
        theme.draw_block(draw, (x0 + 32, y), detail, theme.MUTED)
