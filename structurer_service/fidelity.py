"""Every number in a case study traced back to the notes.

A figure is traced when the notes hold the same value in any written form (within the rounding
its own digits allow: "1.2k" traces 1,234), or a value computed from figures the notes write near
each other (a difference, a sum, a ratio, a percentage change: 94 min -> 31 min is "67% faster"),
or from a metric's own before and after values, or when it counts the case study's own metrics or
phases. Time units convert ("3 days" is 72 hours). What is left is reported, never removed: a
person decides.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

from casecraft.v1 import case_study_pb2, structurer_pb2
from structurer_service.numbers_in_text import Figure, find_numbers, is_counting_word, seconds_per

# Figures the notes write this close together (characters, and figures apart) may be combined:
# a before and its after sit in one line, one sentence or one table row.
_NEAR_CHARS = 200
_NEAR_FIGURES = 8
_SNIPPET = 48
_MAX_PAIRED = 4000


@dataclass(frozen=True)
class Untraced:
    """A figure of the case study that the notes do not support."""

    field: str  # e.g. "metrics[0].after", "results"
    text: str  # the words around it, from the case study
    value: str  # the figure as written, e.g. "23%"


@dataclass(frozen=True)
class FidelityReport:
    checked: int
    untraced: tuple[Untraced, ...]

    def message(self) -> structurer_pb2.Fidelity:
        return structurer_pb2.Fidelity(
            checked=self.checked,
            untraced=[
                structurer_pb2.UntracedFigure(field=u.field, text=u.text, value=u.value)
                for u in self.untraced
            ],
        )

    def warning(self) -> str | None:
        """One line for the answer's warnings, or None when every figure traced."""
        if not self.untraced:
            return None
        listed = ", ".join(f"{u.value} in {u.field}" for u in self.untraced[:8])
        more = f" and {len(self.untraced) - 8} more" if len(self.untraced) > 8 else ""
        return (
            f"{len(self.untraced)} of {self.checked} figures are not in the notes and not "
            f"computed from them: {listed}{more}; check them before publishing"
        )


class _Pool:
    """Sorted values with a tolerance query."""

    def __init__(self, values: Iterable[float]) -> None:
        self._values = sorted(v for v in values if math.isfinite(v))

    def near(self, value: float, tolerance: float) -> bool:
        at = bisect.bisect_left(self._values, value - tolerance)
        return at < len(self._values) and self._values[at] <= value + tolerance


@dataclass(frozen=True)
class _Derived:
    """Values computed from pairs of figures that measure the same kind of thing."""

    points: list[float]  # differences of percentages
    plain: list[float]  # other differences, and sums
    seconds: list[float]  # differences and sums of durations, in seconds
    ratio: list[float]  # a / b both ways
    percent: list[float]  # percentage changes and shares


class _Pools:
    """Each kind of derived value, sorted for tolerance queries."""

    def __init__(self, derived: _Derived) -> None:
        self.points = _Pool(derived.points)
        self.plain = _Pool(derived.plain)
        self.seconds = _Pool(derived.seconds)
        self.ratio = _Pool(derived.ratio)
        self.percent = _Pool(derived.percent)


def _combine(a: float, b: float, derived: _Derived, kind: str) -> None:
    if a <= 0 or b <= 0:
        return
    if kind == "%":
        derived.points.append(abs(a - b))
    elif kind == "time":
        derived.seconds.extend((abs(a - b), a + b))
    else:
        derived.plain.extend((abs(a - b), a + b))
    derived.ratio.extend((a / b, b / a))
    derived.percent.extend((abs(a - b) / a * 100, abs(a - b) / b * 100, a / b * 100, b / a * 100))


_CURRENCY = frozenset("$€£¥₹")
_RANGE = frozenset("-–—")  # "Weeks 3-6" is a span, not a before and an after


def _kind(notes: str, figure: Figure) -> str:
    """What a figure measures, as far as its neighbours say: "%", "time", "money", a noun."""
    if figure.percent:
        return "%"
    if figure.seconds:
        return "time"
    if notes[max(0, figure.start - 1) : figure.start] in _CURRENCY:
        return "money"
    following = notes[figure.end : figure.end + 24].split()
    return following[0].lower().strip(".,;:)") if following else ""


def _list_marker(notes: str, figure: Figure) -> bool:
    """A "2." or "2)" opening a line: a list's numbering, not a measurement."""
    if notes[figure.end : figure.end + 1] not in (".", ")"):
        return False
    before = notes[max(0, figure.start - 8) : figure.start]  # bounded: notes can be one long line
    newline = before.rfind("\n")
    if newline < 0 and figure.start > 8:
        return False
    return not before[newline + 1 :].strip()


