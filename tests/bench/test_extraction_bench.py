"""bench/extraction.py keeps working: it scores a tiny corpus and prints one JSON object."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import extraction

NOTES = """Client: Harbor Freightways
Dispatch time went from 94 min to 31 min.
Weeks 1-2: Discovery
Weeks 3-6: Build
"""
TRUTH = {
    "client": "Harbor Freightways",
    "industry": ["Logistics"],
    "metrics": [
        {"label": "Dispatch time", "before": "94 min", "after": "31 min"},
        {"label": "Empty miles", "before": "18%", "after": "11%"},
    ],
    "phases": [
        {"period": "Weeks 1-2", "name": "Discovery"},
        {"period": "Weeks 3-6", "name": "Build"},
    ],
    "quote": None,
}


def test_a_tiny_corpus_is_scored_per_field_with_its_misses(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "one.txt").write_text(NOTES, encoding="utf-8")
    (tmp_path / "one.truth.json").write_text(json.dumps(TRUTH), encoding="utf-8")
    extraction.main(["--dir", str(tmp_path), "--json"])
    report = json.loads(capsys.readouterr().out)[tmp_path.name]
    assert report["notes"] == 1
    scores = report["scores"]
    assert set(scores) == {"client", "industry", "metrics", "phases", "quote"}
    assert scores["client"] == scores["phases"] == scores["quote"] == 1.0
    assert scores["metrics"] == pytest.approx(
        2 / 3, abs=1e-4
    )  # one of two pairs found, nothing invented
    assert [miss["field"] for miss in report["misses"]] == ["metrics"]


def test_the_table_names_each_corpus(capsys: pytest.CaptureFixture[str]) -> None:
    extraction.main(["--corpus", "examples", "--no-misses"])
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == [
        "corpus",
        "notes",
        "client",
        "industry",
        "metrics",
        "phases",
        "quote",
    ]
    assert lines[2].split()[:2] == ["examples", "7"]


@pytest.mark.parametrize(
    ("text", "value"),
    [("1,234.5", 1234.5), ("1.234,5", 1234.5), ("8,1", 8.1), ("2,300", 2300.0), ("0.9", 0.9)],
)
def test_the_scorer_reads_numbers_in_either_locale(text: str, value: float) -> None:
    assert extraction.amount(text) == (value, False)
