"""Text prompts for generative image providers, written from a job's typed data.

A caller's own ``job.prompt`` is used as written; either way the prompt ends with the format the
image should have (orientation, aspect ratio and pixel size), because chat-style image models take
their size hints from the text.
"""

from __future__ import annotations

from math import gcd

from casecraft.v1 import case_study_pb2, image_pb2
from image_service import render

STYLE = (
    "Style: a polished, professional business case-study visual; flat modern design, generous "
    "white space, a restrained palette of deep blue and teal on light neutrals, crisp legible "
    "sans-serif type, no photographs of people, no stock-photo clichés, no watermark."
)


def target_size(job: image_pb2.ImageJob) -> tuple[int, int]:
    """The pixel size the job asks for: its options, else the default (smaller in fast mode)."""
    options = job.options
    return render.render_size(options.width, options.height, fast=options.fast)


def aspect_ratio(width: int, height: int) -> str:
    """``width:height`` in lowest terms, e.g. ``16:9`` for 1600x900."""
    divisor = gcd(width, height) or 1
    return f"{width // divisor}:{height // divisor}"


def build_prompt(job: image_pb2.ImageJob, size: tuple[int, int]) -> str:
    """The prompt for ``job``: the caller's own, or one written from the data, plus the format."""
    body = job.prompt.strip() or _from_data(job)
    if job.options.accent_color:
        body += (
            f"\n\nBrand: use {job.options.accent_color.upper()} as the accent colour, with text "
            "that stays clearly readable on it."
        )
    return f"{body}\n\n{format_hint(size)}"


def format_hint(size: tuple[int, int]) -> str:
    width, height = size
    orientation = "landscape" if width > height else "portrait" if height > width else "square"
    return (
        f"Format: a {orientation} image, aspect ratio {aspect_ratio(width, height)}, "
        f"about {width}x{height} pixels."
    )


def _from_data(job: image_pb2.ImageJob) -> str:
    kind = job.WhichOneof("data")
    if kind == "hero":
        return _hero(job.hero, has_logo=bool(job.reference_image))
    if kind == "metrics":
        return _metrics(job.metrics)
    if kind == "timeline":
        return _timeline(job.timeline)
    raise ValueError("image job has no data: set one of hero, metrics or timeline")


def _hero(hero: image_pb2.HeroData, *, has_logo: bool) -> str:
    lines = ["A hero banner for a business case study."]
    if hero.title:
        lines.append(f'Headline, set large and spelled exactly: "{hero.title}".')
    if hero.subtitle:
        lines.append(f'Subheading, smaller, spelled exactly: "{hero.subtitle}".')
    if hero.client_name:
        lines.append(f"Client: {hero.client_name}.")
    if hero.industry:
        lines.append(
            f"Industry: {hero.industry}; a subtle abstract motif may hint at it, "
            "without literal clip art."
        )
    if has_logo:
        lines.append(
            "The attached image is the client's logo: place it once, unaltered, in a corner "
            "with clear space around it; do not redraw or restyle it."
        )
    lines.append(STYLE)
    return "\n".join(lines)


def _metrics(data: image_pb2.MetricsData) -> str:
    client = f" for {data.client_name}" if data.client_name else ""
    lines = [
        f"A before-and-after metrics dashboard{client}, one card per metric.",
        "Show exactly these values as written; do not round, convert, add or omit any number:",
    ]
    lines.extend(f"- {_metric_line(metric)}" for metric in data.metrics)
    lines.append(
        "Each card: the label, the before value in muted grey, an arrow, the after value in the "
        "accent colour, and the improvement as a small badge. Any bars must be drawn to scale."
    )
    lines.append(STYLE)
    return "\n".join(lines)


def _metric_line(metric: case_study_pb2.Metric) -> str:
    line = f"{metric.label}: before {metric.before or 'n/a'}, after {metric.after or 'n/a'}"
    if metric.improvement:
        line += f" ({metric.improvement})"
    return line


def _timeline(data: image_pb2.TimelineData) -> str:
    client = f" for {data.client_name}" if data.client_name else ""
    count = len(data.phases)
    lines = [
        f"A horizontal implementation timeline{client} with exactly {count} "
        f"phase{'s' if count != 1 else ''}, left to right in this order:",
    ]
    lines.extend(_phase_line(number, phase) for number, phase in enumerate(data.phases, 1))
    lines.append(
        "Each phase: a numbered marker on one axis, its name as a label, its period beneath, "
        "and a one-line summary of its description. Spell every name exactly as given."
    )
    lines.append(STYLE)
    return "\n".join(lines)


def _phase_line(number: int, phase: case_study_pb2.Phase) -> str:
    period = f" ({phase.period})" if phase.period else ""
    description = f": {phase.description}" if phase.description else ""
    return f"{number}. {phase.name}{period}{description}"
