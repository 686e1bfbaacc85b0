"""The accent colour: parsing, contrast of every text colour drawn on it, and logo colours."""

from __future__ import annotations

from io import BytesIO

import pytest
from PIL import Image

from casecraft import brand
from image_service.render import palette_for

# Very light, very dark, saturated, muted and mid-grey accents: text on each must stay readable.
ACCENTS = [
    "#FFFFFF",
    "#FFFFE0",
    "#FFE066",
    "#F5F5DC",
    "#00FF00",
    "#00FFFF",
    "#FF0000",
    "#777777",
    "#767676",
    "#808080",
    "#0A7C66",
    "#2546D6",
    "#7F00FF",
    "#FF7F50",
    "#101010",
    "#000000",
    "#003366",
    "#B8860B",
]


def test_contrast_ratio_matches_wcag_reference_values() -> None:
    assert brand.contrast_ratio(brand.WHITE, brand.BLACK) == pytest.approx(21.0)
    assert brand.contrast_ratio((119, 119, 119), brand.WHITE) == pytest.approx(4.48, abs=0.01)
    assert brand.contrast_ratio((118, 118, 118), brand.WHITE) == pytest.approx(4.54, abs=0.01)
    assert brand.contrast_ratio((10, 124, 102), (10, 124, 102)) == 1.0


@pytest.mark.parametrize("accent", ACCENTS)
def test_text_on_any_accent_meets_aa(accent: str) -> None:
    colours = brand.palette(brand.parse_hex(accent))
    assert brand.contrast_ratio(colours.on_accent, colours.accent) >= brand.AA_TEXT
    assert brand.contrast_ratio(colours.on_accent, colours.accent_deep) >= brand.AA_TEXT
    assert brand.contrast_ratio(colours.accent_ink, brand.WHITE) >= brand.AA_TEXT
    assert brand.contrast_ratio(brand.INK, colours.accent_soft) >= brand.AA_TEXT


@pytest.mark.parametrize("accent", ACCENTS)
def test_image_text_on_any_accent_meets_aa(accent: str) -> None:
    p = palette_for(brand.parse_hex(accent))
    for background in (p.brand, p.brand_dark):  # the hero's gradient, end to end
        for text in (p.on_brand, p.subtitle, p.eyebrow):
            assert brand.contrast_ratio(text, background) >= brand.AA_TEXT, (text, background)
    assert brand.contrast_ratio(p.brand_text, (241, 245, 249)) >= brand.AA_TEXT


def test_dark_accents_get_white_text_and_light_ones_dark_text() -> None:
    assert brand.text_on(brand.parse_hex("#003366")) == brand.WHITE
    assert brand.text_on(brand.parse_hex("#FFE066")) != brand.WHITE


@pytest.mark.parametrize("text", ["0A7C66", "#0A7C6", "#0A7C667", "#GGGGGG", "teal", "", "#0a7c6 "])
def test_anything_but_rrggbb_is_refused_with_the_fix(text: str) -> None:
    problem = brand.accent_problem(text)
    assert problem is not None and "#RRGGBB" in problem
    with pytest.raises(brand.InvalidAccent):
        brand.parse_hex(text)


def test_hex_round_trips_in_either_case() -> None:
    assert brand.parse_hex("#0a7c66") == (10, 124, 102)
    assert brand.to_hex((10, 124, 102)) == "#0A7C66"


def logo(*areas: tuple[tuple[int, int, int, int], int]) -> bytes:
    """A 100x100 PNG: transparent, then each (colour RGBA, width of a full-height stripe)."""
    image = Image.new("RGBA", (100, 100), (0, 0, 0, 0))
    x = 0
    for colour, width in areas:
        image.paste(colour, (x, 0, x + width, 100))
        x += width
    buffer = BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def test_the_logo_accent_is_its_main_colour_not_its_white_black_or_transparent_parts() -> None:
    data = logo(((255, 255, 255, 255), 40), ((20, 20, 20, 255), 30), ((200, 30, 60, 255), 20))
    assert brand.dominant_colour(data) == (200, 30, 60)


def test_a_grey_logo_has_no_accent_and_the_default_is_used() -> None:
    data = logo(((128, 128, 128, 255), 60), ((250, 250, 250, 255), 40))
    assert brand.dominant_colour(data) is None
    assert brand.resolve_accent(None, data) is None
    assert brand.palette(None).accent == brand.DEFAULT_ACCENT


def test_an_explicit_accent_wins_over_the_logo() -> None:
    data = logo(((200, 30, 60, 255), 100))
    assert brand.resolve_accent("#0A7C66", data) == (10, 124, 102)
    assert brand.resolve_accent(None, data) == (200, 30, 60)
    assert brand.dominant_colour(b"not an image") is None
