"""Draws a timing report as bars on a shared time axis, for the terminal.

Each step is one line, indented below the step it ran inside. A bar is ``█`` where the step was on
the critical path (it set the total then), ``░`` elsewhere, ``!`` when the step failed.
"""

from __future__ import annotations

from typing import Any

CRITICAL, OTHER, FAILED = "█", "░", "!"


def waterfall(timings: dict[str, Any], width: int = 48, name_width: int = 34) -> str:
    """One line per step: name (nested), service, its bar on the request's time axis, duration."""
    total = float(timings.get("total_ms") or 0.0)
    steps = timings.get("steps") or []
    if total <= 0 or not steps:
        return "(no timings)"
    critical: dict[str, list[tuple[float, float]]] = {}
    for segment in timings.get("critical_path") or []:
        start = segment["start_ms"]
        critical.setdefault(segment["span_id"], []).append((start, start + segment["duration_ms"]))
    axis = f"0 ms{f'{total:.1f} ms':>{width - 4}}"
    lines = [f"{'step':<{name_width}} {'service':<18} {axis}  {'duration':>10}"]
    for step in steps:
        name = "  " * int(step.get("depth", 0)) + step["name"]
        if len(name) > name_width:
            name = name[: name_width - 1] + "…"
        lines.append(
            f"{name:<{name_width}} {step['service'][:18]:<18} "
            f"{_bar(step, critical.get(step.get('span_id', ''), []), total, width)}  "
            f"{step['duration_ms']:>7.1f} ms"
        )
    lines.append(
        f"{CRITICAL} critical path (the steps that set the total)   {OTHER} overlapped by it"
        f"   {FAILED} failed"
    )
    return "\n".join(lines)


def _bar(
    step: dict[str, Any], critical: list[tuple[float, float]], total: float, width: int
) -> str:
    start = min(round(step["start_ms"] / total * width), width - 1)
    length = min(max(1, round(step["duration_ms"] / total * width)), width - start)
    cells = []
    for cell in range(start, start + length):
        if step.get("error"):
            cells.append(FAILED)
            continue
        low, high = cell / width * total, (cell + 1) / width * total
        on_path = any(a < high and b > low for a, b in critical)
        cells.append(CRITICAL if on_path else OTHER)
    return (" " * start + "".join(cells)).ljust(width)
