"""Text for the PDF: the embedded typeface, and paragraphs fitted to a box (shrunk, then cut)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from io import BytesIO
from typing import Literal
from xml.sax.saxutils import escape

from reportlab.lib.colors import Color as PdfColor
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Paragraph

from image_service.render import theme

Weight = Literal["regular", "semibold", "bold", "italic"]
_FONTS: dict[Weight, tuple[str, str]] = {
    "regular": ("CasecraftSans", "SourceSansPro-Regular.ttf"),
    "semibold": ("CasecraftSans-Semibold", "SourceSansPro-Semibold.ttf"),
    "bold": ("CasecraftSans-Bold", "SourceSansPro-Bold.ttf"),
    "italic": ("CasecraftSans-Italic", "SourceSansPro-It.ttf"),
}


@lru_cache(maxsize=1)
def register_fonts() -> None:
    """Registers Source Sans Pro with reportlab, which embeds the glyphs a document uses."""
    for name, file in _FONTS.values():
        pdfmetrics.registerFont(TTFont(name, BytesIO((theme.FONTS / file).read_bytes())))


def font(weight: Weight) -> str:
    return _FONTS[weight][0]


def pdf_colour(rgb: Sequence[int]) -> PdfColor:
    return PdfColor(rgb[0] / 255, rgb[1] / 255, rgb[2] / 255)


def _text(text: str, weight: Weight = "regular") -> str:
    """`text` in glyphs the typeface has, escaped for a Paragraph."""
    glyphs: theme.Weight = "regular" if weight == "italic" else weight
    return escape(theme.displayable(" ".join(text.split()), glyphs))


@dataclass(frozen=True)
class Fitted:
    paragraph: Paragraph
    height: float


def fit(
    text: str,
    width: float,
    height: float,
    *,
    max_size: float,
    min_size: float,
    weight: Weight = "regular",
    colour: Sequence[int] = theme.TEXT,
    leading: float = 1.28,
    align: Literal[0, 1, 2] = 0,
) -> Fitted | None:
    """`text` as a paragraph at the largest size (max to min) that fits the box; below that, at
    `min_size` cut at a word with an ellipsis. None when not even one line fits."""
    shown = _text(text, weight)
    if not shown:
        return None
    size = max_size
    while True:
        style = ParagraphStyle(
            "fit",
            fontName=font(weight),
            fontSize=size,
            leading=size * leading,
            textColor=pdf_colour(colour),
            alignment=align,
        )
        paragraph = Paragraph(shown, style)
        _, used = paragraph.wrap(width, height)
        if used <= height:
            return Fitted(paragraph, used)
        if size <= min_size:
            break
        size = max(min_size, size - 0.5)
    words = shown.split(" ")
    low, high = 0, len(words)
    best: Fitted | None = None
    while low < high:  # the most words that fit with an ellipsis
        middle = (low + high + 1) // 2
        paragraph = Paragraph(" ".join(words[:middle]).rstrip(",;:.") + "…", style)
        _, used = paragraph.wrap(width, height)
        if used <= height:
            low, best = middle, Fitted(paragraph, used)
        else:
            high = middle - 1
    if best is None and shown:  # one long word: cut it by characters
        for length in range(len(shown) - 1, 0, -1):
            paragraph = Paragraph(shown[:length] + "…", style)
            _, used = paragraph.wrap(width, height)
            if used <= height:
                return Fitted(paragraph, used)
    return best
