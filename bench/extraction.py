"""How well the local extractor reads notes: per-field scores against hand-written truth files.

    python -m bench.extraction [--corpus dev,holdout,examples] [--json] [--no-misses]
    python -m bench.extraction --dir PATH      # any folder of NAME.txt + NAME.truth.json

A corpus is a folder of truth files, ``NAME.truth.json``, each beside its notes (``NAME.txt`` or
``NAME.md``) or naming them with a ``"notes"`` key (a path from the repository root: that is how
``tests/corpus/examples/`` points at ``examples/``). A truth file holds::

    {"client": "Acme" or "" when the notes name nobody,
     "industry": ["accepted", "names"],
     "metrics": [{"label", "before", "after"} or {"label", "improvement"}],
     "phases": [{"period", "name"}],
     "quote": {"author", "text": "its opening words"} or null}

Matching rules, the same for every corpus:
- client: equal after case-folding and dropping punctuation and a leading "the";
  industry: equal (case-folded) to one of the accepted names.
- a metric pair matches a found metric when its label matches (see ``labels_match``) and the
  before and after amounts match: the numbers as written, read by this module's own parser
  (either locale's separators, k/M multipliers, durations such as "4h 10m" in seconds); when the
  found metric carries parsed values, their ratio must agree with the truth's within 2%, so a
  misread unit ("3 weeks" read as 3 days) fails too. An improvement-only pair matches a found
  metric whose label matches and whose improvement holds the same number (or words).
- a phase matches a found phase, in order, when their periods are equal or their names match.
- quote: the author is the same person and the found text holds the truth's opening words.
The metrics and phases scores are F1 over every pair or phase of the corpus (a missed one and an
invented one both count); the others are the share of notes right.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from casecraft.v1.case_study_pb2 import CaseStudy, Metric, Phase
from structurer_service.extract import extract

ROOT = Path(__file__).resolve().parent.parent
CORPORA = {
    "dev": ROOT / "tests" / "corpus" / "dev",
    "holdout": ROOT / "tests" / "corpus" / "holdout",
    "examples": ROOT / "tests" / "corpus" / "examples",
}
FIELDS = ("client", "industry", "metrics", "phases", "quote")

_NUMBER = re.compile(r"[-+−]?\d[\d.,\s]*\d|[-+−]?\d")
_DURATION = re.compile(
    r"(\d+(?:[.,]\d+)?)[\s-]?(ms|s|secs?|seconds?|m|mins?|minutes?|h|hrs?|hours?|d|days?|días|tage"
    r"|wks?|weeks?|stunden|months?)(?![a-z])",
    re.IGNORECASE,
)
_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "t": 86400}
_MULTIPLIER = re.compile(r"^\s?(k|m|mio\.?|million|bn|billion)\b", re.IGNORECASE)
_WORD = re.compile(r"[a-z0-9]+")
_STOP = frozenset("a an the of per in on for to at by and with from".split())


@dataclass
class Score:
    right: int = 0
    total: int = 0
    matched: int = 0  # list fields: truth items matched
    expected: int = 0  # list fields: truth items
    found: int = 0  # list fields: items the extractor gave

    def value(self, list_field: bool) -> float:
        if list_field:
            denominator = self.expected + self.found
            return 1.0 if denominator == 0 else 2 * self.matched / denominator
        return 1.0 if self.total == 0 else self.right / self.total


@dataclass
class Report:
    scores: dict[str, Score] = field(default_factory=lambda: {f: Score() for f in FIELDS})
    misses: list[dict[str, Any]] = field(default_factory=list)
    notes: int = 0

    def figures(self) -> dict[str, float]:
        return {f: round(self.scores[f].value(f in ("metrics", "phases")), 4) for f in FIELDS}


def load_corpus(folder: Path) -> list[tuple[str, str, dict[str, Any]]]:
    """(name, notes, truth) for every truth file in ``folder``, by name."""
    cases = []
    for truth_path in sorted(folder.glob("*.truth.json")):
        name = truth_path.name.removesuffix(".truth.json")
        truth = json.loads(truth_path.read_text(encoding="utf-8"))
        if "notes" in truth:
            notes_path = ROOT / truth["notes"]
        else:
            notes_path = next(
                path for ext in (".txt", ".md") if (path := folder / f"{name}{ext}").exists()
            )
        cases.append((name, notes_path.read_text(encoding="utf-8"), truth))
    return cases


def score(cases: Iterable[tuple[str, str, dict[str, Any]]]) -> Report:
    report = Report()
    for name, notes, truth in cases:
        report.notes += 1
        study = extract(notes).case_study
        _score_note(report, name, study, truth)
    return report


def _score_note(report: Report, name: str, study: CaseStudy, truth: dict[str, Any]) -> None:
    def miss(field_name: str, expected: Any, found: Any) -> None:
        report.misses.append(
            {"note": name, "field": field_name, "expected": expected, "found": found}
        )

    client_ok = _name_key(study.client_name) == _name_key(truth["client"])
    _tally(report.scores["client"], client_ok)
    if not client_ok:
        miss("client", truth["client"], study.client_name)
    accepted = [value.casefold() for value in truth["industry"]]
    industry_ok = study.industry.casefold() in accepted
    _tally(report.scores["industry"], industry_ok)
    if not industry_ok:
        miss("industry", truth["industry"], study.industry)

    metrics = list(study.metrics)
    used: set[int] = set()
    for pair in truth["metrics"]:
        index = next(
            (i for i, m in enumerate(metrics) if i not in used and metric_matches(pair, m)), None
        )
        if index is None:
            miss("metrics", pair, [_metric_text(m) for m in metrics])
        else:
            used.add(index)
    for i, metric in enumerate(metrics):
        if i not in used:
            miss("metrics", None, _metric_text(metric))
    _tally_list(report.scores["metrics"], len(used), len(truth["metrics"]), len(metrics))

    phases = list(study.phases)
    matched, cursor = 0, 0
    for expected in truth["phases"]:
        index = next(
            (i for i in range(cursor, len(phases)) if phase_matches(expected, phases[i])), None
        )
        if index is None:
            miss("phases", expected, [f"{p.period} | {p.name}" for p in phases])
        else:
            matched += 1
            cursor = index + 1
    if len(phases) > len(truth["phases"]):
        miss("phases", len(truth["phases"]), [f"{p.period} | {p.name}" for p in phases])
    _tally_list(report.scores["phases"], matched, len(truth["phases"]), len(phases))

    expected_quote = truth["quote"]
    found_quote = (
        {"author": study.quote.author, "text": study.quote.text}
        if study.HasField("quote")
        else None
    )
    if expected_quote is None:
        quote_ok = found_quote is None
    else:
        quote_ok = (
            found_quote is not None
            and _person_key(found_quote["author"]) == _person_key(expected_quote["author"])
            and _words(expected_quote["text"]) in _words(found_quote["text"])
        )
    _tally(report.scores["quote"], quote_ok)
    if not quote_ok:
        miss("quote", expected_quote, found_quote)


def _tally(score_: Score, right: bool) -> None:
    score_.total += 1
    score_.right += right


def _tally_list(score_: Score, matched: int, expected: int, found: int) -> None:
    score_.matched += matched
    score_.expected += expected
    score_.found += found
    score_.total += 1
    score_.right += matched == expected == found


def _metric_text(metric: Metric) -> str:
    return f"{metric.label} | {metric.before} | {metric.after} | {metric.improvement}"


def metric_matches(pair: dict[str, Any], metric: Metric) -> bool:
    """Whether a truth pair and a found metric are the same measure with the same numbers."""
    if not labels_match(pair["label"], metric.label):
        return False
    if "improvement" in pair:
        wanted = amount(pair["improvement"])
        if wanted is None:
            return _words(pair["improvement"]) in _words(metric.improvement)
        got = amount(metric.improvement)
        return got is not None and _close(abs(got[0]), abs(wanted[0]))
    truth_before, truth_after = amount(pair["before"]), amount(pair["after"])
    found_before, found_after = amount(metric.before), amount(metric.after)
    if None in (truth_before, truth_after, found_before, found_after):
        return False
    assert truth_before and truth_after and found_before and found_after
    if not (_same(truth_before, found_before) and _same(truth_after, found_after)):
        return False
    if metric.HasField("before_value") and metric.before_value and truth_before[0]:
        if truth_before[1] != truth_after[1]:  # "12 hours" -> "3": the bare side takes the unit
            truth_before = (_raw(pair["before"]), False)
            truth_after = (_raw(pair["after"]), False)
        truth_ratio = _ratio(truth_before, truth_after)
        found_ratio = metric.after_value / metric.before_value
        return abs(found_ratio - truth_ratio) <= 0.02 * max(abs(truth_ratio), 1e-9)
    return True


def _ratio(before: tuple[float, bool], after: tuple[float, bool]) -> float:
    return after[0] / before[0]


def _same(a: tuple[float, bool], b: tuple[float, bool]) -> bool:
    return _close(a[0], b[0])


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= 0.005 * max(abs(a), abs(b), 1e-9)


def _raw(text: str) -> float:
    match = _NUMBER.search(text)
    return _number(match[0]) if match else 0.0


def amount(text: str) -> tuple[float, bool] | None:
    """The amount ``text`` writes, and whether it is a duration (then in seconds)."""
    durations = _DURATION.findall(text)
    if durations and _DURATION.match(text.strip().lstrip("~≈")):
        seconds = sum(_number(value) * _SECONDS[_unit_key(unit)] for value, unit in durations)
        # a lone number with a unit counts as a number: "6 hours" beside a bare "25"
        if len(durations) > 1:
            return seconds, True
    match = _NUMBER.search(text)
    if match is None:
        return None
    value = _number(match[0])
    if multiplier := _MULTIPLIER.match(text[match.end() :]):
        word = multiplier[1].lower()
        value *= 1e3 if word == "k" else 1e9 if word.startswith("b") else 1e6
    if durations and len(durations) == 1:
        value_d, unit = durations[0]
        return _number(value_d) * _SECONDS[_unit_key(unit)], True
    return value, False


def _unit_key(unit: str) -> str:
    low = unit.lower()
    if low == "ms":
        return "ms"
    if low.startswith("mo"):
        return "d"  # months: never mixed with other units in the corpus; a stand-in scale
    if low.startswith("st"):
        return "h"
    return low[0]


def _number(text: str) -> float:
    """A number in either locale: "1,234.5", "1.234,5", "1 234", "8,1", "0.9"."""
    digits = re.sub(r"\s", "", text).replace("−", "-")
    sign = -1.0 if digits.startswith("-") else 1.0
    digits = digits.lstrip("+-")
    if "," in digits and "." in digits:
        decimal = "," if digits.rfind(",") > digits.rfind(".") else "."
    elif digits.count(",") + digits.count(".") == 1:
        sep = "," if "," in digits else "."
        decimal = "" if len(digits) - digits.index(sep) - 1 == 3 else sep
    else:
        decimal = ""  # several of one kind: thousands
    if decimal:
        whole, _, fraction = digits.rpartition(decimal)
        digits = re.sub(r"[.,]", "", whole) + "." + fraction
    else:
        digits = re.sub(r"[.,]", "", digits)
    return sign * float(digits)


def labels_match(expected: str, found: str) -> bool:
    """Half the truth label's words (or half the found label's) appear in the other."""
    want, got = _label_words(expected), _label_words(found)
    if not want or not got:
        return False
    shared = len(want & got)
    return shared * 2 >= len(want) or (shared * 2 >= len(got) and shared > 0)


def _label_words(text: str) -> set[str]:
    words = _WORD.findall(text.lower().replace("avg", "average"))
    return {word.rstrip("s") for word in words if word not in _STOP}


def phase_matches(expected: dict[str, str], phase: Phase) -> bool:
    period = _period_key(expected["period"])
    if period and period == _period_key(phase.period):
        return True
    return labels_match(expected["name"], f"{phase.name} {phase.description}") and bool(
        _label_words(expected["name"]) & _label_words(phase.name)
    )


def _period_key(text: str) -> str:
    low = re.sub(r"\s{0,2}[–—-]\s{0,2}|\s(?:to|through)\s", "-", text.lower().strip())
    low = re.sub(r"\b(week|month|sprint|phase|stage|wave|term|day|quarter)s\b", r"\1", low)
    return re.sub(r"\s+", " ", low)


def _name_key(text: str) -> str:
    words = _WORD.findall(text.lower())
    return " ".join(words[1:] if words[:1] == ["the"] else words)


def _person_key(text: str) -> str:
    words = [w for w in _WORD.findall(text.lower()) if w not in ("dr", "mr", "mrs", "ms", "prof")]
    return " ".join(words)


def _words(text: str) -> str:
    return " ".join(_WORD.findall(text.lower()))


def run(names: list[str], folder: Path | None = None) -> dict[str, Report]:
    if folder is not None:
        return {folder.name: score(load_corpus(folder))}
    return {name: score(load_corpus(CORPORA[name])) for name in names}


def _table(reports: dict[str, Report]) -> str:
    header = f"{'corpus':<10} {'notes':>5} " + " ".join(f"{f:>9}" for f in FIELDS)
    lines = [header, "-" * len(header)]
    for name, report in reports.items():
        figures = report.figures()
        cells = " ".join(f"{figures[f] * 100:8.1f}%" for f in FIELDS)
        lines.append(f"{name:<10} {report.notes:>5} {cells}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", default="dev,holdout,examples", help="comma-separated")
    parser.add_argument("--dir", type=Path, help="score this folder instead")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--no-misses", action="store_true", help="print the table only")
    args = parser.parse_args(argv)
    names = [name.strip() for name in args.corpus.split(",") if name.strip()]
    unknown = [name for name in names if name not in CORPORA]
    if unknown and args.dir is None:
        parser.error(f"unknown corpus {unknown[0]!r}; choose from {', '.join(CORPORA)}")
    reports = run(names, args.dir)
    if args.json:
        print(
            json.dumps(
                {
                    name: {
                        "notes": report.notes,
                        "scores": report.figures(),
                        "misses": report.misses,
                    }
                    for name, report in reports.items()
                },
                ensure_ascii=False,
            )
        )
        return
    print(_table(reports))
    if not args.no_misses:
        for name, report in reports.items():
            for miss in report.misses:
                print(
                    f"[{name}] {miss['note']} {miss['field']}: expected {miss['expected']!r}, "
                    f"found {miss['found']!r}",
                    file=sys.stdout,
                )


if __name__ == "__main__":
    main()
