"""The implementation timeline: phases as segments on an axis, or a numbered list when many."""

from __future__ import annotations

import math

from PIL import Image, ImageDraw

from casecraft import brand
from casecraft.v1 import case_study_pb2, image_pb2
from image_service.render import theme
from image_service.render.theme import Color

_MAX_ACROSS = 5
# Three columns of six: more rows than that would shrink the text below reading size.
MAX_PHASES_SHOWN = 18


def render_timeline(
    data: image_pb2.TimelineData,
    *,
    size: tuple[int, int] = (1600, 900),
    palette: theme.Palette = theme.DEFAULT_PALETTE,
) -> bytes:
    """PNG bytes of the timeline. Raises ValueError when there are no phases."""
    width, height = theme.check_size(size)
    if not data.phases:
        raise ValueError("timeline image needs at least one phase")
    s = min(width / 1600, height / 900)
    margin = round(72 * s)
    image = Image.new("RGB", (width, height), theme.CANVAS)
    draw = ImageDraw.Draw(image)

    top = _header(draw, data, width, margin, s, palette)
    area = (margin, top, width - margin, height - margin)
    phases = list(data.phases[:MAX_PHASES_SHOWN])
    if len(phases) <= _MAX_ACROSS and width >= height:
        _across(draw, phases, area, s, palette)
    else:
        _down(draw, phases, area, s, palette)
    return theme.encode_png(image)


def phase_colour(index: int, count: int, palette: theme.Palette = theme.DEFAULT_PALETTE) -> Color:
    return theme.mix(palette.brand, palette.accent, index / (count - 1) if count > 1 else 0)


def _header(
    draw: ImageDraw.ImageDraw,
    data: image_pb2.TimelineData,
    width: int,
    margin: int,
    s: float,
    palette: theme.Palette,
) -> int:
    eyebrow = theme.face(round(20 * s), "semibold")
    theme.draw_text(draw, (margin, margin), "IMPLEMENTATION", eyebrow, palette.brand_text)
    count = len(data.phases)
    note_fc = theme.face(round(22 * s))
    note_room = round((width - 2 * margin) * 0.4)
    client = " ".join(data.client_name.split())
    client = theme.displayable(client[: theme.room_for(note_fc, note_room)])
    if count > MAX_PHASES_SHOWN:
        phases = f"the first {MAX_PHASES_SHOWN} of {count} phases"
    else:
        phases = "1 phase" if count == 1 else f"{count} phases"
    note = f"{client} · {phases}" if client else phases
    title_y = margin + round(34 * s)
    note = theme.ellipsize(note, note_fc, note_room)
    note_w = note_fc.width(note)
    theme.draw_text(
        draw,
        (width - margin - note_w, title_y + round(30 * s)),
        note,
        note_fc,
        theme.MUTED,
        anchor="lm",
    )
    title = theme.fit(
        "How the engagement unfolded",
        (width - 2 * margin - note_w - round(40 * s), round(60 * s)),
        max_size=round(44 * s),
        min_size=max(10, round(26 * s)),
        weight="bold",
    )
    theme.draw_block(draw, (margin, title_y), title, theme.INK)
    return title_y + max(title.height, round(54 * s)) + round(40 * s)


def _marker(
    draw: ImageDraw.ImageDraw, centre: tuple[float, float], radius: int, number: int, colour: Color
) -> None:
    cx, cy = centre
    ring = max(2, round(radius * 0.22))
    draw.ellipse(
        (cx - radius - ring, cy - radius - ring, cx + radius + ring, cy + radius + ring),
        fill=theme.WHITE,
    )
    draw.ellipse((cx - radius, cy - radius, cx + radius, cy + radius), fill=colour)
    fc = theme.face(round(radius * 1.05), "bold")
    ink = brand.text_on(colour)
    theme.draw_text(draw, (cx, cy), str(number), fc, ink, anchor="mm")


