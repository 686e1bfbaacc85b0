"""The editable deck (python-pptx): native text, a native chart of the exact numbers, a timeline
of native shapes, and speaker notes that say where each number came from."""

from __future__ import annotations

import math
from datetime import datetime
from io import BytesIO
from typing import cast

from pptx import Presentation
from pptx.chart.chart import Chart
from pptx.chart.data import CategoryChartData, ChartData
from pptx.dml.color import RGBColor
from pptx.enum.chart import XL_CHART_TYPE, XL_LABEL_POSITION, XL_LEGEND_POSITION
from pptx.enum.shapes import MSO_CONNECTOR, MSO_SHAPE
from pptx.enum.text import MSO_ANCHOR, MSO_AUTO_SIZE, PP_ALIGN
from pptx.presentation import Presentation as Deck
from pptx.shapes.graphfrm import GraphicFrame
from pptx.slide import Slide
from pptx.util import Emu, Pt

from casecraft import brand
from casecraft.exports.archive import normalized_zip
from casecraft.exports.source import Export, Source
from casecraft.v1 import case_study_pb2
from image_service.render import decode_logo, theme
from image_service.render.dashboard import bar_values

MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
Box = tuple[int, int, int, int]


def inch(value: float) -> int:
    """`value` inches in EMU, the unit of every position and size in the file."""
    return round(value * 914400)


def _lengths(box: Box) -> tuple[Emu, Emu, Emu, Emu]:
    x, y, w, h = box
    return Emu(x), Emu(y), Emu(w), Emu(h)


WIDTH, HEIGHT = inch(13.333), inch(7.5)
_MARGIN = inch(0.6)
_BLANK = 6
_CHARTS_PER_SLIDE = 6
_PHASES_PER_SLIDE = 6
# About what a slide's body holds at 12 pt, the smallest size prose is set in.
_PROSE_PER_SLIDE = 3000
# Fixed document dates: the same case study always gives the same file.
_DATE = datetime(2000, 1, 1)


def render(src: Source) -> Export:
    deck = Presentation()
    deck.slide_width, deck.slide_height = Emu(WIDTH), Emu(HEIGHT)
    _properties(deck, src)
    builder = _Deck(deck, src)
    builder.title_slide()
    builder.prose_slide("The challenge", src.study.challenge)
    builder.prose_slide("The solution", src.study.solution)
    builder.metrics_slides()
    builder.timeline_slides()
    builder.prose_slide("The results", src.study.results)
    builder.quote_slide()
    buffer = BytesIO()
    deck.save(buffer)
    return Export(normalized_zip(buffer.getvalue()), MEDIA_TYPE, f"{src.slug}.pptx")


def _properties(deck: Deck, src: Source) -> None:
    props = deck.core_properties
    props.title = src.title[:255]
    props.subject = src.study.subtitle[:255]
    props.author = props.last_modified_by = "casecraft"
    props.created = props.modified = _DATE
    props.revision = 1


def _rgb(colour: tuple[int, int, int]) -> RGBColor:
    return RGBColor(*colour)


def _font_size(text: str, *, largest: int, smallest: int, chars_at_largest: int) -> Pt:
    """A size that lets `text` fill its box: smaller the longer it is, never under `smallest`."""
    length = max(1, len(text))
    if length <= chars_at_largest:
        return Pt(largest)
    return Pt(max(smallest, round(largest * math.sqrt(chars_at_largest / length))))


