"""Writes a case study answer to a folder: case_study.json, one PNG per image, index.html."""

from __future__ import annotations

import base64
import html
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

_EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp"}


def write_outputs(
    answer: dict[str, Any], out: Path, images: Mapping[str, bytes] | None = None
) -> list[Path]:
    """Write the answer's files into ``out`` and return their paths. An image's bytes come from
    ``images`` (by component, as fetched from its URL), else from its data URL."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    files: dict[str, str] = {}
    fetched = images or {}
    for image in answer.get("images", []):
        component = image.get("component", "")
        if component in fetched:
            data = fetched[component]
        elif image.get("status") == "ok" and image.get("data_url"):
            data = base64.b64decode(image["data_url"].partition(",")[2])
        else:
            continue
        extension = _EXTENSIONS.get(image.get("media_type", ""), "png")
        path = out / f"{component}.{extension}"
        path.write_bytes(data)
        files[component] = path.name
        written.append(path)
    stored = {**answer, "images": [_without_data(i, files) for i in answer.get("images", [])]}
    json_path = out / "case_study.json"
    json_path.write_text(json.dumps(stored, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    page = out / "index.html"
    page.write_text(render_page(answer, files), encoding="utf-8")
    return [json_path, *written, page]


def _without_data(image: dict[str, Any], files: dict[str, str]) -> dict[str, Any]:
    kept = {k: v for k, v in image.items() if k != "data_url"}
    if image["component"] in files:
        kept["file"] = files[image["component"]]
    return kept


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def render_page(answer: dict[str, Any], files: dict[str, str]) -> str:
    """The case study as one self-contained page, its images beside it."""
    study = answer.get("case_study", {})
    title = study.get("title") or study.get("client_name") or "Case study"
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        f"<title>{_e(title)}</title><style>{_CSS}</style></head><body><main>",
    ]
    if "hero" in files:
        parts.append(f"<img class='hero' src='{_e(files['hero'])}' alt='{_e(title)}'>")
    parts.append(f"<h1>{_e(title)}</h1>")
    if study.get("subtitle"):
        parts.append(f"<p class='subtitle'>{_e(study['subtitle'])}</p>")
    tags = [study.get("client_name"), study.get("industry")]
    parts.append("<p class='tags'>" + "".join(f"<span>{_e(t)}</span>" for t in tags if t) + "</p>")
    for key, heading in (("challenge", "The challenge"), ("solution", "The solution")):
        if study.get(key):
            parts.append(f"<h2>{heading}</h2><p>{_e(study[key])}</p>")
    metrics = study.get("metrics") or []
    if metrics:
        parts.append("<h2>Results in numbers</h2>")
        if "metrics" in files:
            parts.append(f"<img src='{_e(files['metrics'])}' alt='Metrics dashboard'>")
        rows = "".join(
            f"<tr><td>{_e(m.get('label', ''))}</td><td>{_e(m.get('before', ''))}</td>"
            f"<td>{_e(m.get('after', ''))}</td><td>{_e(m.get('improvement', ''))}</td></tr>"
            for m in metrics
        )
        parts.append(
            "<table><thead><tr><th>Metric</th><th>Before</th><th>After</th><th>Change</th>"
            f"</tr></thead><tbody>{rows}</tbody></table>"
        )
    phases = study.get("phases") or []
    if phases:
        parts.append("<h2>How it was done</h2>")
        if "timeline" in files:
            parts.append(f"<img src='{_e(files['timeline'])}' alt='Implementation timeline'>")
        items = "".join(
            f"<li><strong>{_e(p.get('name', ''))}</strong>"
            + (f" <em>{_e(p['period'])}</em>" if p.get("period") else "")
            + (f"<br>{_e(p['description'])}" if p.get("description") else "")
            + "</li>"
            for p in phases
        )
        parts.append(f"<ol>{items}</ol>")
    if study.get("results"):
        parts.append(f"<h2>The results</h2><p>{_e(study['results'])}</p>")
    quote = study.get("quote")
    if quote and quote.get("text"):
        who = ", ".join(x for x in (quote.get("author"), quote.get("role")) if x)
        parts.append(f"<blockquote>“{_e(quote['text'])}”<footer>{_e(who)}</footer></blockquote>")
    failed = [i for i in answer.get("images", []) if i.get("status") not in ("ok", "done")]
    skipped = answer.get("skipped", [])
    if failed or skipped:
        parts.append("<h2>Visuals not made</h2><ul>")
        parts += [
            f"<li>{_e(i['component'])}: {_e(i.get('error', i['status']))}</li>" for i in failed
        ]
        parts += [f"<li>{_e(s['component'])}: {_e(s['reason'])}</li>" for s in skipped]
        parts.append("</ul>")
    parts.append(_timings_section(answer.get("timings") or {}))
    parts.append("</main></body></html>\n")
    return "\n".join(parts)


def _timings_section(timings: dict[str, Any]) -> str:
    """The waterfall: each step a bar on the request's axis, nested, the critical path darker."""
    total = float(timings.get("total_ms") or 0.0)
    if total <= 0:
        return ""
    critical: dict[str, list[tuple[float, float]]] = {}
    for segment in timings.get("critical_path") or []:
        critical.setdefault(segment["span_id"], []).append(
            (segment["start_ms"], segment["duration_ms"])
        )
    rows = []
    for step in timings.get("steps", []):
        left = step["start_ms"] / total * 100
        width = max(step["duration_ms"] / total * 100, 0.3)
        marks = "".join(
            f"<span class='crit' style='left:{start / total * 100:.2f}%;"
            f"width:{max(length / total * 100, 0.2):.2f}%'></span>"
            for start, length in critical.get(step.get("span_id", ""), [])
        )
        indent = int(step.get("depth", 0)) * 12
        rows.append(
            f"<div class='step'><span class='label' style='padding-left:{indent}px'>"
            f"{_e(step['name'])} <small>{_e(step['service'])}</small></span><span class='track'>"
            f"<span class='bar{' error' if step.get('error') else ''}' "
            f"style='left:{left:.2f}%;width:{width:.2f}%'></span>{marks}</span>"
            f"<span class='ms'>{step['duration_ms']:.1f} ms</span></div>"
        )
    trace_id = timings.get("trace_id")
    return (
        f"<h2>Where the time went</h2><p class='total'>Total {total:.1f} ms"
        + (f" · trace <code>{_e(trace_id)}</code>" if trace_id else "")
        + "; darker: the critical path (the steps that set the total)</p>"
        f"<div class='waterfall'>{''.join(rows)}</div>"
    )


