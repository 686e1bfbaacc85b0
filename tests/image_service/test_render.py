from __future__ import annotations

import re
from io import BytesIO
from typing import Any

import pytest
from PIL import Image, ImageChops, ImageDraw, ImageFont, ImageStat

from casecraft.v1 import case_study_pb2, image_pb2
from image_service.render import (
    render_hero,
    render_metrics,
    render_size,
    render_timeline,
    theme,
)
from image_service.render.dashboard import outcome

MAGENTA = (255, 0, 255)
FULL = (1600, 900)
FAST = (800, 450)
# 100 KB of text with no space in it: pasted base64, a URL, a run of one key held down.
NO_SPACES = {
    "mixed": ("Northwind" * 12_000)[:100_000],
    "wide": "W" * 100_000,
    "narrow": "i" * 100_000,
}


def decode(png: bytes) -> Image.Image:
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    image = Image.open(BytesIO(png))
    image.load()
    return image


def mask_of(image: Image.Image, colour: tuple[int, int, int]) -> Image.Image:
    """An L image that is 255 exactly where `image` has `colour`."""
    channels = [
        band.point(lambda v, c=c: 255 if v == c else 0)
        for band, c in zip(image.convert("RGB").split(), colour, strict=True)
    ]
    return ImageChops.multiply(ImageChops.multiply(channels[0], channels[1]), channels[2])


def count_colour(image: Image.Image, colour: tuple[int, int, int]) -> int:
    return mask_of(image, colour).histogram()[255]


def longest_runs(
    image: Image.Image, colour: tuple[int, int, int], minimum: int = 30
) -> dict[int, int]:
    """Left edge -> length of the longest horizontal runs of `colour` (>= minimum) per shape.

    Runs starting within a few pixels of each other (a bar's rounded corners) count as one shape.
    """
    mask = mask_of(image, colour)
    data = mask.tobytes()
    runs: dict[int, int] = {}
    for y in range(mask.height):
        row = data[y * mask.width : (y + 1) * mask.width]
        for match in re.finditer(rb"\xff+", row):
            length = match.end() - match.start()
            if length >= minimum:
                runs[match.start()] = max(runs.get(match.start(), 0), length)
    shapes: dict[int, int] = {}
    for start in sorted(runs):
        near = [x for x in shapes if start - x <= 8]
        if near:
            shapes[near[0]] = max(shapes[near[0]], runs[start])
        else:
            shapes[start] = runs[start]
    return shapes


def assert_looks_drawn(image: Image.Image, size: tuple[int, int]) -> None:
    assert image.size == size
    assert image.mode == "RGB"
    colours = image.getcolors(maxcolors=1_000_000)
    assert colours is not None and len(colours) > 200
    assert max(ImageStat.Stat(image).stddev) > 10


def assert_border_is(image: Image.Image, colour: tuple[int, int, int], width: int = 20) -> None:
    """Nothing was drawn into the outer `width` pixels: content stayed inside the margins."""
    w, h = image.size
    for box in ((0, 0, w, width), (0, h - width, w, h), (0, 0, width, h), (w - width, 0, w, h)):
        assert image.crop(box).getcolors() == [((box[2] - box[0]) * (box[3] - box[1]), colour)]


def logo_png(colour: tuple[int, int, int] = MAGENTA, fmt: str = "PNG") -> bytes:
    logo = Image.new(
        "RGBA" if fmt == "PNG" else "RGB",
        (300, 120),
        (255, 255, 255, 0)[: 4 if fmt == "PNG" else 3],
    )
    ImageDraw.Draw(logo).rectangle((20, 20, 280, 100), fill=colour)
    buffer = BytesIO()
    logo.save(buffer, format=fmt)
    return buffer.getvalue()


def hero(**overrides: str) -> image_pb2.HeroData:
    fields = {
        "client_name": "Northwind Logistics",
        "industry": "Freight",
        "title": "Cutting dispatch time by two thirds",
        "subtitle": "From phone calls to real-time routing in 14 weeks.",
    }
    fields.update(overrides)
    return image_pb2.HeroData(**fields)


