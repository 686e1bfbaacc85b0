"""The forms notes write things in, one at a time: quantities, metrics, phases, names, quotes."""

from __future__ import annotations

import pytest

from casecraft.v1.case_study_pb2 import CaseStudy, Metric
from structurer_service.extract import extract
from structurer_service.extract.numbers import QUANTITY, Quantity, change_percent, reconcile


def parse_quantity(text: str) -> Quantity | None:
    """The first quantity in ``text``, as the extractor reads it."""
    match = QUANTITY.search(text)
    return Quantity.from_match(match) if match else None


def study_of(notes: str) -> CaseStudy:
    return extract(notes).case_study


def only_metric(notes: str) -> Metric:
    metrics = list(study_of(notes).metrics)
    assert len(metrics) == 1, metrics
    return metrics[0]


# Quantities and units


def test_money_with_multiplier() -> None:
    quantity = parse_quantity("$1.2M")
    assert quantity is not None
    assert (quantity.value, quantity.unit, quantity.kind) == (1_200_000, "$", "money")


def test_thousands_separators_and_rate_units() -> None:
    quantity = parse_quantity("3,100 orders/day")
    assert quantity is not None
    assert (quantity.text, quantity.value, quantity.unit) == (
        "3,100 orders/day",
        3100,
        "orders/day",
    )


def test_lowercase_m_without_currency_is_minutes() -> None:
    quantity = parse_quantity("15m")
    assert quantity is not None
    assert (quantity.value, quantity.unit, quantity.kind) == (15, "min", "time")


def test_time_units_convert_to_the_smaller_unit() -> None:
    before, after = parse_quantity("5 days"), parse_quantity("6 hours")
    assert before is not None and after is not None
    assert reconcile(before, after) == (120, 6, "hours", "time")


def test_incomparable_units_do_not_reconcile() -> None:
    before, after = parse_quantity("$40"), parse_quantity("12%")
    assert before is not None and after is not None
    assert reconcile(before, after) is None


def test_change_from_zero_is_undefined() -> None:
    assert change_percent(0, 5) is None
    assert change_percent(120, 6) == -95.0


# Metrics in prose


def test_arrow_with_units() -> None:
    m = only_metric("- Avg dispatch time: 94 min -> 31 min")
    assert m.label == "Average dispatch time"
    assert (m.before, m.after, m.unit) == ("94 min", "31 min", "min")
    assert (m.before_value, m.after_value) == (94, 31)
    assert m.change_percent == pytest.approx(-67.02, abs=0.01)
    assert m.lower_is_better
    assert m.improvement == "67% faster"


def test_unicode_arrow_between_percentages_is_relative_change() -> None:
    m = only_metric("First-pass yield: 82% → 97%")
    assert (m.before_value, m.after_value, m.unit) == (82, 97, "%")
    assert m.change_percent == pytest.approx(18.29, abs=0.01)
    assert m.improvement == "+15 pts"
    assert not m.lower_is_better


def test_from_to_percentages() -> None:
    m = only_metric("Monthly churn fell from 18% to 7% after the change.")
    assert m.label == "Monthly churn"
    assert (m.before, m.after) == ("18%", "7%")
    assert m.lower_is_better
    assert m.improvement == "-11 pts"


def test_went_from_dollars() -> None:
    m = only_metric("Our cost per order went from $412 to $355.")
    assert m.label == "Cost per order"
    assert (m.before_value, m.after_value, m.unit) == (412, 355, "$")
    assert m.change_percent == pytest.approx(-13.83, abs=0.01)
    assert m.improvement == "14% lower"


def test_reduced_from_days_to_hours() -> None:
    m = only_metric("Claims turnaround was reduced from 5 days to 6 hours.")
    assert m.label == "Claims turnaround"
    assert (m.before, m.after) == ("5 days", "6 hours")
    assert (m.before_value, m.after_value, m.unit) == (120, 6, "hours")
    assert m.change_percent == pytest.approx(-95.0)
    assert m.improvement == "95% faster"


