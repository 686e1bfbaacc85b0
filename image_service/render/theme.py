"""Palette, typefaces and text layout shared by the renderers."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from io import BytesIO
from typing import Literal

from PIL import Image, ImageDraw, ImageFont

from casecraft import brand

Color = tuple[int, int, int]
Weight = Literal["regular", "semibold", "bold"]

INK: Color = (15, 23, 42)
TEXT: Color = (51, 65, 85)
MUTED: Color = (100, 116, 139)
RULE: Color = (226, 232, 240)
CANVAS: Color = (241, 245, 249)
CARD: Color = (255, 255, 255)
SHADOW: Color = (222, 228, 237)
WHITE: Color = (255, 255, 255)

BRAND: Color = (37, 70, 214)
BRAND_DARK: Color = (17, 24, 84)
BRAND_SOFT: Color = (224, 231, 255)
ACCENT: Color = (20, 184, 166)

GOOD: Color = (4, 120, 87)
GOOD_SOFT: Color = (209, 250, 229)
BAD: Color = (185, 28, 28)
BAD_SOFT: Color = (254, 226, 226)
NEUTRAL_SOFT: Color = (226, 232, 240)

# Bars are the only shapes drawn in these two colours, so their pixel lengths can be measured.
BAR_BEFORE: Color = (160, 174, 192)
BAR_AFTER: Color = (37, 99, 235)
BAR_TRACK: Color = (238, 242, 247)

MIN_SIDE = 200
MAX_SIDE = 4096


@dataclass(frozen=True)
class Palette:
    """The brand colours of one image; `DEFAULT_PALETTE` unless the job names an accent."""

    brand: Color
    brand_dark: Color
    brand_soft: Color
    accent: Color
    bar_after: Color
    # Text on the hero's background (brand_dark to brand); AA on both ends.
    on_brand: Color
    subtitle: Color
    eyebrow: Color
    # The brand colour as text on the light canvas.
    brand_text: Color
    # The hero's decorative circles: they move the background away from the text colour.
    glow: Color


DEFAULT_PALETTE = Palette(
    brand=BRAND,
    brand_dark=BRAND_DARK,
    brand_soft=BRAND_SOFT,
    accent=ACCENT,
    bar_after=BAR_AFTER,
    on_brand=WHITE,
    subtitle=(199, 210, 254),
    eyebrow=(165, 180, 252),
    brand_text=BRAND,
    glow=WHITE,
)


def palette_for(accent: Color | None) -> Palette:
    """The palette drawn with `accent` (#RRGGBB parsed), or the default one for None."""
    if accent is None:
        return DEFAULT_PALETTE
    colours = brand.palette(accent)
    on = colours.on_accent
    return Palette(
        brand=accent,
        brand_dark=colours.accent_deep,
        brand_soft=colours.accent_soft,
        accent=brand.mix(on, accent, 0.35),
        bar_after=brand.readable(accent, BAR_TRACK, brand.AA_GRAPHICS),
        on_brand=on,
        subtitle=brand.readable(brand.mix(on, accent, 0.3), accent),
        eyebrow=brand.readable(brand.mix(on, accent, 0.4), accent),
        brand_text=brand.readable(accent, CANVAS),
        glow=brand.BLACK if on == WHITE else WHITE,
    )


# Source Sans Pro (SIL Open Font License 1.1, OFL.txt beside the fonts), shipped in the package.
FONTS = resources.files(__package__) / "assets" / "fonts"
_FONT_FILES: dict[Weight, str] = {
    "regular": "SourceSansPro-Regular.ttf",
    "semibold": "SourceSansPro-Semibold.ttf",
    "bold": "SourceSansPro-Bold.ttf",
}
_SUBSTITUTES = {
    "→": "->",
    "←": "<-",
    "—": " - ",
    "–": "-",
    "‑": "-",
    "•": "·",
    "×": "x",
    "≈": "~",
    "≤": "<=",
    "≥": ">=",
    "€": "EUR ",
    "\u00a0": " ",
}


@dataclass(frozen=True)
class Face:
    """A font at one size and weight."""

    font: ImageFont.FreeTypeFont
    size: int

    @property
    def line_height(self) -> int:
        return round(self.size * 1.22)

    def width(self, text: str) -> int:
        return round(self.font.getlength(text))


@lru_cache(maxsize=256)
def face(size: int, weight: Weight = "regular") -> Face:
    """Source Sans Pro at ``size`` pixels."""
    size = max(6, int(size))
    data = (FONTS / _FONT_FILES[weight]).read_bytes()
    return Face(ImageFont.truetype(BytesIO(data), size), size)


@lru_cache(maxsize=4)
def _missing_glyph(weight: Weight) -> tuple[tuple[int, int], bytes]:
    missing = face(24, weight).font.getmask("\uffff")
    return missing.size, bytes(missing)


@lru_cache(maxsize=4096)
def _has_glyph(weight: Weight, char: str) -> bool:
    glyph = face(24, weight).font.getmask(char)
    return (glyph.size, bytes(glyph)) != _missing_glyph(weight)


def displayable(text: str, weight: Weight = "regular") -> str:
    """`text` with characters the typeface lacks replaced by close equivalents (é -> e, → -> ->)."""
    out: list[str] = []
    for char in text:
        if char.isascii() or _has_glyph(weight, char):
            out.append(char)
        elif char in _SUBSTITUTES:
            out.append(_SUBSTITUTES[char])
        else:
            base = "".join(
                c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c)
            )
            out.append(base if base and all(_has_glyph(weight, c) for c in base) else char)
    return "".join(out)