def metric(
    label: str, before_value: float, after_value: float, **fields: object
) -> case_study_pb2.Metric:
    m = case_study_pb2.Metric(
        label=label, before_value=before_value, after_value=after_value, **fields
    )  # type: ignore[arg-type]
    m.before = m.before or f"{before_value:g}"
    m.after = m.after or f"{after_value:g}"
    return m


def phases(count: int) -> list[case_study_pb2.Phase]:
    return [
        case_study_pb2.Phase(
            name=f"Phase name {i}",
            period=f"Weeks {2 * i}-{2 * i + 1}",
            description="Mapped the hand-offs, built the service and trained the team on it. " * 2,
        )
        for i in range(count)
    ]


class TestSize:
    def test_defaults_and_fast_mode(self) -> None:
        assert render_size(0, 0, fast=False) == FULL
        assert render_size(0, 0, fast=True) == FAST

    def test_explicit_size_wins_over_fast(self) -> None:
        assert render_size(1024, 1024, fast=True) == (1024, 1024)

    def test_one_side_keeps_aspect_ratio(self) -> None:
        assert render_size(1200, 0, fast=False) == (1200, 675)
        assert render_size(0, 450, fast=False) == (800, 450)

    @pytest.mark.parametrize(
        ("width", "height"), [(100, 900), (1600, 199), (5000, 900), (1600, 4097)]
    )
    def test_out_of_bounds_is_rejected(self, width: int, height: int) -> None:
        with pytest.raises(ValueError, match=r"200\.\.4096"):
            render_size(width, height, fast=False)

    def test_renderers_reject_out_of_bounds_sizes(self) -> None:
        with pytest.raises(ValueError, match="width"):
            render_hero(hero(), size=(50, 900))
        with pytest.raises(ValueError, match="height"):
            render_metrics(image_pb2.MetricsData(metrics=[metric("a", 1, 2)]), size=(1600, 9000))


class TestHero:
    def test_full_size_banner_is_drawn(self) -> None:
        assert_looks_drawn(decode(render_hero(hero(), size=FULL)), FULL)

    def test_fast_size(self) -> None:
        assert_looks_drawn(decode(render_hero(hero(), size=FAST)), FAST)

    def test_logo_appears_top_left(self) -> None:
        image = decode(render_hero(hero(), logo=logo_png(), size=FULL))
        magenta = mask_of(image, MAGENTA)
        assert magenta.histogram()[255] > 2000
        box = magenta.getbbox()
        assert box is not None and box[2] < FULL[0] // 2 and box[3] < FULL[1] // 2

    def test_jpeg_logo_is_accepted(self) -> None:
        image = decode(render_hero(hero(), logo=logo_png((0, 160, 0), "JPEG"), size=FAST))
        assert_looks_drawn(image, FAST)

    def test_without_logo_there_is_no_magenta(self) -> None:
        assert count_colour(decode(render_hero(hero(), size=FULL)), MAGENTA) == 0

    @pytest.mark.parametrize(
        "logo", [b"not an image", b"\x89PNG\r\n\x1a\n" + b"\0" * 40, b"GIF89a"]
    )
    def test_undecodable_logo_is_rejected(self, logo: bytes) -> None:
        with pytest.raises(ValueError, match="logo"):
            render_hero(hero(), logo=logo, size=FAST)

    def test_long_text_stays_in_the_text_column(self) -> None:
        data = hero(
            title="An extraordinarily long case study title " * 6,
            subtitle="And a subtitle that keeps going well past what fits on a banner. " * 5,
            client_name="A client with a remarkably long legal name incorporated somewhere " * 2,
            industry="Industry " * 10,
        )
        for size in (FULL, FAST, (600, 900)):
            image = decode(render_hero(data, size=size))
            assert_looks_drawn(image, size)
            white = mask_of(image, theme.WHITE).getbbox()
            assert white is not None and white[2] <= size[0] * 0.7

    def test_empty_fields_still_render(self) -> None:
        assert_looks_drawn(decode(render_hero(image_pb2.HeroData(), size=FAST)), FAST)

    def test_unicode_text_renders(self) -> None:
        data = hero(
            title="Café → growth — réalisé", client_name="Société Générale", industry="Énergie"
        )
        assert_looks_drawn(decode(render_hero(data, size=FULL)), FULL)