def _across(
    draw: ImageDraw.ImageDraw,
    phases: list[case_study_pb2.Phase],
    area: tuple[int, int, int, int],
    s: float,
    palette: theme.Palette,
) -> None:
    x0, y0, x1, y1 = area
    count = len(phases)
    gap, pad, radius, bar_h = round(20 * s), round(26 * s), round(26 * s), round(12 * s)
    column_w = (x1 - x0 - gap * (count - 1)) / count
    inner_w = round(column_w) - 2 * pad
    period_fc = theme.face(round(22 * s), "semibold")
    text_fc = theme.face(round(21 * s))
    axis_offset = round(period_fc.line_height + 44 * s)
    card_offset = axis_offset + radius + round(34 * s)
    rule_gap = round(14 * s) + round(22 * s)

    names = [
        theme.fit(
            phase.name or f"Phase {index + 1}",
            (inner_w, round(80 * s)),
            max_size=round(30 * s),
            min_size=max(9, round(20 * s)),
            weight="bold",
            max_lines=2,
        )
        for index, phase in enumerate(phases)
    ]
    room = y1 - y0 - card_offset - 2 * pad - max(n.height for n in names) - rule_gap
    max_lines = max(1, room // text_fc.line_height)
    descriptions = [
        theme.TextBlock(text_fc, theme.paragraph(p.description, text_fc, inner_w, max_lines))
        for p in phases
    ]
    content = max(n.height + rule_gap + d.height for n, d in zip(names, descriptions, strict=True))
    card_h = min(
        y1 - y0 - card_offset, max(content + 2 * pad, round((y1 - y0 - card_offset) * 0.55))
    )
    top = y0 + (y1 - y0 - card_offset - card_h) // 3
    axis_y, card_top, card_bottom = top + axis_offset, top + card_offset, top + card_offset + card_h

    for index, phase in enumerate(phases):
        colour = phase_colour(index, count, palette)
        left = round(x0 + index * (column_w + gap))
        right = round(left + column_w)
        draw.rounded_rectangle(
            (left, axis_y - bar_h // 2, right, axis_y + bar_h // 2), bar_h // 2, fill=colour
        )
        if phase.period.strip():
            period = theme.line(" ".join(phase.period.split()), period_fc, right - left, "semibold")
            theme.draw_text(
                draw,
                (left, axis_y - radius - round(14 * s)),
                period,
                period_fc,
                brand.readable(colour, theme.CANVAS),
                anchor="ls",
            )
        _marker(draw, (left + radius + round(4 * s), axis_y), radius, index + 1, colour)

        corner = round(16 * s)
        draw.rounded_rectangle(
            (left, card_top + round(3 * s), right, card_bottom + round(3 * s)),
            corner,
            fill=theme.SHADOW,
        )
        draw.rounded_rectangle((left, card_top, right, card_bottom), corner, fill=theme.CARD)
        y = card_top + pad
        y += theme.draw_block(draw, (left + pad, y), names[index], theme.INK) + round(14 * s)
        draw.rectangle(
            (left + pad, y, left + pad + round(36 * s), y + max(1, round(3 * s))), fill=colour
        )
        theme.draw_block(draw, (left + pad, y + round(22 * s)), descriptions[index], theme.TEXT)


def _down(
    draw: ImageDraw.ImageDraw,
    phases: list[case_study_pb2.Phase],
    area: tuple[int, int, int, int],
    s: float,
    palette: theme.Palette,
) -> None:
    x0, y0, x1, y1 = area
    count = len(phases)
    columns = 1 if count <= 6 else 2 if count <= 12 else 3
    per_column = math.ceil(count / columns)
    gap = round(48 * s)
    column_w = (x1 - x0 - gap * (columns - 1)) / columns
    row_h = (y1 - y0) / per_column
    u = min(1.0, row_h / (110 * s))
    radius = max(6, round(22 * s * u))
    name_fc = theme.face(max(9, round(26 * s * u)), "bold")
    period_fc = theme.face(max(8, round(20 * s * u)), "semibold")
    text_fc = theme.face(max(8, round(19 * s * u)))
    for column in range(columns):
        chunk = phases[column * per_column : (column + 1) * per_column]
        if not chunk:
            continue
        left = round(x0 + column * (column_w + gap))
        right = round(left + column_w)
        cx = left + radius + round(4 * s)
        first_y = y0 + radius
        last_y = y0 + (len(chunk) - 1) * row_h + radius
        draw.line((cx, first_y, cx, last_y), fill=theme.RULE, width=max(2, round(4 * s)))
        text_x = cx + radius + round(24 * s)
        text_w = right - text_x
        for offset, phase in enumerate(chunk):
            index = column * per_column + offset
            colour = phase_colour(index, count, palette)
            top = round(y0 + offset * row_h)
            _marker(draw, (cx, top + radius), radius, index + 1, colour)
            period = " ".join(phase.period.split())
            period = theme.line(period, period_fc, text_w // 3, "semibold") if period else ""
            period_w = period_fc.width(period) if period else 0
            name_room = text_w - (period_w + round(20 * s) if period else 0)
            name = " ".join((phase.name or f"Phase {index + 1}").split())
            name = theme.line(name, name_fc, name_room, "bold")
            name_y = top + radius
            theme.draw_text(draw, (text_x, name_y), name, name_fc, theme.INK, anchor="lm")
            if period:
                theme.draw_text(
                    draw,
                    (right - period_w, name_y),
                    period,
                    period_fc,
                    brand.readable(colour, theme.CANVAS),
                    anchor="lm",
                )
            y = name_y + name_fc.line_height // 2 + round(6 * s * u)
            room = round(top + row_h - round(16 * s * u)) - y
            lines = room // text_fc.line_height
            if phase.description.strip() and lines > 0:
                block = theme.TextBlock(
                    text_fc, theme.paragraph(phase.description, text_fc, text_w, lines)
                )
                theme.draw_block(draw, (text_x, y), block, theme.TEXT)
