"""The metrics dashboard: one card per metric with a before/after bar pair drawn to scale."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from PIL import Image, ImageDraw

from casecraft import brand
from casecraft.v1 import case_study_pb2, image_pb2
from image_service.render import theme
from image_service.render.theme import Color

Outcome = Literal["better", "worse", "same", "unknown"]

_GAP = 24
# Four across, three down: more cards would shrink the numbers below reading size.
MAX_METRICS_SHOWN = 12
_BADGE: dict[Outcome, tuple[Color, Color]] = {
    "better": (theme.GOOD_SOFT, theme.GOOD),
    "worse": (theme.BAD_SOFT, theme.BAD),
    "same": (theme.NEUTRAL_SOFT, theme.TEXT),
}


def _badge_colours(result: Outcome, palette: theme.Palette) -> tuple[Color, Color]:
    if result == "unknown":
        return palette.brand_soft, brand.readable(palette.brand_text, palette.brand_soft)
    return _BADGE[result]


def render_metrics(
    data: image_pb2.MetricsData,
    *,
    size: tuple[int, int] = (1600, 900),
    palette: theme.Palette = theme.DEFAULT_PALETTE,
) -> bytes:
    """PNG bytes of the dashboard. Raises ValueError when there are no metrics."""
    width, height = theme.check_size(size)
    if not data.metrics:
        raise ValueError("metrics image needs at least one metric")
    s = min(width / 1600, height / 900)
    margin = round(72 * s)
    image = Image.new("RGB", (width, height), theme.CANVAS)
    draw = ImageDraw.Draw(image)

    shown = list(data.metrics[:MAX_METRICS_SHOWN])
    top = _header(draw, data, shown, width, margin, s, palette)
    area = (margin, top, width - margin, height - margin)
    cards = _grid(len(shown), area, round(_GAP * s), max_card_h=round(440 * s))
    for metric, box in zip(shown, cards, strict=True):
        _card(draw, metric, box, palette)
    return theme.encode_png(image)


def bar_values(metric: case_study_pb2.Metric) -> tuple[float, float] | None:
    """(before, after) when both parse to finite, non-negative numbers, else None."""
    if not (metric.HasField("before_value") and metric.HasField("after_value")):
        return None
    before, after = metric.before_value, metric.after_value
    if not (math.isfinite(before) and math.isfinite(after)) or before < 0 or after < 0:
        return None
    return before, after


def outcome(metric: case_study_pb2.Metric) -> Outcome:
    """Whether the change is an improvement, given `lower_is_better`."""
    if metric.HasField("before_value") and metric.HasField("after_value"):
        change = metric.after_value - metric.before_value
    elif metric.HasField("change_percent"):
        change = metric.change_percent
    else:
        return "unknown"
    if not math.isfinite(change):
        return "unknown"
    if change == 0:
        return "same"
    return "better" if (change < 0) == metric.lower_is_better else "worse"


def _badge_text(metric: case_study_pb2.Metric) -> str:
    if metric.improvement.strip():
        return metric.improvement.strip()
    change = metric.change_percent if metric.HasField("change_percent") else None
    values = bar_values(metric)
    if change is None and values and values[0]:
        change = (values[1] - values[0]) / values[0] * 100
    if change is None or not math.isfinite(change):
        return ""
    return f"{change:+.0f}%"


def _header(
    draw: ImageDraw.ImageDraw,
    data: image_pb2.MetricsData,
    shown: list[case_study_pb2.Metric],
    width: int,
    margin: int,
    s: float,
    palette: theme.Palette,
) -> int:
    eyebrow = theme.face(round(20 * s), "semibold")
    count = len(data.metrics)
    label = f"RESULTS · THE FIRST {len(shown)} OF {count}" if count > len(shown) else "RESULTS"
    theme.draw_text(draw, (margin, margin), label, eyebrow, palette.brand_text)
    client = " ".join(data.client_name.split())
    legend_w = (
        _legend(draw, (width - margin, margin + round(44 * s)), s, palette)
        if any(bar_values(m) for m in shown)
        else 0
    )
    title = theme.fit(
        f"Measurable impact at {client}" if client else "Measurable impact",
        (width - 2 * margin - legend_w - round(40 * s), round(60 * s)),
        max_size=round(44 * s),
        min_size=max(10, round(26 * s)),
        weight="bold",
    )
    theme.draw_block(draw, (margin, margin + round(34 * s)), title, theme.INK)
    return margin + round(34 * s) + max(title.height, round(54 * s)) + round(28 * s)


def _legend(
    draw: ImageDraw.ImageDraw, right_middle: tuple[int, int], s: float, palette: theme.Palette
) -> int:
    fc = theme.face(round(20 * s), "semibold")
    swatch, gap = round(16 * s), round(10 * s)
    x, y = right_middle
    start = x
    for label, colour in (("After", palette.bar_after), ("Before", theme.BAR_BEFORE)):
        x -= fc.width(label)
        theme.draw_text(draw, (x, y), label, fc, theme.TEXT, anchor="lm")
        x -= gap + swatch
        draw.rounded_rectangle(
            (x, y - swatch // 2, x + swatch - 1, y + swatch // 2), max(1, swatch // 4), fill=colour
        )
        x -= round(28 * s)
    return start - x


def _grid(
    count: int, area: tuple[int, int, int, int], gap: int, *, max_card_h: int
) -> list[tuple[int, int, int, int]]:
    columns = {1: 1, 2: 2, 3: 3, 4: 2}.get(count) or (3 if count <= 6 else 4)
    rows = math.ceil(count / columns)
    x0, y0, x1, y1 = area
    card_w = (x1 - x0 - gap * (columns - 1)) / columns
    card_h = min(max_card_h, (y1 - y0 - gap * (rows - 1)) / rows)
    y0 += round((y1 - y0 - rows * card_h - gap * (rows - 1)) / 3)
    boxes = []
    for index in range(count):
        row, col = divmod(index, columns)
        left = round(x0 + col * (card_w + gap))
        top = round(y0 + row * (card_h + gap))
        boxes.append((left, top, round(left + card_w), round(top + card_h)))
    return boxes


@dataclass(frozen=True)
class _Card:
    x0: int
    y0: int
    x1: int
    y1: int
    u: float

    def px(self, value: float) -> int:
        return max(1, round(value * self.u))


def _card(
    draw: ImageDraw.ImageDraw,
    metric: case_study_pb2.Metric,
    box: tuple[int, int, int, int],
    palette: theme.Palette,
) -> None:
    x0, y0, x1, y1 = box
    card = _Card(x0, y0, x1, y1, min((x1 - x0) / 440, (y1 - y0) / 300, 1.4))
    radius = card.px(16)
    draw.rounded_rectangle((x0, y0 + card.px(3), x1, y1 + card.px(3)), radius, fill=theme.SHADOW)
    draw.rounded_rectangle(
        (x0, y0, x1, y1), radius, fill=_badge_colours(outcome(metric), palette)[1]
    )
    draw.rounded_rectangle((x0, y0 + card.px(5), x1, y1), radius, fill=theme.CARD)

    pad = card.px(28)
    left, right = x0 + pad, x1 - pad
    inner_w = right - left
    y = y0 + pad

    label = theme.fit(
        metric.label or "Metric",
        (inner_w, card.px(58)),
        max_size=card.px(22),
        min_size=card.px(15),
        weight="semibold",
        max_lines=2,
    )
    y += theme.draw_block(draw, (left, y), label, theme.TEXT) + card.px(8)

    big = theme.fit(
        metric.after or metric.improvement or "–",
        (inner_w, card.px(80)),
        max_size=card.px(60),
        min_size=card.px(24),
        weight="bold",
    )
    y += theme.draw_block(draw, (left, y), big, theme.INK) + card.px(8)

    values = bar_values(metric)
    badge_right = _badge(draw, metric, (left, y), inner_w, card, palette)
    if metric.before.strip() and values is not None:
        fc = theme.face(card.px(19))
        x = badge_right + card.px(12) if badge_right > left else left
        text = theme.line("from " + " ".join(metric.before.split()), fc, right - x)
        theme.draw_text(draw, (x, y + card.px(17)), text, fc, theme.MUTED, anchor="lm")

    bar_h, bar_gap = card.px(16), card.px(12)
    bars_top = y1 - pad - 2 * bar_h - bar_gap
    fc = theme.face(card.px(17), "semibold")
    label_w = max(fc.width("Before"), fc.width("After")) + card.px(14)
    rows = (("Before", theme.BAR_BEFORE, 0), ("After", palette.bar_after, 1))
    for index, (name, colour, which) in enumerate(rows):
        top = bars_top + index * (bar_h + bar_gap)
        theme.draw_text(draw, (left, top + bar_h / 2), name, fc, theme.MUTED, anchor="lm")
        track = (left + label_w, top, right, top + bar_h)
        if values is None:
            text = metric.before if which == 0 else metric.after
            value_fc = theme.face(card.px(17))
            shown = theme.line(" ".join(text.split()) or "–", value_fc, right - track[0])
            theme.draw_text(
                draw, (track[0], top + bar_h / 2), shown, value_fc, theme.INK, anchor="lm"
            )
            continue
        _bar(draw, track, values[which], max(values), colour)


def _bar(
    draw: ImageDraw.ImageDraw,
    track: tuple[int, int, int, int],
    value: float,
    scale: float,
    colour: Color,
) -> None:
    """A bar exactly `value / scale` of the track's width (in whole pixels) on a light track."""
    x0, y0, x1, y1 = track
    radius = max(1, (y1 - y0) // 3)
    draw.rounded_rectangle((x0, y0, x1 - 1, y1 - 1), radius, fill=theme.BAR_TRACK)
    length = round((x1 - x0) * value / scale) if scale > 0 else 0
    if length > 0:
        draw.rounded_rectangle(
            (x0, y0, x0 + length - 1, y1 - 1), min(radius, length // 2), fill=colour
        )


def _badge(
    draw: ImageDraw.ImageDraw,
    metric: case_study_pb2.Metric,
    origin: tuple[int, int],
    max_w: int,
    card: _Card,
    palette: theme.Palette,
) -> int:
    """Draws the improvement pill; returns its right edge (the origin's x when there is none)."""
    x, y = origin
    text = _badge_text(metric)
    if not text:
        return x
    fill, ink = _badge_colours(outcome(metric), palette)
    fc = theme.face(card.px(18), "semibold")
    height, pad = card.px(34), card.px(14)
    values = bar_values(metric)
    arrow = card.px(10) if values and values[0] != values[1] else 0
    arrow_room = arrow + card.px(8) if arrow else 0
    shown = theme.line(text, fc, round(max_w * 0.7) - 2 * pad - arrow_room, "bold")
    width = fc.width(shown) + 2 * pad + arrow_room
    draw.rounded_rectangle((x, y, x + width, y + height), height // 2, fill=fill)
    middle = y + height / 2
    if arrow and values:
        ax = x + pad
        half = arrow / 2
        if values[1] < values[0]:
            points = [
                (ax, middle - half * 0.8),
                (ax + arrow, middle - half * 0.8),
                (ax + half, middle + half),
            ]
        else:
            points = [
                (ax, middle + half * 0.8),
                (ax + arrow, middle + half * 0.8),
                (ax + half, middle - half),
            ]
        draw.polygon(points, fill=ink)
    theme.draw_text(draw, (x + pad + arrow_room, middle), shown, fc, ink, anchor="lm")
    return x + width