class TestText:
    @pytest.mark.parametrize("weight", ["regular", "semibold", "bold"])
    def test_unicode_maps_to_glyphs_the_font_has(self, weight: theme.Weight) -> None:
        font = theme.face(24, weight).font
        missing = bytes(font.getmask("\uffff"))
        shown = theme.displayable("Café → growth — 2024 – naïve", weight)
        assert "Caf" in shown and "2024" in shown
        for char in set(shown) - {" "}:
            assert bytes(font.getmask(char)) != missing, f"{char!r} would draw as a box"
        assert shown == "Café → growth — 2024 – naïve"

    def test_wrap_respects_width_and_lines(self) -> None:
        fc = theme.face(20)
        lines = theme.paragraph(
            "word " * 200 + "Supercalifragilisticexpialidocious" * 3, fc, 200, 4
        )
        assert len(lines) == 4
        assert all(fc.width(line) <= 200 for line in lines)
        assert lines[-1].endswith("…")

    def test_fit_shrinks_before_truncating(self) -> None:
        short = theme.fit("Short", (400, 100), max_size=60, min_size=20)
        long = theme.fit("A much longer line of text " * 2, (400, 100), max_size=60, min_size=20)
        assert short.face.size == 60
        assert 20 <= long.face.size < 60
        assert long.width <= 400 and long.height <= 100

    def test_ellipsize(self) -> None:
        fc = theme.face(20)
        assert theme.ellipsize("short", fc, 500) == "short"
        cut = theme.ellipsize("a long sentence that will not fit", fc, 80)
        assert cut.endswith("…") and fc.width(cut) <= 80


