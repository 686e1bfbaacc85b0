"""Writes a case study answer to a folder: case_study.json, one PNG per image, and the exports."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from casecraft.exports import ExportOptions, images_from_answer, render_export
from casecraft.exports.web_page import image_file

# The file each export is written under in the folder; index.html links the PNGs beside it.
FILE_NAMES = {
    "html": "index.html",
    "md": "case_study.md",
    "pdf": "case_study.pdf",
    "pptx": "case_study.pptx",
    "card": "card.png",
    "zip": "case_study.zip",
}
DEFAULT_FORMATS = ("html", "md", "pdf", "pptx", "card")


def write_outputs(
    answer: dict[str, Any],
    out: Path,
    fetched: Mapping[str, bytes] | None = None,
    *,
    options: ExportOptions | None = None,
    formats: Sequence[str] = DEFAULT_FORMATS,
) -> list[Path]:
    """Write the answer's files into ``out`` and return their paths. An image's bytes come from
    ``fetched`` (by component, as fetched from its URL), else from its data URL.

    The page shows the timing waterfall: the CLI's page is the demo's report of where time went.
    """
    out.mkdir(parents=True, exist_ok=True)
    options = replace(options or ExportOptions(), embed_images=False, timings=True)
    images = {**images_from_answer(answer), **(fetched or {})}
    written = []
    files: dict[str, str] = {}
    for component, data in images.items():
        path = out / image_file(component, data)
        path.write_bytes(data)
        files[component] = path.name
        written.append(path)
    stored = {**answer, "images": [_without_data(i, files) for i in answer.get("images", [])]}
    json_path = out / "case_study.json"
    json_path.write_text(json.dumps(stored, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    written.insert(0, json_path)
    for format in formats:
        path = out / FILE_NAMES[format]
        path.write_bytes(render_export(format, stored, images, options=options).data)
        written.append(path)
    return written


def _without_data(image: dict[str, Any], files: dict[str, str]) -> dict[str, Any]:
    kept = {k: v for k, v in image.items() if k != "data_url"}
    if image["component"] in files:
        kept["file"] = files[image["component"]]
    return kept