def test_verb_before_the_label() -> None:
    m = only_metric("We cut the average pick time from 40 min to 25 min.")
    assert m.label == "Average pick time"
    assert m.lower_is_better


def test_millions() -> None:
    m = only_metric("ARR grew from $1.2M to $3.4M in a year.")
    assert (m.before_value, m.after_value) == (1_200_000, 3_400_000)
    assert m.change_percent == pytest.approx(183.33, abs=0.01)
    assert m.improvement == "2.8x higher"


def test_unit_only_after_the_second_number() -> None:
    m = only_metric("Throughput: 2,400 → 3,100 orders/day")
    assert (m.before, m.after) == ("2,400", "3,100 orders/day")
    assert (m.before_value, m.after_value, m.unit) == (2400, 3100, "orders/day")
    assert not m.lower_is_better
    assert m.improvement == "29% higher"


def test_stated_improvement_is_kept_as_written() -> None:
    m = only_metric("Quote turnaround: 3 days -> 1 day (3x faster)")
    assert m.improvement == "3x faster"
    assert (m.before_value, m.after_value, m.unit) == (3, 1, "days")


def test_two_metrics_in_one_sentence() -> None:
    study = study_of("Churn went from 18% to 7%, and NPS from 21 to 46.")
    assert [m.label for m in study.metrics] == ["Churn", "NPS"]
    assert study.metrics[1].lower_is_better is False


def test_unlabelled_lines_do_not_borrow_the_previous_label() -> None:
    study = study_of("Impact:\nHandle time 12 min -> 7 min\nCSAT 71 -> 86\n")
    assert [m.label for m in study.metrics] == ["Handle time", "CSAT"]


def test_year_ranges_are_not_metrics() -> None:
    assert list(study_of("They grew from 2019 to 2023 without a plan.").metrics) == []


def test_incomparable_units_keep_the_text_and_warn() -> None:
    result = extract("Fleet mix went from 30 trucks to 12 vans.")
    (m,) = result.case_study.metrics
    assert (m.before, m.after) == ("30 trucks", "12 vans")
    assert not m.HasField("change_percent") and not m.HasField("before_value")
    assert any("units differ" in warning for warning in result.warnings)


# Metrics in tables


def test_markdown_table_with_improvement_column() -> None:
    notes = """
| Metric | Before | After | Improvement |
|---|---:|---:|---|
| **Handle time** | 9.5 min | 6 min | 37% faster |
| First contact resolution | 61% | 74% | +13 pts |
"""
    study = study_of(notes)
    assert [m.label for m in study.metrics] == ["Handle time", "First contact resolution"]
    handle, fcr = study.metrics
    assert (handle.before, handle.after, handle.improvement) == ("9.5 min", "6 min", "37% faster")
    assert handle.change_percent == pytest.approx(-36.84, abs=0.01)
    assert fcr.improvement == "+13 pts"
    assert not fcr.lower_is_better


def test_table_without_improvement_column_and_unit_in_header() -> None:
    notes = "| KPI | Baseline (min) | Now (min) |\n|--|--|--|\n| Wait time | 45 | 15 |\n"
    (m,) = study_of(notes).metrics
    assert (m.before_value, m.after_value, m.unit) == (45, 15, "min")
    assert m.improvement == "67% faster"


def test_table_without_before_and_after_columns_is_ignored() -> None:
    notes = "| Phase | Weeks | Owner |\n|---|---|---|\n| Build | 3 | Ana |\n"
    assert list(study_of(notes).metrics) == []


# Phases


def test_week_ranges_with_hyphen_and_en_dash() -> None:
    study = study_of(
        "Week 1-2: Discovery and interviews.\nWeeks 3–6: Build. Load board and rules.\n"
    )
    assert [(p.period, p.name) for p in study.phases] == [
        ("Week 1-2", "Discovery and interviews"),
        ("Weeks 3–6", "Build"),
    ]
    assert study.phases[1].description == "Load board and rules."


