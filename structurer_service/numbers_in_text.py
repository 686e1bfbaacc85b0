"""Numbers as people write them: 1,200 = 1200 = 1.2k = 1.2 thousand; 0.9% = 0,9 %; $1.2M; three.

``find_numbers(text)`` yields every figure in a text with the values it may stand for (a written
form can be ambiguous: "1,200" is twelve hundred in English and 1.2 in German notes), its unit when
one follows, and the precision it was written with, so a checker can compare it "within rounding".
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass

_GROUPED = r"\d{1,3}(?:(?P<sep>[,.'’\u00a0\u202f ])\d{3})(?:(?P=sep)\d{3})*(?:[.,]\d+)?"
_PLAIN = r"\d+(?:[.,]\d+)?"
_NUMBER = re.compile(
    r"(?<![\w.,])(?P<num>" + _GROUPED + "|" + _PLAIN + r")"
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
_TIME_SECONDS = {
    "s": 1,
    "sec": 1,
    "secs": 1,
    "second": 1,
    "seconds": 1,
    "m": 60,
    "min": 60,
    "mins": 60,
    "minute": 60,
    "minutes": 60,
    "h": 3600,
    "hr": 3600,
    "hrs": 3600,
    "hour": 3600,
    "hours": 3600,
    "d": 86400,
    "day": 86400,
    "days": 86400,
    "w": 604800,
    "wk": 604800,
    "wks": 604800,
    "week": 604800,
    "weeks": 604800,
    "month": 2_629_800,
    "months": 2_629_800,
    "mo": 2_629_800,
    "year": 31_557_600,
    "years": 31_557_600,
    "yr": 31_557_600,
    "yrs": 31_557_600,
}
_OTHER_SUFFIXES = frozenset(
    "x st nd rd th am pm ms pp pts pt bps kg km ml gb tb mb kb hz kw kwh mw fte".split()
)
_PERCENT = frozenset({"%", "percent", "pct", "pp", "pt", "pts", "point", "points"})
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
    percent: bool = False
    factor: bool = False
    # Seconds per unit when a time unit follows ("94 min", "3 days", "4h").
    seconds: float | None = None
    word: bool = False


def find_numbers(text: str, *, words: bool = True) -> Iterator[Figure]:
    """Every figure in ``text``, in order. ``words`` adds number words ("three", "a dozen")."""
    for match in _NUMBER.finditer(text):
        figure = _figure(text, match)
        if figure is not None:
            yield figure
    if words:
        for match in _WORD.finditer(text):
            value = _WORDS[match.group(1).lower()]
            yield Figure(
                match.start(), match.end(), match.group(0), ((float(value), 1.0),), word=True
            )


def seconds_per(unit: str) -> float | None:
    """Seconds in one ``unit`` ("min", "hours", "days"...), or None when it is not a time unit."""
    return _TIME_SECONDS.get(unit.strip().lower())


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
        elif suffix in _TIME_SECONDS:
            seconds = _TIME_SECONDS[suffix]
        elif suffix not in _OTHER_SUFFIXES:
            return None  # an identifier such as 5G or 2FA
    if after in _SCALE_SUFFIX:
        scale = _SCALE_SUFFIX[after]
    percent = after in _PERCENT or suffix in _PERCENT
    factor = suffix == "x" or after == "×"
    end = match.end()
    if seconds is None and not suffix and not after:
        unit = _UNIT_WORD.match(text, end)
        if unit is not None and unit.group(1).lower() in _TIME_SECONDS and len(unit.group(1)) > 1:
            seconds = _TIME_SECONDS[unit.group(1).lower()]
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
