"""Numbers as people write them: 1,200 = 1200 = 1.2k = 1.2 thousand; 0.9% = 0,9 %; $1.2M; three.

``find_numbers(text)`` yields every figure in a text with the values it may stand for (a written
form can be ambiguous: "1,200" is twelve hundred in English and 1.2 in German notes), its unit when
one follows, and the precision it was written with, so a checker can compare it "within rounding".
"""

from __future__ import annotations

import bisect
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace

from structurer_service.extract.numbers import time_unit
from structurer_service.extract.pairs import compound_durations
from structurer_service.extract.phases import PERIOD_WORDS, PHASE_WORDS
from structurer_service.extract.plain_tables import cell_spans, delimited_rows

_GROUPED = r"\d{1,3}(?:(?P<sep>[,.'’\u00a0\u202f ])\d{3})(?:(?P=sep)\d{3})*(?:[.,]\d+)?"
_PLAIN = r"\d+(?:[.,]\d+)?"
# A figure starts after anything but a letter, a digit or a point: "wk9" and "B2B" are names, and a
# comma is a separator only after a non-digit ("CSAT,78%"; in "0,9" the 9 is a decimal). A number
# glued to a period word is a figure all the same: "wk9-10", "Phase3" (the extractor reads them).
_STARTS = "|".join(
    [r"(?<![\w.])(?<!\d,)", *(rf"(?<=\b{word})" for word in (*PERIOD_WORDS, *PHASE_WORDS))]
)
_NUMBER = re.compile(
    r"(?=\d)(?:" + _STARTS + r")(?P<num>" + _GROUPED + "|" + _PLAIN + r")"
    r"(?P<suffix>[A-Za-z]+)?"
    r"(?P<after>\s?(?:%|per\s?cent\b|percent\b|pct\b|pp\b|pts?\b|points?\b|×|"
    r"thousand\b|million\b|billion\b|mio\b|mrd\b|mn\b|bn\b|k\b))?",
    re.IGNORECASE,
)
# Letters that may follow a figure and keep it a figure; "5G", "2FA" or "3D" are names.
_SCALE_SUFFIX = {
    "k": 1e3,
    "thousand": 1e3,
    "m": 1e6,
    "mm": 1e6,
    "mn": 1e6,
    "mio": 1e6,
    "million": 1e6,
    "b": 1e9,
    "bn": 1e9,
    "mrd": 1e9,
    "billion": 1e9,
}
_OTHER_SUFFIXES = frozenset(
    "x st nd rd th am pm w pp pts pt bps kg km ml gb tb mb kb hz kw kwh mw fte".split()
)
_POINTS = frozenset({"pp", "pt", "pts", "point", "points"})
_PERCENT = frozenset({"%", "percent", "pct", *_POINTS})
_UNIT_WORD = re.compile(r"\s?([A-Za-z]+)")
_WORDS = {
    "zero": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "hundred": 100,
    "dozen": 12,
    "double": 2,
    "twice": 2,
    "triple": 3,
    "half": 0.5,
    "third": 1 / 3,
    "thirds": 1 / 3,
    "quarter": 0.25,
}
# In a case study these words are numbers only when they count something; "one" rarely does.
_COUNTING_WORDS = frozenset(w for w, v in _WORDS.items() if isinstance(v, int) and v >= 2)
_WORD = re.compile(r"\b(" + "|".join(_WORDS) + r")\b", re.IGNORECASE)


@dataclass(frozen=True)
class Figure:
    """One figure in a text: where it is, as written, and the values it may stand for."""

    start: int
    end: int
    written: str
    # Each way to read it: (value, step). The step is the place value of the last digit written,
    # in the figure's own scale: 1 for "67", 0.1 for "4.9", 100_000 for "1.2M"; a check allows
    # half of it for a copy, all of it for a computation. The first reading is the likeliest.
    readings: tuple[tuple[float, float], ...]
    percent: bool = False  # "%", and points too ("pp", "pts")
    points: bool = False  # a difference written in points: "+11 pts", "15 points"
    factor: bool = False
    # Seconds per unit when a time unit follows ("94 min", "3 days", "4h").
    seconds: float | None = None
    word: bool = False


def find_numbers(text: str, *, words: bool = True) -> Iterator[Figure]:
    """Every figure in ``text``, in order. ``words`` adds number words ("three", "a dozen").

    Figures are read as the local extractor reads them: a table's row cell by cell ("CSAT,78%,92%"
    holds 78% and 92%), and a duration in two units as one figure ("4h 10m" is 250 minutes).
    """
    figures = [figure for start, end in _pieces(text) for figure in _read(text, start, end)]
    compounds = [
        Figure(
            token.start,
            token.end,
            token.quantity.text,
            ((token.quantity.value, 1.0),),
            seconds=token.quantity.seconds,
        )
        for token in compound_durations(text)
    ]
    if compounds:
        starts = [compound.start for compound in compounds]
        figures = [figure for figure in figures if not _inside(figure, compounds, starts)]
        figures = sorted([*figures, *compounds], key=lambda figure: figure.start)
    yield from figures
    if words:
        for match in _WORD.finditer(text):
            value = _WORDS[match.group(1).lower()]
            yield Figure(
                match.start(), match.end(), match.group(0), ((float(value), 1.0),), word=True
            )


