"""The one-page PDF: hero, title, metrics drawn from the numbers, the story, timeline and quote.

Text is real text in embedded Source Sans Pro. Every block has a fixed share of the page and text
shrinks to fit it, down to a floor, then is cut with an ellipsis: the page never overflows.
"""

from __future__ import annotations

from io import BytesIO

from PIL import Image
from reportlab.lib.pagesizes import A4, LETTER
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen.canvas import Canvas

from casecraft import brand
from casecraft.exports.pdf_text import Weight, fit, font, pdf_colour, register_fonts
from casecraft.exports.source import Export, Source
from casecraft.v1 import case_study_pb2
from image_service.render import decode_logo, theme
from image_service.render.dashboard import bar_values

PAGES = {"A4": A4, "Letter": LETTER}
_MARGIN = 36.0
_GUTTER = 14.0
_PHASES_PER_ROW = 8
_MUTED = (100, 116, 139)
_TRACK = (238, 242, 247)
_BEFORE = (160, 174, 192)


def render(src: Source) -> Export:
    register_fonts()
    buffer = BytesIO()
    width, height = PAGES[src.options.page_size]
    canvas = Canvas(
        buffer,
        pagesize=(width, height),
        invariant=True,
        pageCompression=True,
        initialFontName=font("regular"),  # type: ignore[arg-type]  # the stubs say float
    )
    canvas.setTitle(src.title)
    canvas.setAuthor("casecraft")
    canvas.setSubject(src.study.subtitle)
    _Page(canvas, src, width, height).draw()
    canvas.showPage()
    canvas.save()
    return Export(buffer.getvalue(), "application/pdf", f"{src.slug}.pdf")


