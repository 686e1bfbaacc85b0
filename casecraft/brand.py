"""The brand accent: parsing "#RRGGBB", taking it from a logo, and text colours that stay readable.

Contrast follows WCAG 2.x: relative luminance of sRGB colours, and AA means a ratio of at least
4.5:1 for text. Every colour this module hands out for text on a background meets that.
"""

from __future__ import annotations

import re
import warnings
from collections import Counter
from dataclasses import dataclass
from io import BytesIO

from PIL import Image

Color = tuple[int, int, int]

WHITE: Color = (255, 255, 255)
BLACK: Color = (0, 0, 0)
INK: Color = (15, 23, 42)
# The accent when neither an accent colour nor a logo with a colour is given.
DEFAULT_ACCENT: Color = (37, 70, 214)
AA_TEXT = 4.5
AA_GRAPHICS = 3.0

_HEX = re.compile(r"#[0-9A-Fa-f]{6}")
_LOGO_SIDE = 64
_MAX_LOGO_PIXELS = 40_000_000


class InvalidAccent(ValueError):
    """The accent colour is not written as #RRGGBB."""


def accent_problem(text: str) -> str | None:
    """Why `text` is not an accent colour, or None when it is one (#RRGGBB, any case)."""
    if _HEX.fullmatch(text):
        return None
    shown = text if len(text) <= 20 else text[:20] + "…"
    return f"{shown!r} is not a colour; write it as #RRGGBB, e.g. #0A7C66"


def parse_hex(text: str) -> Color:
    """The colour "#RRGGBB" names; InvalidAccent otherwise."""
    problem = accent_problem(text)
    if problem:
        raise InvalidAccent(problem)
    return (int(text[1:3], 16), int(text[3:5], 16), int(text[5:7], 16))


def to_hex(colour: Color) -> str:
    return "#{:02X}{:02X}{:02X}".format(*colour)


def relative_luminance(colour: Color) -> float:
    """WCAG relative luminance, 0 (black) to 1 (white)."""

    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(v) for v in colour)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(a: Color, b: Color) -> float:
    """WCAG contrast ratio of two colours, 1 to 21."""
    la, lb = relative_luminance(a), relative_luminance(b)
    return (max(la, lb) + 0.05) / (min(la, lb) + 0.05)


def mix(a: Color, b: Color, t: float) -> Color:
    """The colour `t` of the way from `a` to `b`."""
    return (
        round(a[0] + (b[0] - a[0]) * t),
        round(a[1] + (b[1] - a[1]) * t),
        round(a[2] + (b[2] - a[2]) * t),
    )


def text_on(background: Color) -> Color:
    """White or a dark ink for text on `background`, whichever is readable (always AA).

    Either white or black reaches at least 4.58:1 on any colour, so one of them always passes.
    """
    if contrast_ratio(WHITE, background) >= contrast_ratio(BLACK, background):
        return WHITE
    return INK if contrast_ratio(INK, background) >= AA_TEXT else BLACK


def readable(colour: Color, background: Color, ratio: float = AA_TEXT) -> Color:
    """`colour`, shaded towards black or white just enough to reach `ratio` on `background`."""
    if contrast_ratio(colour, background) >= ratio:
        return colour
    target = text_on(background)
    low, high = 0.0, 1.0
    for _ in range(16):
        middle = (low + high) / 2
        if contrast_ratio(mix(colour, target, middle), background) >= ratio:
            high = middle
        else:
            low = middle
    shaded = mix(colour, target, high)
    return shaded if contrast_ratio(shaded, background) >= ratio else target


@dataclass(frozen=True)
class Palette:
    """The colours an export or image draws with, derived from one accent."""

    accent: Color
    on_accent: Color
    # The accent's partner for a gradient or a deeper block: text in `on_accent` stays readable
    # on it too, because it moves away from the text colour.
    accent_deep: Color
    # The accent as text (or a thin line) on white.
    accent_ink: Color
    # A pale tint of the accent for backgrounds behind dark text.
    accent_soft: Color

    @property
    def hex(self) -> str:
        return to_hex(self.accent)


def palette(accent: Color | None = None) -> Palette:
    """The palette of `accent` (the default accent when None)."""
    accent = accent or DEFAULT_ACCENT
    on_accent = text_on(accent)
    away = BLACK if on_accent == WHITE else WHITE
    return Palette(
        accent=accent,
        on_accent=on_accent,
        accent_deep=mix(accent, away, 0.45),
        accent_ink=readable(accent, WHITE),
        accent_soft=mix(accent, WHITE, 0.88),
    )


def dominant_colour(logo: bytes) -> Color | None:
    """The logo's most common clearly coloured (not grey, white or black) colour, or None.

    Transparent pixels are ignored; None when coloured pixels are under 3% of the opaque ones
    or the bytes are not an image Pillow reads.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            opened = Image.open(BytesIO(logo), formats=("PNG", "JPEG", "WEBP"))
            if opened.width * opened.height > _MAX_LOGO_PIXELS:
                return None
            opened.draft("RGB", (_LOGO_SIDE * 4, _LOGO_SIDE * 4))
            image = opened.convert("RGBA")
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError, Warning):
        return None
    image.thumbnail((_LOGO_SIDE, _LOGO_SIDE), Image.Resampling.BOX)
    raw = image.tobytes()
    opaque = [(raw[i], raw[i + 1], raw[i + 2]) for i in range(0, len(raw), 4) if raw[i + 3] >= 128]
    coloured = [p for p in opaque if _is_coloured(p)]
    if not coloured or len(coloured) < 0.03 * len(opaque):
        return None
    buckets = Counter((r // 24, g // 24, b // 24) for r, g, b in coloured)
    top = max(buckets.items(), key=lambda item: (item[1], item[0]))[0]
    members = [p for p in coloured if (p[0] // 24, p[1] // 24, p[2] // 24) == top]
    return (
        round(sum(p[0] for p in members) / len(members)),
        round(sum(p[1] for p in members) / len(members)),
        round(sum(p[2] for p in members) / len(members)),
    )


def _is_coloured(pixel: Color) -> bool:
    high, low = max(pixel), min(pixel)
    if high < 40 or low > 235:
        return False
    return (high - low) / high >= 0.25


def resolve_accent(accent_color: str | None, logo: bytes | None) -> Color | None:
    """The accent to use: the one given, else the logo's dominant colour, else None (default).

    Raises InvalidAccent when `accent_color` is given and is not #RRGGBB.
    """
    if accent_color:
        return parse_hex(accent_color)
    if logo:
        return dominant_colour(logo)
    return None