def _inside(figure: Figure, compounds: list[Figure], starts: list[int]) -> bool:
    """Whether ``figure`` is a part of one of the compound durations (sorted, with their starts)."""
    at = bisect.bisect_right(starts, figure.start) - 1
    return at >= 0 and figure.start < compounds[at].end


def _read(text: str, start: int, end: int) -> Iterator[Figure]:
    """The figures of ``text[start:end]``, read as if nothing surrounded it."""
    piece = text[start:end]
    for match in _NUMBER.finditer(piece):
        figure = _figure(piece, match)
        if figure is not None:
            yield (
                replace(figure, start=figure.start + start, end=figure.end + start)
                if start
                else figure
            )


def _pieces(text: str) -> Iterator[tuple[int, int]]:
    """The spans of ``text`` to read figures in: the text between tables' rows, and each cell."""
    lines = text.split("\n")
    rows = delimited_rows(tuple(lines))
    if not rows:
        yield 0, len(text)
        return
    start = offset = 0
    for index, line in enumerate(lines):
        if index in rows:
            if offset > start:
                yield start, offset
            for cell_start, cell_end in cell_spans(line, rows[index]):
                yield offset + cell_start, offset + cell_end
            start = offset + len(line)
        offset += len(line) + 1
    if len(text) > start:
        yield start, len(text)


def seconds_per(unit: str) -> float | None:
    """Seconds in one ``unit`` ("min", "hours", "Tage"...), or None when it is not a time unit."""
    duration = time_unit(unit)
    return duration[1] if duration is not None else None


def is_counting_word(figure: Figure) -> bool:
    return figure.written.lower() in _COUNTING_WORDS


def _figure(text: str, match: re.Match[str]) -> Figure | None:
    digits = match.group("num")
    suffix = (match.group("suffix") or "").lower()
    after = re.sub(r"\s", "", (match.group("after") or "").lower())
    scale = 1.0
    seconds: float | None = None
    if suffix:
        if suffix in _SCALE_SUFFIX:
            scale = _SCALE_SUFFIX[suffix]
        elif (duration := time_unit(suffix)) is not None:
            seconds = duration[1]
        elif suffix not in _OTHER_SUFFIXES:
            return None  # an identifier such as 5G or 2FA
    if after in _SCALE_SUFFIX:
        scale = _SCALE_SUFFIX[after]
    percent = after in _PERCENT or suffix in _PERCENT
    points = after in _POINTS or suffix in _POINTS
    factor = suffix == "x" or after == "×"
    end = match.end()
    if seconds is None and not suffix and not after:
        unit = _UNIT_WORD.match(text, end)
        duration = time_unit(unit.group(1)) if unit is not None else None
        if duration is not None:
            seconds = duration[1]  # "2.5 h" and "5 Tage" as the extractor reads them
    readings = _readings(digits, match.group("sep"))
    if not readings:
        return None
    scaled = [(value * scale, step * scale) for value, step in readings]
    if suffix == "m":
        # "1M" and "m" for minutes look alike: "45m" is also 45 (minutes).
        scaled += readings
        seconds = 60
    return Figure(
        match.start(),
        end,
        match.group(0).strip(),
        tuple(dict.fromkeys(scaled)),
        percent=percent,
        points=points,
        factor=factor,
        seconds=seconds,
    )


def _readings(digits: str, sep: str | None) -> list[tuple[float, float]]:
    """(value, step) for each way the digits can be read."""
    readings: list[tuple[float, float]] = []
    if sep is not None:
        cut = _decimal_at(digits, sep) or len(digits)
        grouped = re.sub(r"[,.'’\u00a0\u202f ]", "", digits[:cut])
        decimals = digits[cut + 1 :]
        text = grouped + ("." + decimals if decimals else "")
        readings.append((float(text), _step(text)))
        if sep in ",." and digits.count(sep) == 1 and not decimals:
            # "1,200" in German notes is 1.2; "1.200" in English ones is 1.2 too.
            readings.append((float(digits.replace(sep, ".")), 10.0 ** -len(digits.split(sep)[1])))
        if sep == " ":
            readings.extend((float(part), _step(part)) for part in digits.split(" "))
        return readings
    text = digits.replace(",", ".")
    try:
        value = float(text)
    except ValueError:
        return []
    if math.isinf(value):
        return []
    readings.append((value, _step(text)))
    return readings


def _decimal_at(digits: str, sep: str) -> int:
    """Where the decimal part of a grouped number starts (0: it has none)."""
    other = {",": ".", ".": ","}.get(sep)
    return digits.rfind(other) if other and other in digits else 0


def _step(text: str) -> float:
    """The place value of the last significant digit written. Trailing zeros of a whole number
    of four digits or more are taken as rounding ("1,200", "40000"); of a shorter one, as digits
    ("40%" is forty, not "some tens")."""
    if "." in text:
        return 10.0 ** -len(text.split(".")[1])
    stripped = text.rstrip("0")
    if len(text) < 4 or not stripped:
        return 1.0
    return 10.0 ** (len(text) - len(stripped))