class _Page:
    def __init__(self, canvas: Canvas, src: Source, width: float, height: float) -> None:
        self.c = canvas
        self.src = src
        self.study = src.study
        self.p = src.palette
        self.width, self.height = width, height
        self.left = _MARGIN
        self.inner = width - 2 * _MARGIN

    def draw(self) -> None:
        """Top to bottom; the story takes the height left over by the fixed blocks at most."""
        c, p = self.c, self.p
        c.setFillColor(pdf_colour(p.accent))
        c.rect(0, self.height - 8, self.width, 8, stroke=0, fill=1)
        y = self._header(self.height - _MARGIN)
        y = self._row(y - 10) - 14
        quote_h = 66.0 if self._has_quote() else 0.0
        timeline_h = 104.0 if self.study.phases else 0.0
        reserved = (quote_h + 14 if quote_h else 0) + (timeline_h + 14 if timeline_h else 0)
        room = y - _MARGIN - reserved
        y -= self._story(y, min(room, self._story_height(room))) + 14
        if timeline_h:
            self._timeline(y - timeline_h, timeline_h)
            y -= timeline_h + 14
        if quote_h:
            self._quote(y - quote_h, quote_h)

    def _header(self, top: float) -> float:
        c, s = self.c, self.study
        logo_h = self._logo(top) if self.src.options.logo else 0.0
        tags = ["CASE STUDY"]
        if not self.src.anonymous:
            tags.append(s.client_name)
        if s.industry:
            tags.append(s.industry)
        room = self.inner - (130 if logo_h else 0)
        eyebrow = fit(
            "  ·  ".join(t.upper() for t in tags),
            room,
            14,
            max_size=9,
            min_size=7,
            weight="semibold",
            colour=self.p.accent_ink,
        )
        y = top
        if eyebrow:
            eyebrow.paragraph.drawOn(c, self.left, y - eyebrow.height)
            y -= eyebrow.height + 6
        y = min(y, top - logo_h - 4) if logo_h > 30 else y
        title = fit(
            self.src.title,
            room if logo_h > 30 else self.inner,
            92,
            max_size=26,
            min_size=15,
            weight="bold",
            colour=theme.INK,
            leading=1.12,
        )
        if title:
            title.paragraph.drawOn(c, self.left, y - title.height)
            y -= title.height + 4
        if s.subtitle and s.title:
            subtitle = fit(s.subtitle, self.inner, 34, max_size=12.5, min_size=9, colour=_MUTED)
            if subtitle:
                subtitle.paragraph.drawOn(c, self.left, y - subtitle.height)
                y -= subtitle.height
        return y

    def _logo(self, top: float) -> float:
        try:
            logo = decode_logo(self.src.options.logo or b"")
        except ValueError:
            return 0.0
        box_w, box_h = 120.0, 40.0
        scale = min(box_w / logo.width, box_h / logo.height)
        w, h = logo.width * scale, logo.height * scale
        logo.thumbnail((round(w * 4), round(h * 4)), Image.Resampling.LANCZOS)
        self.c.drawImage(ImageReader(logo), self.left + self.inner - w, top - h, w, h, mask="auto")
        return h

    def _row(self, top: float) -> float:
        """The hero beside the metrics; either one alone takes the width it needs."""
        hero = self.src.images.get("hero")
        metrics = list(self.study.metrics)
        if not hero and not metrics:
            return top
        hero_w = (self.inner - _GUTTER) * 0.52 if metrics else self.inner * 0.7
        hero_h = hero_w * 9 / 16 if hero else 0.0
        needed = 16 + 34 * len(metrics)
        row_h = max(hero_h, min(needed, 250.0)) if metrics else hero_h
        if hero:
            x = self.left if metrics else self.left + (self.inner - hero_w) / 2
            self._image(hero, x, top - hero_h, hero_w, hero_h)
        if metrics:
            x = self.left + (hero_w + _GUTTER if hero else 0)
            self._metrics(metrics, x, top, self.left + self.inner - x, row_h)
        return top - row_h

    def _image(self, data: bytes, x: float, y: float, w: float, h: float) -> None:
        with Image.open(BytesIO(data)) as opened:
            picture = opened.convert("RGB")
        picture.thumbnail((round(w * 2.2), round(h * 2.2)), Image.Resampling.LANCZOS)
        self.c.drawImage(ImageReader(picture), x, y, w, h)

    def _metrics(
        self, metrics: list[case_study_pb2.Metric], x: float, top: float, w: float, h: float
    ) -> None:
        c, p = self.c, self.p
        heading = fit(
            "Results in numbers",
            w,
            14,
            max_size=10.5,
            min_size=9,
            weight="bold",
            colour=p.accent_ink,
        )
        y = top
        if heading:
            heading.paragraph.drawOn(c, x, y - heading.height)
            y -= heading.height + 4
        row_h = min(34.0, (y - (top - h)) / max(1, len(metrics)))
        u = max(0.55, row_h / 34.0)
        value_w = 70.0 * max(u, 0.8)
        for metric in metrics:
            self._metric(metric, x, y, w, row_h, u, value_w)
            y -= row_h

    def _metric(
        self,
        metric: case_study_pb2.Metric,
        x: float,
        top: float,
        w: float,
        row_h: float,
        u: float,
        value_w: float,
    ) -> None:
        c, p = self.c, self.p
        change = metric.improvement.strip()
        change_w = min(w * 0.4, pdfmetrics.stringWidth(change, font("bold"), 8.5 * u) + 2)
        label = fit(
            metric.label or "Metric",
            w - change_w - 6,
            11 * u + 1,
            max_size=8.5 * u,
            min_size=6,
            weight="semibold",
            colour=theme.INK,
            leading=1.15,
        )
        if label:
            label.paragraph.drawOn(c, x, top - label.height)
        if change:
            shown = fit(
                change,
                change_w,
                11 * u + 1,
                max_size=8.5 * u,
                min_size=6,
                weight="bold",
                colour=brand.readable(self._good(metric), brand.WHITE),
                leading=1.15,
                align=2,
            )
            if shown:
                shown.paragraph.drawOn(c, x + w - change_w, top - shown.height)
        bar_h, gap = 6.0 * u, 3.0 * u
        y = top - 12.5 * u - bar_h
        values = bar_values(metric)
        track_w = w - value_w - 4
        for text, value, colour in (
            (metric.before, values[0] if values else None, _BEFORE),
            (metric.after, values[1] if values else None, p.accent),
        ):
            c.setFillColor(pdf_colour(_TRACK))
            c.roundRect(x, y, track_w, bar_h, bar_h / 3, stroke=0, fill=1)
            scale = max(values) if values else 0
            if value is not None and scale > 0 and value > 0:
                c.setFillColor(pdf_colour(colour))
                c.roundRect(
                    x,
                    y,
                    max(bar_h / 2, track_w * value / scale),
                    bar_h,
                    bar_h / 3,
                    stroke=0,
                    fill=1,
                )
            shown = fit(
                text or "–",
                value_w,
                bar_h + 5,
                max_size=7.5 * u + 0.5,
                min_size=5.5,
                colour=theme.TEXT,
                leading=1.1,
            )
            if shown:
                shown.paragraph.drawOn(c, x + track_w + 4, y + bar_h / 2 - shown.height / 2 + 1)
            y -= bar_h + gap

    def _good(self, metric: case_study_pb2.Metric) -> tuple[int, int, int]:
        if not metric.HasField("change_percent") or metric.change_percent == 0:
            return _MUTED
        better = (metric.change_percent < 0) == metric.lower_is_better
        return theme.GOOD if better else theme.BAD

    def _sections(self) -> list[tuple[str, str]]:
        return [
            (heading, text)
            for heading, text in (
                ("The challenge", self.study.challenge),
                ("The solution", self.study.solution),
                ("The results", self.study.results),
            )
            if text.strip()
        ]

    def _story_height(self, room: float) -> float:
        """The height the three columns need at their largest size (at most `room`)."""
        sections = self._sections()
        if not sections:
            return 0.0
        column_w = (self.inner - _GUTTER * (len(sections) - 1)) / len(sections)
        needed = 0.0
        for _, text in sections:
            body = fit(text, column_w, room, max_size=10, min_size=10)
            needed = max(needed, (body.height if body else 0.0) + 19)
        return needed

    def _story(self, top: float, height: float) -> float:
        """The challenge, solution and results side by side in `height`; returns the height used."""
        sections = self._sections()
        bottom = top - height
        if not sections or height < 30:
            return 0.0
        column_w = (self.inner - _GUTTER * (len(sections) - 1)) / len(sections)
        for index, (heading, text) in enumerate(sections):
            x = self.left + index * (column_w + _GUTTER)
            y = top
            head = fit(
                heading,
                column_w,
                16,
                max_size=11,
                min_size=9,
                weight="bold",
                colour=self.p.accent_ink,
            )
            if head:
                head.paragraph.drawOn(self.c, x, y - head.height)
                y -= head.height + 3
            body = fit(text, column_w, y - bottom, max_size=10, min_size=7, colour=theme.TEXT)
            if body:
                body.paragraph.drawOn(self.c, x, y - body.height)
        return height

    def _timeline(self, bottom: float, h: float) -> None:
        c, p = self.c, self.p
        top = bottom + h
        head = fit(
            "How it was done",
            self.inner,
            16,
            max_size=11,
            min_size=9,
            weight="bold",
            colour=p.accent_ink,
        )
        y = top
        if head:
            head.paragraph.drawOn(c, self.left, y - head.height)
            y -= head.height + 6
        phases = list(self.study.phases)
        total = len(phases)
        if total > 2 * _PHASES_PER_ROW:  # the last column says how many more there are
            phases = phases[: 2 * _PHASES_PER_ROW - 1]
        rows = 1 if total <= _PHASES_PER_ROW else 2
        per_row = _PHASES_PER_ROW if rows == 2 else total
        row_h = (y - bottom) / rows
        for row in range(rows):
            chunk = phases[row * per_row : (row + 1) * per_row]
            more = total - len(phases) if row == rows - 1 else 0
            self._phases(
                chunk, row * per_row, total, y - row * row_h, row_h, more=more, brief=rows > 1
            )

    def _phases(
        self,
        phases: list[case_study_pb2.Phase],
        first: int,
        total: int,
        top: float,
        h: float,
        *,
        more: int,
        brief: bool,
    ) -> None:
        """One row of the timeline: a marker per phase on an axis, its name, period, description."""
        c, p = self.c, self.p
        bottom = top - h
        columns = len(phases) + (1 if more else 0)
        column_w = self.inner / (_PHASES_PER_ROW if brief else columns)
        radius = 7.0 if not brief else 5.5
        axis_y = top - radius
        c.setStrokeColor(pdf_colour(p.accent_soft))
        c.setLineWidth(2)
        c.line(self.left + radius, axis_y, self.left + (columns - 1) * column_w + radius, axis_y)
        for offset, phase in enumerate(phases):
            index = first + offset
            x = self.left + offset * column_w
            colour = brand.mix(p.accent, p.accent_ink, index / (total - 1) if total > 1 else 0)
            self._marker(x + radius, axis_y, radius, str(index + 1), colour)
            w = column_w - 8
            ty = axis_y - radius - 3
            rows: tuple[tuple[str, float, Weight, brand.Color, int], ...] = (
                (phase.name or f"Phase {index + 1}", 8.5, "bold", theme.INK, 2),
                (phase.period, 7.5, "semibold", p.accent_ink, 1),
            )
            for text, size, weight, ink, lines in rows:
                if not text.strip():
                    continue
                block = fit(
                    text,
                    w,
                    size * 1.15 * lines + 1,
                    max_size=size,
                    min_size=6,
                    weight=weight,
                    colour=ink,
                    leading=1.15,
                )
                if block:
                    block.paragraph.drawOn(c, x, ty - block.height)
                    ty -= block.height + 1
            if phase.description.strip() and not brief and ty - bottom > 8:
                description = fit(
                    phase.description,
                    w,
                    ty - bottom,
                    max_size=7.5,
                    min_size=6,
                    colour=theme.TEXT,
                    leading=1.2,
                )
                if description:
                    description.paragraph.drawOn(c, x, ty - description.height)
        if more:
            x = self.left + len(phases) * column_w
            self._marker(x + radius, axis_y, radius, "+", p.accent_ink)
            note = fit(
                f"and {more} more phases",
                column_w - 8,
                20,
                max_size=8,
                min_size=6,
                weight="semibold",
                colour=_MUTED,
            )
            if note:
                note.paragraph.drawOn(c, x, axis_y - radius - 3 - note.height)

    def _marker(self, cx: float, cy: float, radius: float, label: str, colour: brand.Color) -> None:
        c = self.c
        c.setFillColor(pdf_colour(colour))
        c.circle(cx, cy, radius, stroke=0, fill=1)
        c.setFillColor(pdf_colour(brand.text_on(colour)))
        c.setFont(font("bold"), radius * 1.2)
        c.drawCentredString(cx, cy - radius * 0.42, label)

    def _has_quote(self) -> bool:
        return self.study.HasField("quote") and bool(self.study.quote.text.strip())

    def _quote(self, bottom: float, h: float) -> None:
        c, p, quote = self.c, self.p, self.study.quote
        c.setFillColor(pdf_colour(p.accent_soft))
        c.roundRect(self.left, bottom, self.inner, h, 6, stroke=0, fill=1)
        c.setFillColor(pdf_colour(p.accent))
        c.rect(self.left, bottom, 4, h, stroke=0, fill=1)
        who = ", ".join(x for x in (quote.author, quote.role) if x.strip())
        pad = 12.0
        who_h = 12.0 if who else 0.0
        text = fit(
            f"“{quote.text.strip()}”",
            self.inner - 2 * pad,
            h - 2 * pad + 4 - who_h,
            max_size=12,
            min_size=8,
            weight="italic",
            colour=theme.INK,
            leading=1.25,
        )
        y = bottom + h - pad + 2
        if text:
            text.paragraph.drawOn(c, self.left + pad, y - text.height)
            y -= text.height + 2
        if who:
            line = fit(
                f"— {who}",
                self.inner - 2 * pad,
                12,
                max_size=8.5,
                min_size=7,
                weight="semibold",
                colour=_MUTED,
            )
            if line:
                line.paragraph.drawOn(c, self.left + pad, y - line.height)
