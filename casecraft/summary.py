"""The report the command prints once a case study is done: what it holds, where the time went."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from casecraft.waterfall import waterfall


def summary(answer: dict[str, Any], written: Sequence[Path], notes: Sequence[str] = ()) -> str:
    """The case study in a few lines, each image's outcome, the waterfall, the files written."""
    study = answer.get("case_study") or {}
    lines = [f"\n{study.get('title') or '(untitled)'}"]
    if study.get("subtitle"):
        lines.append(f"  {study['subtitle']}")
    lines.append(
        f"  client: {study.get('client_name') or '?'}   industry: {study.get('industry') or '?'}"
    )
    lines.append(
        f"  {len(study.get('metrics') or [])} metrics, {len(study.get('phases') or [])} phases, "
        f"quote: {'yes' if study.get('quote') else 'no'}"
    )
    for image in answer.get("images", []):
        ok = image.get("status") in ("ok", "done")
        detail = f"{image.get('width')}x{image.get('height')}" if ok else image.get("error", "")
        lines.append(f"  image {image['component']:<9} {image['status']:<10} {detail}")
    for skipped in answer.get("skipped", []):
        lines.append(f"  image {skipped['component']:<9} skipped    {skipped['reason']}")
    for warning in [*answer.get("warnings", []), *notes]:
        lines.append(f"  note: {warning}")
    timings = answer.get("timings") or {}
    lines.append(f"\nWhere the time went ({float(timings.get('total_ms') or 0):.1f} ms in all):")
    lines.append(waterfall(timings))
    lines.append("\nWrote " + ", ".join(str(p) for p in written))
    return "\n".join(lines)
