"""Everything in one zip: the JSON answer, the PNGs, and every other format."""

from __future__ import annotations

import json
from dataclasses import replace

from casecraft.exports import card, deck, markdown, pdf_page, web_page
from casecraft.exports.archive import build_zip
from casecraft.exports.source import Export, Source

JSON_NAME = "case_study.json"


def render(src: Source) -> Export:
    linked = replace(src, options=replace(src.options, embed_images=False))
    files = [(JSON_NAME, _json(src))]
    files += [(web_page.image_file(c, data), data) for c, data in src.images.items()]
    files += [
        ("index.html", web_page.render(linked).data),
        ("case_study.md", markdown.render(src).data),
        ("case_study.pdf", pdf_page.render(src).data),
        ("case_study.pptx", deck.render(src).data),
        ("card.png", card.render(src).data),
    ]
    return Export(build_zip(files), "application/zip", f"{src.slug}.zip")


def _json(src: Source) -> bytes:
    """The answer without inline image data (the PNGs are beside it)."""
    images = [
        {k: v for k, v in image.items() if k != "data_url"}
        for image in src.answer.get("images") or []
    ]
    stored = {**src.answer, "images": images} if "images" in src.answer else dict(src.answer)
    return (json.dumps(stored, indent=2, ensure_ascii=False, sort_keys=False) + "\n").encode()