class NoteFigures:
    """The figures of one set of notes, and what can be computed from them; built once."""

    def __init__(self, notes: str) -> None:
        figures = list(find_numbers(notes))
        self._exact = _Pool(value for f in figures for value, _ in f.readings)
        self._seconds = _Pool(
            value * f.seconds for f in figures if f.seconds for value, _ in f.readings
        )
        measured = sorted(
            (f for f in figures if not f.word and not _list_marker(notes, f)),
            key=lambda f: f.start,
        )
        # A data dump's figures beyond the first few thousand are still matched as written,
        # but not combined: pairing them all would cost seconds and trace almost anything.
        measured = measured[:_MAX_PAIRED]
        kinds = [_kind(notes, f) for f in measured]
        derived = _Derived([], [], [], [], [])
        for i, first in enumerate(measured):
            for j in range(i + 1, min(i + 1 + _NEAR_FIGURES, len(measured))):
                second = measured[j]
                if second.start - first.end > _NEAR_CHARS:
                    break
                if kinds[i] != kinds[j] or notes[first.end : second.start] in _RANGE:
                    continue
                a, b = first.readings[0][0], second.readings[0][0]
                if kinds[i] == "time":
                    a, b = a * (first.seconds or 1), b * (second.seconds or 1)
                _combine(a, b, derived, kinds[i])
        self.derived = _Pools(derived)

    def exact(self, value: float, tolerance: float) -> bool:
        return self._exact.near(value, tolerance)

    def in_seconds(self, value: float, tolerance: float) -> bool:
        return self._seconds.near(value, tolerance)


class _Checker:
    def __init__(self, notes: NoteFigures, case_study: case_study_pb2.CaseStudy) -> None:
        self._notes = notes
        derived = _Derived([], [], [], [], [])
        for metric in case_study.metrics:
            pair = _metric_values(metric)
            if pair is not None:
                _combine(*pair, derived, "%" if metric.unit.strip() == "%" else metric.unit)
        self._pools = (notes.derived, _Pools(derived))
        counts = {float(len(case_study.metrics)), float(len(case_study.phases))}
        # Phases may be numbered by the writer: "Phase 2", "Step 3".
        counts.update(float(n) for n in range(1, len(case_study.phases) + 1))
        self._counts = counts

    def traced(self, figure: Figure) -> bool:
        for value, step in figure.readings:
            value = abs(value)
            copy, computed = step / 2 + abs(value) * 1e-9, step + abs(value) * 1e-9
            if self._notes.exact(value, copy) or value in self._counts:
                return True
            if figure.seconds:
                seconds, tolerance = value * figure.seconds, computed * figure.seconds
                if self._notes.in_seconds(seconds, tolerance) or any(
                    pools.seconds.near(seconds, tolerance) for pools in self._pools
                ):
                    return True
            kinds: tuple[str, ...] = ("plain", "ratio")
            if figure.percent:
                kinds = ("percent", "points")
            elif figure.factor:
                kinds = ("ratio",)
            for pools in self._pools:
                if any(getattr(pools, kind).near(value, computed) for kind in kinds):
                    return True
        return False


def _metric_values(metric: case_study_pb2.Metric) -> tuple[float, float] | None:
    if metric.HasField("before_value") and metric.HasField("after_value"):
        return abs(metric.before_value), abs(metric.after_value)
    before = next(find_numbers(metric.before, words=False), None)
    after = next(find_numbers(metric.after, words=False), None)
    if before is None or after is None:
        return None
    return abs(before.readings[0][0]), abs(after.readings[0][0])


def trace_numbers(case_study: case_study_pb2.CaseStudy, notes: str | NoteFigures) -> FidelityReport:
    """Check every figure of ``case_study`` against ``notes``."""
    figures = notes if isinstance(notes, NoteFigures) else NoteFigures(notes)
    checker = _Checker(figures, case_study)
    checked = 0
    untraced: list[Untraced] = []
    for path, figure, text in _figures(case_study):
        checked += 1
        if not checker.traced(figure):
            untraced.append(Untraced(path, _snippet(text, figure), figure.written))
    return FidelityReport(checked, tuple(untraced))


def _figures(message: Message, prefix: str = "") -> Iterator[tuple[str, Figure, str]]:
    """(field path, figure, the text it is in) for every figure in ``message``, in field order."""
    for field, value in message.ListFields():
        path = f"{prefix}{field.name}"
        if field.type == FieldDescriptor.TYPE_MESSAGE:
            items = value if field.is_repeated else [value]
            for index, item in enumerate(items):
                where = f"{path}[{index}]." if field.is_repeated else f"{path}."
                yield from _figures(item, where)
        elif field.type == FieldDescriptor.TYPE_STRING and not field.is_repeated:
            for figure in find_numbers(value):
                if not figure.word or is_counting_word(figure):
                    yield path, figure, value
        elif field.type == FieldDescriptor.TYPE_DOUBLE and not field.is_repeated:
            yield path, _number_field(message, field.name, value), repr(value)


def _number_field(message: Message, name: str, value: float) -> Figure:
    """A parsed number (a metric's before_value, change_percent) as a figure in its unit."""
    unit = str(getattr(message, "unit", "")).strip().lower()
    written = f"{value:g}"
    decimals = written.split(".")[1] if "." in written and "e" not in written else ""
    step = max(10.0 ** -len(decimals) if decimals else 1.0, abs(value) * 0.005)
    percent = name.endswith("percent") or unit == "%"
    seconds = None if name.endswith("percent") else seconds_per(unit)
    return Figure(0, 0, written, ((value, step),), percent=percent, seconds=seconds)


def _snippet(text: str, figure: Figure) -> str:
    if figure.end == 0 or len(text) <= 2 * _SNIPPET:
        return text
    start = max(0, figure.start - _SNIPPET)
    end = min(len(text), figure.end + _SNIPPET)
    if start > 0:
        start = text.find(" ", start) + 1 or start
    if end < len(text):
        end = text.rfind(" ", figure.end, end) if text.rfind(" ", figure.end, end) > 0 else end
    return ("…" if start > 0 else "") + text[start:end].strip() + ("…" if end < len(text) else "")
