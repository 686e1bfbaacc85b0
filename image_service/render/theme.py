"""Palette, typefaces and text layout shared by the renderers."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from io import BytesIO
from typing import Literal

from PIL import Image, ImageDraw, ImageFont

Color = tuple[int, int, int]
Weight = Literal["regular", "semibold", "bold"]

INK: Color = (15, 23, 42)
TEXT: Color = (51, 65, 85)
MUTED: Color = (100, 116, 139)
FAINT: Color = (148, 163, 184)
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

_FONT_PACKAGE = "font_source_sans_pro"
_FONT_FILES: dict[Weight, str] = {
    "regular": "SourceSansPro-Regular.ttf",
    "semibold": "SourceSansPro-Semibold.ttf",
    "bold": "SourceSansPro-Bold.ttf",
}
_FALLBACK_STROKE: dict[Weight, float] = {"regular": 0.0, "semibold": 0.018, "bold": 0.03}
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
    """A font at one size and weight; `stroke` thickens the fallback font for bold."""

    font: ImageFont.FreeTypeFont
    stroke: int
    size: int

    @property
    def line_height(self) -> int:
        return round(self.size * 1.22)

    def width(self, text: str) -> int:
        return round(self.font.getlength(text)) + 2 * self.stroke


@lru_cache(maxsize=1)
def _font_dir() -> resources.abc.Traversable | None:
    try:
        return resources.files(_FONT_PACKAGE) / "files"
    except ModuleNotFoundError:
        return None


def has_full_fonts() -> bool:
    """True when the Source Sans Pro package is installed (real weights, wide glyph coverage)."""
    return _font_dir() is not None


@lru_cache(maxsize=256)
def face(size: int, weight: Weight = "regular") -> Face:
    """The typeface at `size` pixels: Source Sans Pro when installed, else Pillow's own font."""
    size = max(6, int(size))
    directory = _font_dir()
    if directory is not None:
        data = (directory / _FONT_FILES[weight]).read_bytes()
        return Face(ImageFont.truetype(BytesIO(data), size), 0, size)
    font = ImageFont.load_default(size=size)
    if not isinstance(
        font, ImageFont.FreeTypeFont
    ):  # pragma: no cover - Pillow built without FreeType
        raise RuntimeError("Pillow needs FreeType support to render text")
    stroke = round(size * _FALLBACK_STROKE[weight])
    if weight == "bold":
        stroke = max(1, stroke)
    return Face(font, stroke, size)


@lru_cache(maxsize=4096)
def _has_glyph(weight: Weight, char: str) -> bool:
    font = face(24, weight).font
    missing = font.getmask("\uffff")
    glyph = font.getmask(char)
    return bool(glyph.size != missing.size or bytes(glyph) != bytes(missing))


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


def ellipsize(text: str, fc: Face, max_width: int) -> str:
    """`text` cut to fit `max_width`, ending with an ellipsis when it was cut."""
    if fc.width(text) <= max_width:
        return text
    low, high = 0, len(text)
    while low < high:
        mid = (low + high + 1) // 2
        if fc.width(text[:mid].rstrip() + "…") <= max_width:
            low = mid
        else:
            high = mid - 1
    return (text[:low].rstrip() + "…") if low else ""


def wrap(text: str, fc: Face, max_width: int, max_lines: int | None = None) -> list[str]:
    """Greedy word wrap; words wider than a line are split, the last kept line gets an ellipsis."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}" if current else word
        if fc.width(candidate) <= max_width:
            current = candidate
            continue
        if current:
            lines.append(current)
        while fc.width(word) > max_width and len(word) > 1:
            cut = len(word) - 1
            while cut > 1 and fc.width(word[:cut]) > max_width:
                cut -= 1
            lines.append(word[:cut])
            word = word[cut:]
        current = word
    if current:
        lines.append(current)
    if max_lines is not None and len(lines) > max_lines:
        kept = lines[:max_lines]
        kept[-1] = ellipsize(kept[-1] + " " + lines[max_lines], fc, max_width)
        if not kept[-1].endswith("…"):
            kept[-1] = ellipsize(kept[-1] + "…", fc, max_width)
        return kept
    return lines


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
    text = displayable(" ".join(text.split()), weight)
    box_w, box_h = box
    size = max(max_size, min_size)
    while True:
        fc = face(size, weight)
        lines = wrap(text, fc, box_w)
        fits = len(lines) <= max_lines and len(lines) * fc.line_height <= box_h
        if fits or size <= min_size:
            break
        size = max(min_size, size - max(1, size // 12))
    if not fits:
        lines_that_fit = max(1, min(max_lines, box_h // fc.line_height))
        lines = wrap(text, fc, box_w, lines_that_fit)
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
    draw.text(
        (xy[0] + fc.stroke, xy[1]),
        text,
        font=fc.font,
        fill=fill,
        anchor=anchor,
        stroke_width=fc.stroke,
        stroke_fill=fill,
    )


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
