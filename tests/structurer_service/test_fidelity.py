"""Every figure of a case study traced to the notes: written forms, computed values, and misses."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from casecraft.v1 import case_study_pb2
from structurer_service import extract
from structurer_service.fidelity import trace_numbers
from tests.fakes.notes import NOTES

ROOT = Path(__file__).resolve().parents[2]


def study(text: str, **fields: object) -> case_study_pb2.CaseStudy:
    return case_study_pb2.CaseStudy(results=text, **fields)  # type: ignore[arg-type]


def untraced(notes: str, text: str) -> list[str]:
    return [u.value for u in trace_numbers(study(text), notes).untraced]


@pytest.mark.parametrize(
    ("notes", "written"),
    [
        ("Tickets: 1,200 a month.", "1200 tickets"),
        ("Tickets: 1200 a month.", "1,200 tickets"),
        ("Tickets: 1,234 a month.", "about 1.2k tickets"),
        ("Tickets: 1200 a month.", "1.2 thousand tickets"),
        ("Error rate 0.9%.", "an error rate of 0,9 %"),
        ("Fehlerquote 0,9 %.", "an error rate of 0.9%"),
        ("Umsatz 1.234,5 EUR.", "revenue of 1,234.5 EUR"),
        ("Revenue grew to $1,200,000.", "revenue of $1.2M"),
        ("Revenue grew to $1.2M.", "revenue of 1.2 million dollars"),
        ("Savings: €3,4 Mio.", "savings of €3.4M"),
        ("Staff: 12 000 people.", "12,000 people"),
        ("We opened three new clinics.", "3 new clinics"),
        ("Review took 3 days.", "72 hours of review"),
        ("Idle time 2.5 hours.", "150 minutes idle"),
        ("Response time 45m.", "45 minutes"),
    ],
)
def test_the_same_value_in_another_written_form_is_traced(notes: str, written: str) -> None:
    assert untraced(notes, written) == []


@pytest.mark.parametrize(
    "written",
    [
        "dispatch planning 67% faster",  # (94 - 31) / 94
        "63 minutes saved per plan",  # 94 - 31
        "late deliveries down 61%",  # (18 - 7) / 18
        "late deliveries down 11 points",  # 18 - 7
        "planning is 3x faster",  # 94 / 31
        "a 3.0x speed-up",
        "in three phases",  # the case study's own phases are counted
    ],
)
def test_values_computed_from_the_notes_are_traced(written: str) -> None:
    case_study = extract.extract(NOTES).case_study
    case_study.results = written
    assert trace_numbers(case_study, NOTES).untraced == ()


def test_improvements_computed_from_a_metric_are_traced() -> None:
    notes = "Handle time was 94 minutes. After the rollout, handle time came down to 31 minutes."
    metric = case_study_pb2.Metric(
        label="Handle time",
        before="94 min",
        after="31 min",
        improvement="67% faster",
        before_value=94,
        after_value=31,
        unit="min",
        change_percent=-67.02,
        lower_is_better=True,
    )
    case_study = case_study_pb2.CaseStudy(
        title="How the desk cut handle time by 67%", metrics=[metric]
    )
    report = trace_numbers(case_study, notes)
    assert report.checked == 7 and report.untraced == ()


@pytest.mark.parametrize(
    ("written", "value"),
    [
        ("revenue grew 23%", "23%"),
        ("overtime fell by $41,500", "41,500"),
        ("a 12x return", "12x"),
        ("2,500 more orders", "2,500"),
        ("52% fewer complaints", "52%"),
        ("planning now takes 41 min", "41"),
        ("4.5 hours saved a day", "4.5"),
    ],
)
def test_an_invented_figure_is_reported_with_its_field_and_words(written: str, value: str) -> None:
    case_study = extract.extract(NOTES).case_study
    case_study.results += f" Also, {written}."
    report = trace_numbers(case_study, NOTES)
    assert [(u.field, u.value) for u in report.untraced] == [("results", value)]
    assert written in report.untraced[0].text
    assert f"{value} in results" in (report.warning() or "")


def test_a_parsed_number_that_differs_from_the_notes_is_reported() -> None:
    case_study = extract.extract(NOTES).case_study
    case_study.metrics[0].after_value = 29  # the chart would draw 29; the notes say 31
    report = trace_numbers(case_study, NOTES)
    assert [u.field for u in report.untraced] == ["metrics[0].after_value"]


def _test_inputs() -> dict[str, str]:
    """Every notes file in examples/ (and the corpus, when there is one), and every notes text
    written into the structurer's tests."""
    inputs = {
        str(path.relative_to(ROOT)): path.read_text(encoding="utf-8")
        for pattern in ("examples/*.md", "tests/corpus/**/*.md", "tests/corpus/**/*.txt")
        for path in sorted(ROOT.glob(pattern))
    }
    for path in sorted((ROOT / "tests" / "structurer_service").glob("test_*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                if len(node.value) > 30 and any(c.isdigit() for c in node.value):
                    inputs[f"{path.name}:{node.lineno}"] = node.value
    inputs["tests/fakes/notes.py"] = NOTES
    return inputs


def test_the_local_extractor_writes_only_figures_the_notes_support() -> None:
    inputs = _test_inputs()
    assert len(inputs) > 50
    checked = 0
    for name, notes in inputs.items():
        report = trace_numbers(extract.extract(notes).case_study, notes)
        assert report.untraced == (), name
        checked += report.checked
    assert checked > 300
