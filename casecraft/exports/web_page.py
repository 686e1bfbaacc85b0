"""The web page: a Jinja2 template (replaceable) filled with the case study, autoescaped."""

from __future__ import annotations

import base64
import traceback
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2

from casecraft import brand
from casecraft.exports.source import COMPONENTS, Export, Source

TEMPLATE = "page.html.j2"
_EXTENSIONS = {b"\x89PNG": ("image/png", "png"), b"\xff\xd8\xff": ("image/jpeg", "jpg")}


class TemplateProblem(ValueError):
    """The page template cannot be used: missing, or Jinja2 cannot parse or render it."""


class TemplateRenderError(TemplateProblem):
    """The template loaded, but failed on this case study's data: ``template`` is the file,
    ``line`` and ``expression`` where in it (0 and "" when Jinja2 could not tell), ``reason``
    what went wrong (e.g. "'dict object' has no attribute 'before_value'")."""

    def __init__(self, template: str, line: int, expression: str, reason: str) -> None:
        where = f"{template}, line {line} ({expression})" if line else template
        super().__init__(f"{where}: {reason}")
        self.template = template
        self.line = line
        self.expression = expression
        self.reason = reason


def render(src: Source) -> Export:
    template = load_template(src.options.template_dir)
    context = page_context(src)
    try:
        page = template.render(context)
    except Exception as exc:  # a replaceable template can fail in any way on odd data
        raise _render_error(template, exc) from exc
    return Export(page.encode("utf-8"), "text/html; charset=utf-8", f"{src.slug}.html")


def load_template(template_dir: Path | None) -> jinja2.Template:
    """The page template: ``page.html.j2`` in `template_dir`, else the built-in one.

    Raises TemplateProblem naming the file and the fix.
    """
    if template_dir is not None and not (template_dir / TEMPLATE).is_file():
        raise TemplateProblem(
            f"{template_dir / TEMPLATE}: no such file; put a {TEMPLATE} in the template folder "
            "(start from casecraft/exports/templates/page.html.j2)"
        )
    try:
        return _environment(template_dir).get_template(TEMPLATE)
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateProblem(f"{exc.filename}, line {exc.lineno}: {exc.message}") from exc


def _render_error(template: jinja2.Template, exc: Exception) -> TemplateRenderError:
    """Where in the templates rendering failed: Jinja2 rewrites the traceback so each template
    line it ran appears in it as a frame of that file; the innermost such frame is the place."""
    frames = [
        f
        for f in traceback.extract_tb(exc.__traceback__)
        if not f.filename.endswith(".py") and not f.filename.startswith("<")
    ]
    if not frames:
        name = template.filename or template.name or TEMPLATE
        return TemplateRenderError(name, 0, "", f"{type(exc).__name__}: {exc}")
    at = frames[-1]
    expression = (at.line or "").strip()[:200]
    return TemplateRenderError(
        at.filename, at.lineno or 0, expression, f"{type(exc).__name__}: {exc}"
    )


def image_file(component: str, data: bytes) -> str:
    """The file name an image is written under beside the page, e.g. ``hero.png``."""
    return f"{component}.{_kind(data)[1]}"


def page_context(src: Source) -> dict[str, Any]:
    """What the template sees; every string in it is escaped when the template prints it."""
    study = src.answer.get("case_study") or {}
    images = {
        component: (
            f"data:{_kind(data)[0]};base64,{base64.b64encode(data).decode()}"
            if src.options.embed_images
            else image_file(component, data)
        )
        for component, data in src.images.items()
    }
    failed = [
        {"component": i.get("component", ""), "reason": i.get("error") or i.get("status", "")}
        for i in src.answer.get("images") or []
        if i.get("status") != "ok"
    ]
    skipped = [
        {"component": s.get("component", ""), "reason": s.get("reason", "")}
        for s in src.answer.get("skipped") or []
    ]
    p = src.palette
    return {
        "study": study,
        "title": src.title,
        "client": "" if src.anonymous else src.study.client_name,
        "images": {c: images[c] for c in COMPONENTS if c in images},
        "not_made": failed + skipped,
        "waterfall": _waterfall(src.answer.get("timings") or {}) if src.options.timings else None,
        "colours": {
            "accent": brand.to_hex(p.accent),
            "on_accent": brand.to_hex(p.on_accent),
            "accent_ink": brand.to_hex(p.accent_ink),
            "accent_soft": brand.to_hex(p.accent_soft),
        },
    }


@lru_cache(maxsize=8)
def _environment(template_dir: Path | None) -> jinja2.Environment:
    loaders: list[jinja2.BaseLoader] = [jinja2.PackageLoader("casecraft.exports", "templates")]
    if template_dir is not None:
        loaders.insert(0, jinja2.FileSystemLoader(template_dir))
    return jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=True,
        undefined=jinja2.ChainableUndefined,
        keep_trailing_newline=True,
        # Read once, like a setting: a long-running gateway checks the template at start-up and
        # keeps rendering that one, however the file changes on disk.
        auto_reload=False,
    )


def _kind(data: bytes) -> tuple[str, str]:
    for magic, kind in _EXTENSIONS.items():
        if data.startswith(magic):
            return kind
    return ("image/webp", "webp") if data[8:12] == b"WEBP" else ("image/png", "png")


def _waterfall(timings: dict[str, Any]) -> dict[str, Any] | None:
    """Each step as a bar on the request's axis (percentages), the critical path marked."""
    total = float(timings.get("total_ms") or 0.0)
    if total <= 0:
        return None
    critical: dict[str, list[tuple[float, float]]] = {}
    for segment in timings.get("critical_path") or []:
        critical.setdefault(segment["span_id"], []).append(
            (segment["start_ms"], segment["duration_ms"])
        )
    steps = [
        {
            "name": step["name"],
            "service": step["service"],
            "indent": int(step.get("depth", 0)) * 12,
            "left": f"{step['start_ms'] / total * 100:.2f}",
            "width": f"{max(step['duration_ms'] / total * 100, 0.3):.2f}",
            "error": bool(step.get("error")),
            "ms": f"{step['duration_ms']:.1f}",
            "marks": [
                {
                    "left": f"{start / total * 100:.2f}",
                    "width": f"{max(length / total * 100, 0.2):.2f}",
                }
                for start, length in critical.get(step.get("span_id", ""), [])
            ],
        }
        for step in timings.get("steps", [])
    ]
    return {"total": f"{total:.1f}", "trace_id": timings.get("trace_id"), "steps": steps}
