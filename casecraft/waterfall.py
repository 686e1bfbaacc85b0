"""Draws a timing report as bars on a shared time axis, for the terminal."""

from __future__ import annotations

from typing import Any


def waterfall(timings: dict[str, Any], width: int = 48) -> str:
    """One line per step: name, service, a bar placed on the request's time axis, duration."""
    total = float(timings.get("total_ms") or 0.0)
    steps = timings.get("steps") or []
    if total <= 0 or not steps:
        return "(no timings)"
    name_width = min(max(len(s["name"]) for s in steps), 28)
    lines = [f"{'step':<{name_width}}  {'service':<18} {'0 ms':<{width}} {total:>9.1f} ms"]
    for step in steps:
        start = round(step["start_ms"] / total * width)
        length = max(1, round(step["duration_ms"] / total * width))
        start = min(start, width - 1)
        length = min(length, width - start)
        bar = " " * start + ("!" if step.get("error") else "█") * length
        lines.append(
            f"{step['name'][:name_width]:<{name_width}}  {step['service'][:18]:<18} "
            f"{bar:<{width}} {step['duration_ms']:>9.1f} ms"
        )
    return "\n".join(lines)
