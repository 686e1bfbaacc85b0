"""What every format renders from: the case study, its images, the options and the palette."""

from __future__ import annotations

import base64
import binascii
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Any, Literal, NamedTuple

from PIL import Image

from casecraft import brand, protojson
from casecraft.v1 import case_study_pb2

PageSize = Literal["A4", "Letter"]
COMPONENTS = ("hero", "metrics", "timeline")
_SLUG_MAX = 60  # characters of a file name made from the title


class Export(NamedTuple):
    data: bytes
    media_type: str
    filename: str


@dataclass(frozen=True)
class ExportOptions:
    """How to render: the brand, the paper, the page template, and what the page shows."""

    # "#RRGGBB"; None: the logo's dominant colour, else the default palette.
    accent_color: str | None = None
    # The client's logo (PNG or JPEG bytes), shown on the PDF, the deck's title slide and the card.
    logo: bytes | None = None
    page_size: PageSize = "A4"
    # A folder holding page.html.j2 to use instead of the built-in web page template.
    template_dir: Path | None = None
    # Whether the web page shows the timing waterfall of the request.
    timings: bool = False
    # The web page embeds its images as data URLs (True) or links hero.png, ... beside it.
    embed_images: bool = True


@dataclass(frozen=True)
class Source:
    """What every format renders from."""

    answer: Mapping[str, Any]
    study: case_study_pb2.CaseStudy
    images: Mapping[str, bytes]
    options: ExportOptions
    palette: brand.Palette

    @property
    def anonymous(self) -> bool:
        return bool(self.answer.get("anonymized")) or not self.study.client_name.strip()

    @property
    def title(self) -> str:
        s = self.study
        return s.title or s.subtitle or s.client_name or "Case study"

    @property
    def slug(self) -> str:
        words = "".join(c if c.isascii() and c.isalnum() else " " for c in self.title.lower())
        slug = "-".join(words.split())
        if len(slug) > _SLUG_MAX:  # whole words, unless the first is that long alone
            cut = slug[: _SLUG_MAX + 1]
            slug = cut.rsplit("-", 1)[0] if "-" in cut else cut[:_SLUG_MAX]
        return slug or "case-study"


def images_from_answer(answer: Mapping[str, Any]) -> dict[str, bytes]:
    """The answer's images that are ok and inline (``data_url``), by component."""
    found: dict[str, bytes] = {}
    for image in answer.get("images") or []:
        url = image.get("data_url") or ""
        if image.get("status") != "ok" or not url.startswith("data:"):
            continue
        try:
            found[image["component"]] = base64.b64decode(url.partition(",")[2], validate=True)
        except (binascii.Error, ValueError):
            continue
    return found


def make_source(
    answer: Mapping[str, Any] | case_study_pb2.CaseStudy,
    images: Mapping[str, bytes] | None,
    options: ExportOptions,
) -> Source:
    if isinstance(answer, case_study_pb2.CaseStudy):
        study, answer = answer, {"case_study": protojson.to_dict(answer)}
    else:
        study = protojson.from_dict(dict(answer.get("case_study") or {}), case_study_pb2.CaseStudy)
    if images is None:
        images = images_from_answer(answer)
    accent = brand.resolve_accent(options.accent_color, options.logo)
    return Source(
        answer=answer,
        study=study,
        images=_usable(images),
        options=options,
        palette=brand.palette(accent),
    )


def _usable(images: Mapping[str, bytes]) -> dict[str, bytes]:
    """The images every format can place: PNG and JPEG as they are, other formats Pillow reads
    (WebP) as PNG; bytes that are not an image are left out, as if the image had not been made."""
    usable: dict[str, bytes] = {}
    for component in COMPONENTS:
        data = images.get(component)
        if not data:
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                with Image.open(BytesIO(data), formats=("PNG", "JPEG", "WEBP")) as opened:
                    if opened.format in ("PNG", "JPEG"):
                        opened.verify()
                        usable[component] = data
                        continue
                    buffer = BytesIO()
                    opened.convert("RGB").save(buffer, format="PNG")
                    usable[component] = buffer.getvalue()
        except (OSError, SyntaxError, ValueError, Image.DecompressionBombError, Warning):
            continue
    return usable