def room_for(fc: Face, width: int, lines: int = 1) -> int:
    """More characters than `lines` lines `width` pixels wide can show at this size.

    No glyph that moves the pen is narrower than a twelfth of the size in either font (the
    narrowest are about a ninth), so text past this many characters never needs measuring.
    """
    return max(1, lines) * (max(0, width) * 12 // max(1, fc.size) + 2)


def line(text: str, fc: Face, max_width: int, weight: Weight = "regular") -> str:
    """`text` in glyphs the typeface has, cut to fit `max_width` with an ellipsis when it was cut."""
    room = room_for(fc, max_width)
    return _one_line(displayable(text[:room], weight), fc, max_width, cut=len(text) > room)


def paragraph(
    text: str, fc: Face, max_width: int, max_lines: int, weight: Weight = "regular"
) -> list[str]:
    """`text` in glyphs the typeface has, word-wrapped to at most `max_lines` lines."""
    collapsed = " ".join(text.split())
    room = room_for(fc, max_width, max_lines + 1)
    shown = " ".join(displayable(collapsed[:room], weight).split())
    return _wrap(shown, fc, max_width, max_lines, cut=len(collapsed) > room)


def ellipsize(text: str, fc: Face, max_width: int) -> str:
    """`text` cut to fit `max_width`, ending with an ellipsis when it was cut."""
    return _one_line(text, fc, max_width, cut=False)


def _wrap(text: str, fc: Face, max_width: int, max_lines: int, *, cut: bool) -> list[str]:
    """Single-spaced `text` in at most `max_lines` lines; `cut` says text was dropped after it."""
    lines = _lines(text, fc, max_width, limit=max_lines + 1)
    if len(lines) <= max_lines and not cut:
        return lines
    kept = lines[:max_lines]
    if len(lines) > max_lines:
        kept[-1] = ellipsize(kept[-1] + " " + lines[max_lines], fc, max_width)
    if not kept[-1].endswith("…"):
        kept[-1] = ellipsize(kept[-1] + "…", fc, max_width)
    return kept


def _lines(text: str, fc: Face, max_width: int, *, limit: int | None) -> list[str]:
    """Greedy word wrap of single-spaced `text` into at most `limit` lines.

    Each line is the longest prefix that fits, backed off to its last space (or split inside a
    word wider than the line), found in O(log length) measurements.
    """
    lines: list[str] = []
    room = room_for(fc, max_width)
    start = fitting = 0
    while start < len(text) and (limit is None or len(lines) < limit):
        fitting = _longest_prefix(text[start : start + room], fc, max_width, guess=fitting)
        end = start + fitting
        if end == len(text):
            lines.append(text[start:])
            break
        space = end if text[end] == " " else text.rfind(" ", start, end)
        if space > start:
            lines.append(text[start:space])
            start = space + 1
        else:
            end = max(end, start + 1)
            lines.append(text[start:end])
            start = end + text.startswith(" ", end)
    return lines


def _longest_prefix(text: str, fc: Face, max_width: int, guess: int) -> int:
    """The length of the longest prefix of `text` at most `max_width` wide (0 when none is).

    Without a `guess`, starts from the length that would fit if the text were as wide throughout.
    """
    widths: dict[int, int] = {}

    def fits(length: int) -> bool:
        if length not in widths:
            widths[length] = fc.width(text[:length])
        return widths[length] <= max_width

    if not guess and text:
        whole = len(text)
        guess = whole if fits(whole) else whole * max_width // max(1, widths[whole])
    return _last_fitting(len(text), fits, guess)


def _one_line(text: str, fc: Face, max_width: int, *, cut: bool) -> str:
    """`text` if it fits and `cut` is False, else its longest prefix that fits with an ellipsis."""
    room = room_for(fc, max_width)
    head = text[:room]
    width = fc.width(head)
    if width <= max_width and len(text) <= room and not cut:
        return text

    def fits(length: int) -> bool:
        return fc.width(head[:length].rstrip() + "…") <= max_width

    length = _last_fitting(len(head), fits, guess=len(head) * max_width // max(1, width))
    return (head[:length].rstrip() + "…") if length else ""


def _last_fitting(count: int, fits: Callable[[int], bool], guess: int) -> int:
    """The largest length in 1..count that `fits`, or 0; `fits` holds up to some length, not after.

    Gallops from `guess` in steps of 1, 2, 4, ... and then bisects: about 2 log2(miss) calls,
    where `miss` is how far the guess was off, and at most about 2 log2(count).
    """
    if count <= 0:
        return 0
    low, high = 0, count + 1  # fits(low) holds (or low is 0); fits(high) fails (or is past count)
    probe, step = min(max(guess, 1), count), 1
    if fits(probe):
        low = probe
        while low < count:
            probe = min(low + step, count)
            if not fits(probe):
                high = probe
                break
            low, step = probe, step * 2
    else:
        high = probe
        while high - step > 0:
            probe = high - step
            if fits(probe):
                low = probe
                break
            high, step = probe, step * 2
    while high - low > 1:
        middle = (low + high) // 2
        if fits(middle):
            low = middle
        else:
            high = middle
    return low


@dataclass(frozen=True)
class TextBlock:
    face: Face
    lines: list[str]

    @property
    def height(self) -> int:
        return len(self.lines) * self.face.line_height

    @property
    def width(self) -> int:
        return max((self.face.width(line) for line in self.lines), default=0)


def fit(
    text: str,
    box: tuple[int, int],
    *,
    max_size: int,
    min_size: int,
    weight: Weight = "regular",
    max_lines: int = 1,
) -> TextBlock:
    """The largest size (down to `min_size`) at which `text` fits `box`; truncated below that."""
    box_w, box_h = box
    collapsed = " ".join(text.split())
    room = room_for(face(min_size, weight), box_w, max_lines + 1)
    cut = len(collapsed) > room
    text = " ".join(displayable(collapsed[:room], weight).split())
    size = max(max_size, min_size)
    while True:
        fc = face(size, weight)
        lines_that_fit = min(max_lines, box_h // fc.line_height)
        lines = _lines(text, fc, box_w, limit=lines_that_fit + 1)
        fits = len(lines) <= lines_that_fit and not cut
        if fits or size <= min_size:
            break
        size = max(min_size, size - max(1, size // 12))
    if not fits:
        lines = _wrap(text, fc, box_w, max(1, lines_that_fit), cut=cut)
    return TextBlock(fc, lines)


def draw_block(
    draw: ImageDraw.ImageDraw,
    xy: tuple[float, float],
    block: TextBlock,
    fill: Color,
    *,
    align: Literal["left", "right", "center"] = "left",
    width: int = 0,
) -> int:
    """Draws the lines from their top-left (or aligned within `width`); returns the block height."""
    x, y = xy
    for line in block.lines:
        dx = 0.0
        if align != "left":
            free = width - block.face.width(line)
            dx = free if align == "right" else free / 2
        draw_text(draw, (x + dx, y), line, block.face, fill)
        y += block.face.line_height
    return block.height


def draw_text(
    draw: ImageDraw.ImageDraw,
    xy: tuple[float, float],
    text: str,
    fc: Face,
    fill: Color,
    *,
    anchor: str = "la",
) -> None:
    draw.text(xy, text, font=fc.font, fill=fill, anchor=anchor)


def mix(a: Color, b: Color, t: float) -> Color:
    """The colour `t` of the way from `a` to `b`."""
    return (
        round(a[0] + (b[0] - a[0]) * t),
        round(a[1] + (b[1] - a[1]) * t),
        round(a[2] + (b[2] - a[2]) * t),
    )


def check_size(size: tuple[int, int]) -> tuple[int, int]:
    width, height = size
    for name, value in (("width", width), ("height", height)):
        if not MIN_SIDE <= value <= MAX_SIDE:
            raise ValueError(f"image {name} must be {MIN_SIDE}..{MAX_SIDE} pixels, got {value}")
    return int(width), int(height)


def encode_png(image: Image.Image) -> bytes:
    buffer = BytesIO()
    image.save(buffer, format="PNG", optimize=False, compress_level=3)
    return buffer.getvalue()