_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;background:#f5f6f8;color:#1d2330}
main{max-width:960px;margin:0 auto;padding:32px 24px 64px;background:#fff}
img{max-width:100%;border-radius:8px;margin:12px 0}
h1{font-size:2.1rem;margin:.6em 0 .2em}.subtitle{font-size:1.2rem;color:#4a5468;margin:0}
.tags span{display:inline-block;background:#e8eefc;color:#23408e;border-radius:999px;padding:2px 12px;margin-right:8px}
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #e3e6ec;padding:8px;text-align:left}
blockquote{font-size:1.2rem;border-left:4px solid #23408e;margin:24px 0;padding:8px 20px;color:#2a3245}
blockquote footer{font-size:.95rem;color:#5a6478;margin-top:8px}
.waterfall{font-size:.85rem}.step{display:flex;align-items:center;gap:8px;margin:3px 0}
.label{width:260px;flex:none;overflow:hidden;white-space:nowrap;text-overflow:ellipsis}.label small{color:#7a8396}
.track{position:relative;flex:1;height:14px;background:#f0f2f6;border-radius:3px}
.bar{position:absolute;top:0;height:14px;background:#9fb3ea;border-radius:3px}.bar.error{background:#d64545}
.crit{position:absolute;top:0;height:14px;background:#23408e}
.ms{width:90px;text-align:right;flex:none;font-variant-numeric:tabular-nums}.total{color:#4a5468}
"""