class TestMetrics:
    def test_dashboard_is_drawn(self) -> None:
        data = image_pb2.MetricsData(
            client_name="Northwind",
            metrics=[
                metric("Dispatch time", 94, 31, unit="min", lower_is_better=True),
                metric("NPS", 32, 61),
            ],
        )
        for size in (FULL, FAST):
            image = decode(render_metrics(data, size=size))
            assert_looks_drawn(image, size)
            assert_border_is(image, theme.CANVAS)

    @pytest.mark.parametrize("size", [FULL, FAST, (1200, 1200)])
    def test_bars_are_drawn_to_scale(self, size: tuple[int, int]) -> None:
        pairs = [(94.0, 31.0), (32.0, 61.0), (4200.0, 3150.0)]
        data = image_pb2.MetricsData(
            metrics=[metric(f"m{i}", b, a) for i, (b, a) in enumerate(pairs)]
        )
        image = decode(render_metrics(data, size=size))
        before = longest_runs(image, theme.BAR_BEFORE)
        after = longest_runs(image, theme.BAR_AFTER)
        assert sorted(before) == sorted(after), (
            "each card has a before and an after bar, same left edge"
        )
        assert len(before) == len(pairs)
        longest = []
        for x, (b, a) in zip(sorted(before), pairs, strict=True):
            longer, shorter = (before[x], after[x]) if b >= a else (after[x], before[x])
            assert abs(shorter - longer * min(a, b) / max(a, b)) <= 2
            longest.append(longer)
        assert max(longest) - min(longest) <= 1, "the larger value fills the track in every card"

    def test_equal_values_draw_equal_bars_and_zero_draws_none(self) -> None:
        data = image_pb2.MetricsData(metrics=[metric("same", 5, 5), metric("gone", 12, 0)])
        image = decode(render_metrics(data, size=FULL))
        before, after = longest_runs(image, theme.BAR_BEFORE), longest_runs(image, theme.BAR_AFTER)
        assert len(before) == 2 and len(after) == 1
        x = min(before)
        assert after[x] == before[x]

    def test_metrics_without_numbers_render_as_text_cards(self) -> None:
        data = image_pb2.MetricsData(
            metrics=[
                case_study_pb2.Metric(
                    label="Reporting", before="Weekly spreadsheet", after="Live dashboard"
                ),
                case_study_pb2.Metric(
                    label="Morale", after="Much better", improvement="Happier team"
                ),
                metric("Profit", -5, 10),
            ]
        )
        image = decode(render_metrics(data, size=FULL))
        assert_looks_drawn(image, FULL)
        assert count_colour(image, theme.BAR_AFTER) == 0
        assert count_colour(image, theme.BAR_BEFORE) == 0

    def test_many_metrics_and_long_labels_stay_in_bounds(self) -> None:
        long = "A very long label describing exactly how this metric was measured and by whom " * 3
        data = image_pb2.MetricsData(
            client_name="Client " * 20,
            metrics=[
                metric(
                    long,
                    10 + i,
                    20 - i,
                    improvement="improved by a great deal " * 4,
                    before=long,
                    after=long,
                )
                for i in range(12)
            ],
        )
        for size in (FULL, FAST):
            image = decode(render_metrics(data, size=size))
            assert_looks_drawn(image, size)
            assert_border_is(image, theme.CANVAS, width=size[0] // 80)
            assert len(longest_runs(image, theme.BAR_BEFORE, minimum=20)) == 4  # four columns

    @pytest.mark.parametrize("size", [FULL, FAST, (200, 200), (4096, 200)])
    def test_past_twelve_metrics_the_first_twelve_are_drawn(self, size: tuple[int, int]) -> None:
        data = image_pb2.MetricsData(
            client_name="Northwind", metrics=[metric(f"m{i}", 10 + i, 20 + i) for i in range(300)]
        )
        image = decode(render_metrics(data, size=size))
        assert_looks_drawn(image, size)
        if size == FULL:
            assert len(longest_runs(image, theme.BAR_BEFORE, minimum=20)) == 4  # four columns

    def test_improvement_colour_respects_lower_is_better(self) -> None:
        better = metric("Handle time", 94, 31, lower_is_better=True, improvement="67% faster")
        worse = metric("Error rate", 4, 6, lower_is_better=True, improvement="worse")
        assert outcome(better) == "better"
        assert outcome(worse) == "worse"
        assert outcome(metric("NPS", 32, 61)) == "better"
        assert outcome(metric("Flat", 3, 3)) == "same"
        assert (
            outcome(case_study_pb2.Metric(label="x", change_percent=-12, lower_is_better=True))
            == "better"
        )
        assert outcome(case_study_pb2.Metric(label="x", after="good")) == "unknown"
        good = decode(render_metrics(image_pb2.MetricsData(metrics=[better]), size=FAST))
        bad = decode(render_metrics(image_pb2.MetricsData(metrics=[worse]), size=FAST))
        assert count_colour(good, theme.GOOD) > 100 and count_colour(good, theme.BAD) == 0
        assert count_colour(bad, theme.BAD) > 100 and count_colour(bad, theme.GOOD) == 0

    def test_unicode_text_renders(self) -> None:
        data = image_pb2.MetricsData(
            client_name="Société Générale",
            metrics=[
                metric(
                    "Coût → par unité — moyen",
                    12,
                    9,
                    before="12 €",
                    after="9 €",
                    lower_is_better=True,
                )
            ],
        )
        assert_looks_drawn(decode(render_metrics(data, size=FULL)), FULL)

    def test_no_metrics_is_rejected(self) -> None:
        with pytest.raises(ValueError, match="at least one metric"):
            render_metrics(image_pb2.MetricsData(client_name="x"), size=FULL)


class TestTimeline:
    @pytest.mark.parametrize("count", [1, 4, 5, 6, 10, 16, 24])
    def test_phases_render_within_bounds(self, count: int) -> None:
        data = image_pb2.TimelineData(client_name="Northwind", phases=phases(count))
        for size in (FULL, FAST):
            image = decode(render_timeline(data, size=size))
            assert_looks_drawn(image, size)
            assert_border_is(image, theme.CANVAS, width=size[0] // 80)

    @pytest.mark.parametrize("size", [FULL, (200, 200), (200, 4096)])
    def test_past_eighteen_phases_the_first_eighteen_are_drawn(self, size: tuple[int, int]) -> None:
        from image_service.render.timeline import MAX_PHASES_SHOWN, phase_colour

        data = image_pb2.TimelineData(client_name="Northwind", phases=phases(200))
        image = decode(render_timeline(data, size=size))
        assert_looks_drawn(image, size)
        if size == FULL:
            for index in (0, MAX_PHASES_SHOWN - 1):
                assert count_colour(image, phase_colour(index, MAX_PHASES_SHOWN)) > 100

    def test_markers_use_one_colour_per_phase(self) -> None:
        data = image_pb2.TimelineData(phases=phases(4))
        image = decode(render_timeline(data, size=FULL))
        from image_service.render.timeline import phase_colour

        for index in range(4):
            assert count_colour(image, phase_colour(index, 4)) > 1000

    def test_long_and_unicode_text_renders(self) -> None:
        data = image_pb2.TimelineData(
            client_name="Société Générale",
            phases=[
                case_study_pb2.Phase(
                    name="Découverte → cadrage — " * 5,
                    period="Semaines 1–2",
                    description="é " * 300,
                ),
                case_study_pb2.Phase(name="x"),
            ],
        )
        image = decode(render_timeline(data, size=FULL))
        assert_looks_drawn(image, FULL)
        assert_border_is(image, theme.CANVAS)

    def test_portrait_sizes_use_the_list_layout(self) -> None:
        data = image_pb2.TimelineData(phases=phases(3))
        image = decode(render_timeline(data, size=(600, 1000)))
        assert_looks_drawn(image, (600, 1000))
        assert_border_is(image, theme.CANVAS, width=10)

    def test_no_phases_is_rejected(self) -> None:
        with pytest.raises(ValueError, match="at least one phase"):
            render_timeline(image_pb2.TimelineData(client_name="x"), size=FULL)


class Measured:
    """Pillow text measurements made while installed: calls, and characters measured in all.

    A call past `ceiling` raises, so a renderer that measures without bound fails at once instead
    of running for minutes.
    """

    def __init__(self, ceiling: int) -> None:
        self.calls = 0
        self.chars = 0
        self.ceiling = ceiling

    def reset(self) -> None:
        self.calls = self.chars = 0


@pytest.fixture
def measured(monkeypatch: pytest.MonkeyPatch) -> Measured:
    counter = Measured(ceiling=600)
    for name in ("getlength", "getbbox", "getmask"):
        original = getattr(ImageFont.FreeTypeFont, name)

        def counting(
            font: ImageFont.FreeTypeFont, text: str, *args: object, _original: Any = original
        ) -> Any:
            counter.calls += 1
            counter.chars += len(text)
            if counter.calls > counter.ceiling:
                raise AssertionError(f"over {counter.ceiling} text measurements")
            return _original(font, text, *args)

        monkeypatch.setattr(ImageFont.FreeTypeFont, name, counting)
    return counter


class TestTextWithoutSpaces:
    """A 100 KB word costs a bounded number of measurements of bounded length, not one per char."""

    @pytest.mark.parametrize("word", NO_SPACES.values(), ids=NO_SPACES.keys())
    def test_wrap_breaks_the_word_into_lines_that_fit(self, word: str, measured: Measured) -> None:
        fc = theme.face(20)
        lines = theme.paragraph(word, fc, 300, 4)
        assert len(lines) == 4 and lines[-1].endswith("…")
        assert all(fc.width(line) <= 300 for line in lines)
        assert word.startswith("".join(lines)[:-1])
        assert measured.calls < 60 and measured.chars < 5_000

    @pytest.mark.parametrize("word", NO_SPACES.values(), ids=NO_SPACES.keys())
    def test_ellipsize_measures_only_what_could_fit(self, word: str, measured: Measured) -> None:
        fc = theme.face(20)
        cut = theme.ellipsize(word, fc, 300)
        assert cut.endswith("…") and fc.width(cut) <= 300 and word.startswith(cut[:-1])
        assert measured.calls < 20 and measured.chars < 2_000

    @pytest.mark.parametrize("word", NO_SPACES.values(), ids=NO_SPACES.keys())
    def test_fit_tries_every_size_cheaply(self, word: str, measured: Measured) -> None:
        block = theme.fit(word, (900, 300), max_size=84, min_size=36, weight="bold", max_lines=3)
        assert block.face.size == 36 and len(block.lines) == 3
        assert block.lines[-1].endswith("…") and block.width <= 900
        assert measured.calls < 300 and measured.chars < 30_000

    @pytest.mark.parametrize("word", NO_SPACES.values(), ids=NO_SPACES.keys())
    def test_line_and_paragraph_cut_before_mapping_glyphs(
        self, word: str, measured: Measured
    ) -> None:
        fc = theme.face(20, "semibold")
        shown = theme.line(word, fc, 300, "semibold")
        assert shown.endswith("…") and fc.width(shown) <= 300
        lines = theme.paragraph(word, fc, 300, 3, "semibold")
        assert len(lines) == 3 and all(fc.width(line) <= 300 for line in lines)
        assert measured.calls < 60 and measured.chars < 5_000

    def test_normal_words_still_wrap_at_spaces(self, measured: Measured) -> None:
        fc = theme.face(20)
        lines = theme.paragraph("word " * 20_000, fc, 300, 4)
        assert len(lines) == 4 and all(line.startswith("word") for line in lines)
        assert all(line.rstrip("…").endswith("word") for line in lines[:-1])
        assert measured.calls < 40

    @pytest.mark.parametrize("field", ["title", "subtitle", "client_name", "industry"])
    def test_hero_field(self, field: str, measured: Measured) -> None:
        for size in (FULL, FAST):
            measured.reset()
            image = decode(render_hero(hero(**{field: NO_SPACES["mixed"]}), size=size))
            assert_looks_drawn(image, size)
            white = mask_of(image, theme.WHITE).getbbox()
            assert white is not None and white[2] <= size[0] * 0.7
            assert measured.calls < 500 and measured.chars < 50_000

    @pytest.mark.parametrize("field", ["client_name", "label", "before", "after", "improvement"])
    @pytest.mark.parametrize("numbers", [True, False], ids=["bars", "text"])
    def test_metrics_field(self, field: str, numbers: bool, measured: Measured) -> None:
        one = case_study_pb2.Metric(label="Handle time", before="94 min", after="31 min")
        if numbers:
            one.before_value, one.after_value = 94, 31
        data = image_pb2.MetricsData(client_name="Northwind", metrics=[one, metric("NPS", 32, 61)])
        if field == "client_name":
            data.client_name = NO_SPACES["mixed"]
        else:
            setattr(data.metrics[0], field, NO_SPACES["mixed"])
        for size in (FULL, FAST):
            measured.reset()
            image = decode(render_metrics(data, size=size))
            assert_looks_drawn(image, size)
            assert_border_is(image, theme.CANVAS, width=size[0] // 80)
            assert measured.calls < 500 and measured.chars < 50_000

    @pytest.mark.parametrize("field", ["client_name", "name", "period", "description"])
    @pytest.mark.parametrize("count", [3, 8], ids=["across", "down"])
    def test_timeline_field(self, field: str, count: int, measured: Measured) -> None:
        data = image_pb2.TimelineData(client_name="Northwind", phases=phases(count))
        if field == "client_name":
            data.client_name = NO_SPACES["mixed"]
        else:
            setattr(data.phases[0], field, NO_SPACES["mixed"])
        for size in (FULL, FAST):
            measured.reset()
            image = decode(render_timeline(data, size=size))
            assert_looks_drawn(image, size)
            assert_border_is(image, theme.CANVAS, width=size[0] // 80)
            assert measured.calls < 500 and measured.chars < 50_000

    def test_every_field_at_once(self, measured: Measured) -> None:
        word = NO_SPACES["wide"]
        measured.ceiling = 8_000
        everything = {"client_name": word, "industry": word, "title": word, "subtitle": word}
        render_hero(image_pb2.HeroData(**everything), size=FULL)
        texts = {"label": word, "before": word, "after": word, "improvement": word}
        metrics = [case_study_pb2.Metric(**texts) for _ in range(12)]  # type: ignore[arg-type]
        render_metrics(image_pb2.MetricsData(client_name=word, metrics=metrics), size=FULL)
        step = case_study_pb2.Phase(name=word, period=word, description=word)
        for count in (5, 18):
            data = image_pb2.TimelineData(client_name=word, phases=[step] * count)
            render_timeline(data, size=FULL)
        assert measured.calls < 8_000 and measured.chars < 500_000