class _Deck:
    def __init__(self, deck: Deck, src: Source) -> None:
        self.deck = deck
        self.src = src
        self.study = src.study
        self.p = src.palette

    def _slide(self) -> Slide:
        return self.deck.slides.add_slide(self.deck.slide_layouts[_BLANK])

    def _text(
        self,
        slide: Slide,
        box: Box,
        text: str,
        *,
        size: Pt,
        colour: tuple[int, int, int] = theme.INK,
        bold: bool = False,
        italic: bool = False,
        align: PP_ALIGN = PP_ALIGN.LEFT,
        anchor: MSO_ANCHOR = MSO_ANCHOR.TOP,
    ) -> None:
        shape = slide.shapes.add_textbox(*_lengths(box))
        frame = shape.text_frame
        frame.word_wrap = True
        frame.auto_size = MSO_AUTO_SIZE.TEXT_TO_FIT_SHAPE
        frame.vertical_anchor = anchor
        frame.margin_left = frame.margin_right = 0
        paragraph = frame.paragraphs[0]
        paragraph.alignment = align
        run = paragraph.add_run()
        run.text = " ".join(text.split())
        run.font.size = size
        run.font.bold = bold
        run.font.italic = italic
        run.font.color.rgb = _rgb(colour)

    def _rect(
        self,
        slide: Slide,
        box: Box,
        colour: tuple[int, int, int],
        shape: MSO_SHAPE = MSO_SHAPE.RECTANGLE,
    ) -> None:
        rect = slide.shapes.add_shape(shape, *_lengths(box))
        rect.fill.solid()
        rect.fill.fore_color.rgb = _rgb(colour)
        rect.line.fill.background()
        rect.shadow.inherit = False

    def _heading(self, slide: Slide, text: str) -> int:
        self._rect(slide, (0, 0, WIDTH, inch(0.12)), self.p.accent)
        self._text(
            slide,
            (_MARGIN, inch(0.45), WIDTH - 2 * _MARGIN, inch(0.9)),
            text,
            size=Pt(32),
            colour=self.p.accent_ink,
            bold=True,
        )
        return inch(1.5)

    def _notes(self, slide: Slide, text: str) -> None:
        frame = slide.notes_slide.notes_text_frame
        if frame is not None:
            frame.text = text

    def title_slide(self) -> None:
        slide = self._slide()
        s, p = self.study, self.p
        panel_w = inch(6.2)
        self._rect(slide, (0, 0, panel_w, HEIGHT), p.accent)
        top = inch(0.7)
        if self.src.options.logo:
            top = self._logo(slide, (_MARGIN, top)) + inch(0.3)
        self._text(
            slide,
            (_MARGIN, top, panel_w - 2 * _MARGIN, inch(0.4)),
            "CASE STUDY",
            size=Pt(14),
            colour=p.on_accent,
            bold=True,
        )
        self._text(
            slide,
            (_MARGIN, top + inch(0.5), panel_w - 2 * _MARGIN, inch(2.6)),
            self.src.title,
            size=_font_size(self.src.title, largest=36, smallest=20, chars_at_largest=60),
            colour=p.on_accent,
            bold=True,
            anchor=MSO_ANCHOR.TOP,
        )
        if s.subtitle and s.title:
            self._text(
                slide,
                (_MARGIN, top + inch(3.2), panel_w - 2 * _MARGIN, inch(1.3)),
                s.subtitle,
                size=_font_size(s.subtitle, largest=18, smallest=12, chars_at_largest=90),
                colour=p.on_accent,
            )
        facts = [x for x in ("" if self.src.anonymous else s.client_name, s.industry) if x]
        if facts:
            self._text(
                slide,
                (_MARGIN, HEIGHT - inch(1.2), panel_w - 2 * _MARGIN, inch(0.5)),
                "  ·  ".join(facts),
                size=Pt(16),
                colour=p.on_accent,
                bold=True,
            )
        hero = self.src.images.get("hero")
        if hero:
            w = WIDTH - panel_w - inch(0.6)
            h = int(w * 9 / 16)
            slide.shapes.add_picture(
                BytesIO(hero), *_lengths((panel_w + inch(0.3), (HEIGHT - h) // 2, w, h))
            )
        self._notes(slide, f"{self.src.title}\n{s.subtitle}".strip())

    def _logo(self, slide: Slide, origin: tuple[int, int]) -> int:
        try:
            logo = decode_logo(self.src.options.logo or b"")
        except ValueError:
            return origin[1]
        buffer = BytesIO()
        logo.save(buffer, format="PNG")
        pad = inch(0.12)
        box_w, box_h = inch(2.2), inch(0.8)
        scale = min(box_w / logo.width, box_h / logo.height)
        w, h = int(logo.width * scale), int(logo.height * scale)
        x, y = origin
        self._rect(
            slide, (x, y, w + 2 * pad, h + 2 * pad), theme.WHITE, MSO_SHAPE.ROUNDED_RECTANGLE
        )
        slide.shapes.add_picture(buffer, *_lengths((x + pad, y + pad, w, h)))
        return y + h + 2 * pad

    def prose_slide(self, heading: str, text: str) -> None:
        """One slide of the text, or more when it would not fit one at the smallest size."""
        parts = _pages(" ".join(text.split()), _PROSE_PER_SLIDE)
        for index, part in enumerate(parts):
            slide = self._slide()
            top = self._heading(slide, heading if index == 0 else f"{heading} (continued)")
            size = _font_size(part, largest=28, smallest=12, chars_at_largest=300)
            self._text(
                slide,
                (_MARGIN, top, WIDTH - 2 * _MARGIN, HEIGHT - top - _MARGIN),
                part,
                size=size,
                colour=theme.TEXT,
            )
            self._notes(slide, part)

    def metrics_slides(self) -> None:
        metrics = list(self.study.metrics)
        for start in range(0, len(metrics), _CHARTS_PER_SLIDE):
            chunk = metrics[start : start + _CHARTS_PER_SLIDE]
            slide = self._slide()
            title = "Results in numbers"
            if len(metrics) > _CHARTS_PER_SLIDE:
                title += f" ({start + 1}–{start + len(chunk)} of {len(metrics)})"
            top = self._heading(slide, title)
            columns = min(3, len(chunk))
            rows = math.ceil(len(chunk) / columns)
            gap = inch(0.3)
            cell_w = (WIDTH - 2 * _MARGIN - gap * (columns - 1)) // columns
            cell_h = (HEIGHT - top - _MARGIN - gap * (rows - 1)) // rows
            for index, metric in enumerate(chunk):
                row, column = divmod(index, columns)
                box = (
                    _MARGIN + column * (cell_w + gap),
                    top + row * (cell_h + gap),
                    cell_w,
                    cell_h,
                )
                self._metric(slide, metric, box)
            self._notes(slide, _sources(chunk))

    def _metric(self, slide: Slide, metric: case_study_pb2.Metric, box: Box) -> None:
        x, y, w, h = box
        values = bar_values(metric)
        label = metric.label or "Metric"
        if values is None:
            self._text(slide, (x, y, w, inch(0.5)), label, size=Pt(16), bold=True)
            self._text(
                slide,
                (x, y + inch(0.6), w, h - inch(0.6)),
                f"Before: {metric.before}\nAfter: {metric.after}\n{metric.improvement}".strip(),
                size=Pt(18),
                colour=theme.TEXT,
            )
            return
        data = CategoryChartData(number_format="General")
        data.categories = [label]
        data.add_series("Before", [values[0]])
        data.add_series("After", [values[1]])
        frame = slide.shapes.add_chart(
            XL_CHART_TYPE.COLUMN_CLUSTERED, *_lengths(box), cast(ChartData, data)
        )
        chart: Chart = cast(GraphicFrame, frame).chart
        unit = f" ({metric.unit})" if metric.unit else ""
        chart.has_title = True
        chart.chart_title.text_frame.text = f"{label}{unit}"
        title_font = chart.chart_title.text_frame.paragraphs[0].runs[0].font
        title_font.size, title_font.bold = Pt(14), True
        title_font.color.rgb = _rgb(theme.INK)
        chart.has_legend = True
        chart.legend.position = XL_LEGEND_POSITION.BOTTOM
        chart.legend.include_in_layout = False
        chart.legend.font.size = Pt(11)
        chart.value_axis.has_major_gridlines = False
        chart.value_axis.visible = False
        chart.value_axis.minimum_scale = 0
        chart.category_axis.visible = False
        plot = chart.plots[0]
        plot.gap_width = 60
        plot.has_data_labels = True
        labels = plot.data_labels
        labels.number_format, labels.number_format_is_linked = "General", False
        labels.position = XL_LABEL_POSITION.OUTSIDE_END
        labels.font.size, labels.font.bold = Pt(14), True
        for series, colour in zip(plot.series, ((160, 174, 192), self.p.accent), strict=True):
            series.format.fill.solid()
            series.format.fill.fore_color.rgb = _rgb(colour)

    def timeline_slides(self) -> None:
        phases = list(self.study.phases)
        for start in range(0, len(phases), _PHASES_PER_SLIDE):
            chunk = phases[start : start + _PHASES_PER_SLIDE]
            slide = self._slide()
            top = self._heading(slide, "How it was done")
            self._timeline(slide, chunk, start, len(phases), top)
            self._notes(
                slide,
                "\n".join(
                    f"{start + i + 1}. {p.name} ({p.period}): {p.description}"
                    for i, p in enumerate(chunk)
                ),
            )

    def _timeline(
        self, slide: Slide, phases: list[case_study_pb2.Phase], first: int, total: int, top: int
    ) -> None:
        p = self.p
        count = len(phases)
        column_w = (WIDTH - 2 * _MARGIN) // count
        radius = inch(0.32)
        axis_y = top + inch(0.9)
        line = slide.shapes.add_connector(
            MSO_CONNECTOR.STRAIGHT,
            *_lengths(
                (_MARGIN + radius, axis_y, _MARGIN + column_w * (count - 1) + radius, axis_y)
            ),
        )
        line.line.color.rgb = _rgb(p.accent_soft if p.accent_soft != theme.WHITE else theme.RULE)
        line.line.width = Pt(4)
        line.shadow.inherit = False
        for offset, phase in enumerate(phases):
            index = first + offset
            colour = brand.mix(p.accent, p.accent_ink, index / (total - 1) if total > 1 else 0)
            x = _MARGIN + offset * column_w
            circle = slide.shapes.add_shape(
                MSO_SHAPE.OVAL, *_lengths((x, axis_y - radius, 2 * radius, 2 * radius))
            )
            circle.fill.solid()
            circle.fill.fore_color.rgb = _rgb(colour)
            circle.line.fill.background()
            circle.shadow.inherit = False
            frame = circle.text_frame
            frame.margin_left = frame.margin_right = frame.margin_top = frame.margin_bottom = 0
            frame.vertical_anchor = MSO_ANCHOR.MIDDLE
            para = frame.paragraphs[0]
            para.alignment = PP_ALIGN.CENTER
            run = para.add_run()
            run.text = str(index + 1)
            run.font.size, run.font.bold = Pt(16), True
            run.font.color.rgb = _rgb(brand.text_on(colour))
            w = column_w - inch(0.25)
            y = axis_y + radius + inch(0.25)
            self._text(
                slide,
                (x, y, w, inch(0.8)),
                phase.name or f"Phase {index + 1}",
                size=Pt(18),
                bold=True,
            )
            if phase.period.strip():
                self._text(
                    slide,
                    (x, y + inch(0.85), w, inch(0.4)),
                    phase.period,
                    size=Pt(13),
                    colour=p.accent_ink,
                    bold=True,
                )
            if phase.description.strip():
                self._text(
                    slide,
                    (x, y + inch(1.3), w, HEIGHT - y - inch(1.3) - _MARGIN),
                    phase.description,
                    colour=theme.TEXT,
                    size=_font_size(
                        phase.description,
                        largest=14,
                        smallest=10,
                        chars_at_largest=200 // count * 3,
                    ),
                )

    def quote_slide(self) -> None:
        s, p = self.study, self.p
        if not (s.HasField("quote") and s.quote.text.strip()):
            return
        slide = self._slide()
        self._rect(slide, (0, 0, WIDTH, HEIGHT), p.accent)
        text = f"“{s.quote.text.strip()}”"
        self._text(
            slide,
            (inch(1.2), inch(1.2), WIDTH - inch(2.4), inch(4.2)),
            text,
            size=_font_size(text, largest=36, smallest=18, chars_at_largest=160),
            colour=p.on_accent,
            italic=True,
            anchor=MSO_ANCHOR.MIDDLE,
        )
        who = ", ".join(x for x in (s.quote.author, s.quote.role) if x.strip())
        if who:
            self._text(
                slide,
                (inch(1.2), inch(5.7), WIDTH - inch(2.4), inch(0.6)),
                f"— {who}",
                size=Pt(20),
                colour=p.on_accent,
                bold=True,
            )
        self._notes(slide, f"Quoted as written: {text} — {who}".strip(" —"))


def _pages(text: str, limit: int) -> list[str]:
    """`text` in parts of at most `limit` characters, split between words."""
    parts: list[str] = []
    while len(text) > limit:
        cut = text.rfind(" ", 0, limit + 1)
        cut = cut if cut > 0 else limit
        parts.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    return [*parts, text] if text else parts


def _sources(metrics: list[case_study_pb2.Metric]) -> str:
    """Speaker notes: each number's source, as the notes wrote it."""
    lines = ["Sources of the numbers (as written in the notes):"]
    for metric in metrics:
        line = f"• {metric.label}: before “{metric.before}”, after “{metric.after}”"
        if metric.improvement:
            line += f", change “{metric.improvement}”"
        values = bar_values(metric)
        if values is not None:
            unit = f" {metric.unit}" if metric.unit else ""
            line += f"; charted as {values[0]:g}{unit} → {values[1]:g}{unit}"
        lines.append(line)
    return "\n".join(lines)