def test_months() -> None:
    study = study_of("- Month 1: mapped the line\n- Months 2-3: pilot on first shift\n")
    assert [(p.period, p.name) for p in study.phases] == [
        ("Month 1", "Mapped the line"),
        ("Months 2-3", "Pilot on first shift"),
    ]


def test_numbered_phase_labels_with_and_without_a_period() -> None:
    study = study_of("Phase 1: Discovery (Weeks 1-2)\nPhase 2: Build\n")
    assert [(p.period, p.name) for p in study.phases] == [
        ("Weeks 1-2", "Discovery"),
        ("Phase 2", "Build"),
    ]


def test_markdown_heading_phase_takes_the_paragraph_below() -> None:
    study = study_of("### Phase 1 — Discovery (Weeks 1–2)\n\nInterviewed 12 dispatchers.\n")
    (phase,) = study.phases
    assert (phase.period, phase.name) == ("Weeks 1–2", "Discovery")
    assert phase.description == "Interviewed 12 dispatchers."


def test_sprints() -> None:
    study = study_of("Sprint 3 - Checkout: guest checkout, wallets.\n")
    (phase,) = study.phases
    assert (phase.period, phase.name) == ("Sprint 3", "Checkout")
    assert phase.description == "Guest checkout, wallets."


def test_numbered_steps_under_an_approach_heading() -> None:
    study = study_of("## Approach\n1. Mapped the flow\n2. Built the rules engine (weeks 3-5)\n")
    assert [(p.period, p.name) for p in study.phases] == [
        ("Step 1", "Mapped the flow"),
        ("weeks 3-5", "Built the rules engine"),
    ]


def test_numbered_list_elsewhere_is_not_a_timeline() -> None:
    study = study_of("## Lessons\n1. Involve the night shift early\n2. Measure before you build\n")
    assert list(study.phases) == []


def test_a_period_word_inside_a_sentence_is_not_a_phase() -> None:
    assert list(study_of("Month 1 results were better than expected.").phases) == []


# Client, industry, title


@pytest.mark.parametrize(
    ("line", "client"),
    [
        ("Client: Acme Robotics (Series B, 80 people)", "Acme Robotics"),
        ("- **Client**: Acme Robotics", "Acme Robotics"),
        ("customer - Acme Robotics, Ohio", "Acme Robotics"),
        ("Client: a regional bank (name withheld)", ""),
    ],
)
def test_client_line(line: str, client: str) -> None:
    assert study_of(line + "\nWe met twice.").client_name == client


def test_client_from_prose() -> None:
    study = study_of("notes: this spring we worked with Northwind Health on intake at 3 clinics.")
    assert study.client_name == "Northwind Health"


def test_unnamed_client_is_reported() -> None:
    result = extract("Client: a regional bank (name withheld)")
    assert result.case_study.client_name == ""
    assert "no client name found in the notes" in result.warnings


def test_industry_line_inference_and_absence() -> None:
    assert study_of("Industry: Insurance (auto)").industry == "Insurance"
    inferred = study_of("The plant ran three shifts; scrap and OEE on the press line were poor.")
    assert inferred.industry == "Manufacturing"
    assert study_of("We met on Tuesday and talked it through.").industry == ""


def test_title_and_subtitle_are_composed_from_what_was_found() -> None:
    notes = (
        "Client: Acme Robotics\nIndustry: Manufacturing\n\n## Solution\n"
        "We rebuilt the scheduling board.\n\n- Changeover time: 40 min -> 10 min\n"
    )
    study = study_of(notes)
    assert study.title == "How Acme Robotics cut changeover time by 75%"
    assert study.subtitle == "Manufacturing — rebuilt the scheduling board"


def test_nothing_found_means_nothing_invented() -> None:
    result = extract("Thanks everyone, see you next week.")
    study = result.case_study
    assert (study.client_name, study.industry, study.title, study.subtitle) == ("", "", "", "")
    assert list(study.metrics) == [] and list(study.phases) == []
    assert not study.HasField("quote")
    assert "no metrics found in the notes" in result.warnings
    assert "no implementation phases found in the notes" in result.warnings


