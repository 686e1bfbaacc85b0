"""The hero banner: title, subtitle, client and industry tags, and the client's logo."""

from __future__ import annotations

import warnings
from io import BytesIO

from PIL import Image, ImageDraw, ImageStat

from casecraft.v1 import image_pb2
from image_service.render import theme
from image_service.render.theme import Color

_MAX_LOGO_PIXELS = 40_000_000


def render_hero(
    data: image_pb2.HeroData,
    *,
    logo: bytes | None = None,
    size: tuple[int, int] = (1600, 900),
    palette: theme.Palette = theme.DEFAULT_PALETTE,
) -> bytes:
    """PNG bytes of the banner; `logo` is PNG/JPEG/WebP bytes or None. Raises ValueError."""
    width, height = theme.check_size(size)
    logo_image = decode_logo(logo) if logo else None
    s = min(width / 1600, height / 900)
    margin = round(88 * s)

    image = _background(width, height, palette)
    draw = ImageDraw.Draw(image, "RGBA")
    _decorate(draw, width, height, s, palette)

    top = margin
    if logo_image is not None:
        top = _place_logo(image, logo_image, (margin, margin), s, palette) + round(40 * s)

    content_w = round(width * 0.64) - margin
    bottom = height - margin
    pills_h = _pills(draw, data, (margin, bottom), content_w, s, palette)
    bottom -= pills_h + round(36 * s) if pills_h else 0

    draw.rectangle(
        (margin, top, margin + round(44 * s), top + max(2, round(5 * s))), fill=palette.accent
    )
    eyebrow = theme.face(round(22 * s), "semibold")
    theme.draw_text(
        draw, (margin + round(58 * s), top - round(9 * s)), "CASE STUDY", eyebrow, palette.eyebrow
    )
    top += round(44 * s)

    title_text = data.title or data.subtitle or data.client_name or "Case study"
    subtitle_text = data.subtitle if data.title else ""
    available = bottom - top
    title = theme.fit(
        title_text,
        (content_w, round(available * (0.62 if subtitle_text else 1.0))),
        max_size=round(84 * s),
        min_size=max(12, round(36 * s)),
        weight="bold",
        max_lines=3,
    )
    gap = round(24 * s)
    subtitle = None
    if subtitle_text:
        subtitle = theme.fit(
            subtitle_text,
            (content_w, max(1, available - title.height - gap)),
            max_size=round(34 * s),
            min_size=max(10, round(20 * s)),
            max_lines=3,
        )
    block_h = title.height + (gap + subtitle.height if subtitle else 0)
    y = top + max(0, (available - block_h) // 2)
    y += theme.draw_block(draw, (margin, y), title, palette.on_brand)
    if subtitle:
        theme.draw_block(draw, (margin, y + gap), subtitle, palette.subtitle)
    return theme.encode_png(image)


def decode_logo(logo: bytes) -> Image.Image:
    """The logo as RGBA; ValueError when it is not a PNG, JPEG or WebP image Pillow can read."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            opened = Image.open(BytesIO(logo), formats=("PNG", "JPEG", "WEBP"))
            if opened.width * opened.height > _MAX_LOGO_PIXELS:
                raise ValueError(f"logo is too large ({opened.width}x{opened.height} pixels)")
            opened.draft("RGB", (800, 800))
            opened.load()
    except ValueError:
        raise
    except (
        OSError,
        SyntaxError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
    ) as e:
        raise ValueError(f"logo is not a readable PNG or JPEG image: {e}") from e
    return opened.convert("RGBA")


def _background(width: int, height: int, palette: theme.Palette) -> Image.Image:
    cols, rows = 64, 36
    mask = Image.new("L", (cols, rows))
    mask.putdata(
        [
            round(255 * min(1.0, (0.65 * x / cols + 0.35 * y / rows) * 1.15))
            for y in range(rows)
            for x in range(cols)
        ]
    )
    mask = mask.resize((width, height), Image.Resampling.BILINEAR)
    dark = Image.new("RGB", (width, height), palette.brand_dark)
    bright = Image.new("RGB", (width, height), palette.brand)
    return Image.composite(bright, dark, mask)


def _decorate(
    draw: ImageDraw.ImageDraw, width: int, height: int, s: float, palette: theme.Palette
) -> None:
    glow = palette.glow
    cx, cy = width * 0.86, height * 0.52
    for radius, alpha in ((height * 0.62, 12), (height * 0.44, 14), (height * 0.26, 18)):
        draw.ellipse((cx - radius, cy - radius, cx + radius, cy + radius), fill=(*glow, alpha))
    ring = height * 0.78
    draw.ellipse(
        (cx - ring, cy - ring, cx + ring, cy + ring),
        outline=(*glow, 40),
        width=max(1, round(2 * s)),
    )
    step = round(26 * s)
    dot = max(1, round(2.5 * s))
    x0, y0 = round(width * 0.70), round(height * 0.08)
    for row in range(6):
        for col in range(10):
            x, y = x0 + col * step, y0 + row * step
            draw.ellipse((x - dot, y - dot, x + dot, y + dot), fill=(*glow, 70))
    band = round(10 * s)
    draw.rectangle((0, height - band, width, height), fill=(*palette.accent, 255))


def _place_logo(
    image: Image.Image,
    logo: Image.Image,
    origin: tuple[int, int],
    s: float,
    palette: theme.Palette,
) -> int:
    pad = round(22 * s)
    box_w, box_h = round(260 * s), round(96 * s)
    fitted = logo.copy()
    fitted.thumbnail((box_w, box_h), Image.Resampling.LANCZOS)
    if fitted.width < box_w and fitted.height < box_h:
        scale = min(box_w / fitted.width, box_h / fitted.height)
        fitted = fitted.resize(
            (max(1, round(fitted.width * scale)), max(1, round(fitted.height * scale))),
            Image.Resampling.LANCZOS,
        )
    card_w = max(fitted.width + 2 * pad, round(150 * s))
    card_h = fitted.height + 2 * pad
    x, y = origin
    draw = ImageDraw.Draw(image, "RGBA")
    radius = round(18 * s)
    shadow = round(6 * s)
    draw.rounded_rectangle(
        (x, y + shadow, x + card_w, y + card_h + shadow), radius, fill=(5, 10, 40, 60)
    )
    draw.rounded_rectangle(
        (x, y, x + card_w, y + card_h), radius, fill=_card_colour(fitted, palette)
    )
    image.paste(fitted, (x + (card_w - fitted.width) // 2, y + pad), fitted)
    return y + card_h


def _card_colour(logo: Image.Image, palette: theme.Palette) -> Color:
    """White, unless the logo itself is so light it would vanish on white."""
    alpha = logo.getchannel("A")
    if alpha.getbbox() is None:
        return theme.WHITE
    luminance = ImageStat.Stat(logo.convert("L"), alpha).mean[0]
    dark = palette.brand_dark if palette.on_brand == theme.WHITE else theme.INK
    return dark if luminance > 225 else theme.WHITE


def _pills(
    draw: ImageDraw.ImageDraw,
    data: image_pb2.HeroData,
    bottom_left: tuple[int, int],
    max_w: int,
    s: float,
    palette: theme.Palette,
) -> int:
    labels = [(data.client_name, True), (data.industry, False)]
    labels = [(text.strip(), solid) for text, solid in labels if text.strip()]
    if not labels:
        return 0
    fc = theme.face(round(26 * s), "semibold")
    pad_x, height = round(24 * s), round(52 * s)
    x, bottom = bottom_left
    y = bottom - height
    for text, solid in labels:
        room = bottom_left[0] + max_w - x - 2 * pad_x
        if room < fc.size * 2:
            break
        shown = theme.line(" ".join(text.split()), fc, room, "semibold")
        pill_w = fc.width(shown) + 2 * pad_x
        box = (x, y, x + pill_w, y + height)
        if solid:
            draw.rounded_rectangle(box, height // 2, fill=palette.on_brand)
            colour = palette.brand_dark
        else:
            draw.rounded_rectangle(
                box,
                height // 2,
                fill=(*palette.on_brand, 28),
                outline=(*palette.on_brand, 150),
                width=max(1, round(2 * s)),
            )
            colour = palette.on_brand
        theme.draw_text(draw, (x + pad_x, y + height / 2), shown, fc, colour, anchor="lm")
        x += pill_w + round(16 * s)
    return height