def test_empty_notes() -> None:
    result = extract("")
    assert result.case_study == CaseStudy()
    assert len(result.warnings) == 8


# Quotes


def test_quote_with_author_and_role_after_it() -> None:
    study = study_of('"We finally trust the board we plan from." — Dana Ruiz, VP Operations\n')
    assert (study.quote.text, study.quote.author, study.quote.role) == (
        "We finally trust the board we plan from.",
        "Dana Ruiz",
        "VP Operations",
    )


def test_quote_with_role_in_parentheses_and_curly_quotes() -> None:
    study = study_of("“It paid for itself in one quarter, easily.” – Helen Achebe (COO)")
    assert (study.quote.author, study.quote.role) == ("Helen Achebe", "COO")


def test_quote_introduced_by_the_speaker() -> None:
    study = study_of(
        'Tomás Herrera, Head of Risk at Orbital, said: "Analysts finally do real work."'
    )
    assert (study.quote.author, study.quote.role) == ("Tomás Herrera", "Head of Risk")
    assert study.quote.text == "Analysts finally do real work."


def test_short_or_unattributed_quotations_are_not_quotes() -> None:
    notes = 'The "war room" closed. "This is a long sentence in quotes with nobody saying it."'
    assert not study_of(notes).HasField("quote")


# Narrative


def test_headed_sections() -> None:
    notes = (
        "## Situation\nOrders were typed twice.\n\n## What we did\nWe connected the shop to the ERP."
        "\n\n## Impact\nNobody retypes orders now.\n"
    )
    study = study_of(notes)
    assert study.challenge == "Orders were typed twice."
    assert study.solution == "We connected the shop to the ERP."
    assert study.results == "Nobody retypes orders now."


def test_inline_headings() -> None:
    study = study_of(
        "Problem: pickers walked 9 km a shift.\nSolution: we re-slotted the fast movers."
    )
    assert study.challenge == "Pickers walked 9 km a shift."
    assert study.solution == "We re-slotted the fast movers."


def test_cue_words_classify_sentences_without_headings() -> None:
    notes = (
        "The team struggled with a manual backlog of invoices. We automated the matching of "
        "invoices to orders. Since launch the backlog is gone and closing is faster."
    )
    study = study_of(notes)
    assert study.challenge == "The team struggled with a manual backlog of invoices."
    assert study.solution == "We automated the matching of invoices to orders."
    assert study.results == "Since launch the backlog is gone and closing is faster."


def test_long_sections_are_trimmed_at_a_sentence() -> None:
    notes = "## Challenge\n" + "The old process failed every single week. " * 40
    challenge = study_of(notes).challenge
    assert 300 <= len(challenge) <= 600
    assert challenge.endswith(".")


# Size


@pytest.mark.parametrize(
    "notes",
    [
        "9" * 200_000,
        "1,000" * 40_000,
        "5 min -> " * 22_000,
        "from 1 to " * 20_000,
        '"a b c d e ' * 18_000,
        "(" * 200_000,
        "Weeks 1-2: x\n" * 15_000,
        "## Approach\n" + "1. step\n" * 25_000,
        "| before | after |\n|1|2|\n" * 8_000,
        "worked with Aa Bb Cc " * 9_000,
    ],
    ids=lambda notes: repr(notes[:12]),
)
def test_pathological_notes_of_200_kb_complete(notes: str) -> None:
    result = extract(notes)
    assert isinstance(result.case_study, CaseStudy)


def test_a_long_unnamed_phase_is_named_by_its_leading_words() -> None:
    study = study_of(
        "- Weeks 7-9: Pilot at the Dayton and Columbus terminals, two shifts each.\n"
        "- Weeks 10-12: Rollout to the remaining four terminals, with floor training.\n"
    )
    assert [(p.name, p.description) for p in study.phases] == [
        ("Pilot", "Pilot at the Dayton and Columbus terminals, two shifts each."),
        ("Rollout", "Rollout to the remaining four terminals, with floor training."),
    ]
