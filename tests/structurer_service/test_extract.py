"""What the local extractor finds in each example of real-looking consultant notes."""

from __future__ import annotations

from pathlib import Path

import pytest

from casecraft.v1.case_study_pb2 import CaseStudy, Metric
from structurer_service.extract import ExtractionResult, extract

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def run(name: str) -> ExtractionResult:
    return extract((EXAMPLES / name).read_text(encoding="utf-8"))


def metric(study: CaseStudy, label: str) -> Metric:
    by_label = {m.label: m for m in study.metrics}
    assert label in by_label, f"{label!r} not in {list(by_label)}"
    return by_label[label]


def test_examples_are_varied_and_sized_like_real_notes() -> None:
    files = sorted(EXAMPLES.glob("*.md"))
    assert len(files) >= 6
    for path in files:
        assert 1000 <= path.stat().st_size <= 4096, path.name


def test_logistics_arrows_and_table() -> None:
    result = run("logistics_dispatch.md")
    study = result.case_study
    assert study.client_name == "Harbor Freightways"
    assert study.industry == "Logistics"
    assert [m.label for m in study.metrics] == [
        "Average dispatch time",
        "Empty miles",
        "Missed pickup windows",
        "Loads per dispatcher per shift",
        "Driver idle time in yard",
        "Detention charges",
    ]
    dispatch = metric(study, "Average dispatch time")
    assert (dispatch.before, dispatch.after) == ("94 min", "31 min")
    assert (dispatch.before_value, dispatch.after_value, dispatch.unit) == (94, 31, "min")
    assert dispatch.change_percent == pytest.approx(-67.02, abs=0.01)
    assert dispatch.lower_is_better
    assert dispatch.improvement == "67% faster"
    idle = metric(study, "Driver idle time in yard")
    assert (idle.before, idle.after) == ("2.5 hours", "40 min")
    assert (idle.before_value, idle.after_value, idle.unit) == (150, 40, "min")
    assert idle.improvement == "-73%"  # the table's Change column, kept as written
    loads = metric(study, "Loads per dispatcher per shift")
    assert loads.unit == "" and not loads.lower_is_better
    assert loads.improvement == "+50%"
    detention = metric(study, "Detention charges")
    assert (detention.before_value, detention.after_value) == (48000, 19500)
    assert detention.unit == "$/mo"
    assert metric(study, "Missed pickup windows").unit == "/week"
    assert [p.period for p in study.phases] == [
        "Weeks 1-2",
        "Weeks 3-6",
        "Weeks 7-9",
        "Weeks 10-12",
    ]
    assert [p.name for p in study.phases][:2] == ["Discovery", "Build"]
    assert study.phases[0].description == (
        "Shadowed dispatchers at 3 terminals and mapped 11 handoffs."
    )
    assert (study.quote.author, study.quote.role) == ("Dana Ruiz", "VP Operations")
    assert study.quote.text.startswith("We went from shouting across the room")
    assert study.title == "How Harbor Freightways cut missed pickup windows by 85%"
    assert study.subtitle.startswith("Logistics — replaced the whiteboards with a live load board")
    assert study.challenge.startswith("Harbor runs 420 trucks")
    assert study.results.startswith("Dispatch is now a queue everyone can see")
    assert result.warnings == ()


def test_healthcare_unicode_arrows_and_week_phases() -> None:
    result = run("healthcare_discharge.md")
    study = result.case_study
    assert study.client_name == "Cedar Valley Health System"
    assert study.industry == "Healthcare"  # inferred: the notes have no Industry line
    # four before/after pairs, and "ED boarding hours fell by about a third", which has no before
    assert len(study.metrics) == 5
    boarding = metric(study, "ED boarding hours")
    assert (boarding.before, boarding.after, boarding.improvement) == ("", "", "a third lower")
    assert boarding.lower_is_better
    med = metric(study, "Med reconciliation completed before discharge")
    assert (med.before, med.after, med.unit) == ("82%", "97%", "%")
    assert med.change_percent == pytest.approx(18.29, abs=0.01)  # relative, not points
    assert med.improvement == "+15 pts"
    assert not med.lower_is_better
    stay = metric(study, "Average length of stay")
    assert (stay.before_value, stay.after_value, stay.unit) == (4.9, 4.3, "days")
    assert stay.lower_is_better
    assert metric(study, "30-day readmissions").lower_is_better
    assert [p.period for p in study.phases] == [
        "Weeks 1-2",
        "Weeks 3–6",
        "Weeks 7-10",
        "Weeks 11-12",
    ]
    assert study.phases[0].name == "Observation and baseline"
    assert study.phases[1].name == "Pilot on 4 West"
    assert (study.quote.author, study.quote.role) == ("Priya Natarajan", "Chief Nursing Officer")
    assert study.challenge.startswith("Discharges stalled in the afternoon.")
    assert study.solution.startswith("We redesigned the discharge as parallel work")
    assert "Weeks 1-2" not in study.solution  # phase lines are phases, not narrative
    assert study.title == (
        "How Cedar Valley Health System raised discharge orders before 11 am from 22% to 41%"
    )
    assert result.warnings == ()


def test_retail_prose_metrics_with_unit_conversion_and_sprints() -> None:
    result = run("retail_returns_checkout.md")
    study = result.case_study
    assert study.client_name == "Lumen & Oak"
    assert study.industry == "Retail & e-commerce"
    refunds = metric(study, "Refund processing")
    assert (refunds.before, refunds.after) == ("5 days", "6 hours")
    assert (refunds.before_value, refunds.after_value, refunds.unit) == (120, 6, "hours")
    assert refunds.change_percent == pytest.approx(-95.0)
    assert refunds.improvement == "95% faster"
    cac = metric(study, "Customer acquisition cost")
    assert (cac.before, cac.after, cac.unit) == ("$412", "$355", "$")
    assert cac.lower_is_better and cac.improvement == "14% lower"
    conversion = metric(study, "Mobile checkout conversion")
    assert (conversion.before_value, conversion.after_value) == (1.8, 2.6)
    assert not conversion.lower_is_better
    tickets = metric(study, "Support tickets about returns")  # the sentence wraps a line
    assert (tickets.before_value, tickets.after_value, tickets.unit) == (1150, 310, "/month")
    assert [(p.period, p.name) for p in study.phases] == [
        ("Sprint 1", "Returns portal"),
        ("Sprint 2", "Automated refunds"),
        ("Sprints 3-4", "Checkout"),
        ("Sprint 5", "Hardening and A/B test"),
    ]
    # No headings: the narrative comes from sentences classified by their cue words.
    assert study.challenge.startswith("Lumen & Oak came to us because returns were eating")
    assert study.solution.startswith("We rebuilt returns as a self-service portal")
    assert "Refund processing was reduced from 5 days to 6 hours." in study.results
    assert not study.HasField("quote")
    assert result.warnings == ("no attributed quotation found in the notes",)
    assert study.title == "How Lumen & Oak cut refund processing by 95%"


def test_fintech_client_line_numbered_steps_and_quote() -> None:
    study = run("fintech_onboarding.md").case_study
    assert study.client_name == "Orbital Pay"
    assert study.industry == "Financial services"
    kyc = metric(study, "KYC review time")
    assert (kyc.before_value, kyc.after_value, kyc.unit) == (72, 4, "hours")
    review = metric(study, "Manual review rate")
    assert (review.before, review.after, review.improvement) == ("18%", "7%", "-11 pts")
    assert review.lower_is_better
    originations = metric(study, "Monthly loan originations")
    assert (originations.before, originations.after) == ("$1.2M", "$3.4M")
    assert (originations.before_value, originations.after_value) == (1_200_000, 3_400_000)
    assert originations.improvement == "2.8x higher"
    assert [p.period for p in study.phases] == [
        "weeks 1-3",
        "Step 2",
        "Step 3",
        "weeks 9-12",
        "Step 5",
    ]
    assert study.phases[0].name == "Mapped the KYC flow end to end"
    assert "(weeks 1-3)" not in study.phases[0].description
    assert (study.quote.author, study.quote.role) == ("Tomás Herrera", "Head of Risk")
    assert study.title == "How Orbital Pay grew monthly loan originations 2.8x"
    assert study.solution.startswith("We introduced risk-based KYC")
    assert "Defined risk tiers" not in study.solution  # the steps became phases


def test_manufacturing_terse_bullets_with_phase_and_month_headings() -> None:
    result = run("manufacturing_changeover.md")
    study = result.case_study
    assert study.client_name == "Brightwater Components"
    assert study.industry == "Manufacturing"
    assert [m.label for m in study.metrics] == [
        "Changeover time",
        "OEE",
        "Scrap rate",
        "Unplanned downtime",
    ]
    oee = metric(study, "OEE")
    assert (oee.before_value, oee.after_value, oee.improvement) == (61, 78, "+17 pts")
    assert metric(study, "Unplanned downtime").unit == "hrs/mo"
    assert [(p.period, p.name) for p in study.phases] == [
        ("Month 1", "Discovery"),
        ("Months 2-3", "Line redesign"),
        ("Months 4-6", "Standardize and scale"),
    ]
    assert "time study on 22 changeovers" in study.phases[0].description
    assert study.challenge.startswith("Line 4 changeovers long")
    assert study.solution.startswith("SMED on the 6 most frequent changeovers.")
    assert "Walked the line" not in study.solution  # sub-bullets belong to their phase
    assert study.results.startswith("Changeover time 47 min -> 18 min.")
    assert result.warnings == ("no attributed quotation found in the notes",)


def test_messy_meeting_notes_without_metrics_or_phases() -> None:
    result = run("northwind_meeting_notes.md")
    study = result.case_study
    assert study.client_name == "Northwind Health"  # named only in prose
    assert study.industry == "Healthcare"
    assert study.challenge.startswith("We worked with Northwind Health over the spring")
    assert list(study.metrics) == []
    assert list(study.phases) == []
    assert "no metrics found in the notes" in result.warnings
    assert "no implementation phases found in the notes" in result.warnings
    assert study.title == "How Northwind Health replaced the paper forms with a tablet check-in"
    assert study.solution.startswith("We replaced the paper forms with a tablet check-in")
    assert "We set up insurance eligibility checks" in study.solution
    assert study.results.startswith("Front desk says mornings are calmer")
    assert "referral workflow doc" not in study.results  # "open items" is its own section


def test_insurance_plain_lines_and_attribution_before_the_quote() -> None:
    result = run("insurance_claims_triage.md")
    study = result.case_study
    assert (study.client_name, study.industry) == ("Meridian Mutual", "Insurance")
    assert [m.label for m in study.metrics] == [
        "Average time to first contact",
        "Fast-track claims settled same day",
        'Inbound "where is my claim" calls',
        "Claims handled per adjuster per week",
        "Customer satisfaction (CSAT)",
    ]
    contact = metric(study, "Average time to first contact")
    assert contact.lower_is_better and contact.improvement == "88% faster"
    handled = metric(study, "Claims handled per adjuster per week")
    assert (handled.before, handled.after, handled.improvement) == ("31", "44", "+42%")
    calls = metric(study, 'Inbound "where is my claim" calls')
    assert calls.lower_is_better and calls.unit == "/mo"
    assert list(study.phases) == []
    assert result.warnings == ("no implementation phases found in the notes",)
    assert study.challenge.startswith("Meridian's first notice of loss team handled every claim")
    assert study.solution.startswith("We built a triage model")
    assert (study.quote.author, study.quote.role) == ("Helen Achebe", "COO")
    assert study.quote.text == "The fast track paid for the whole programme in one quarter."


def test_control_bidi_and_zero_width_characters_do_not_split_words() -> None:
    clean = (EXAMPLES / "logistics_dispatch.md").read_text(encoding="utf-8")
    body = clean.replace("\n\n", "\n\x0c\n", 1).replace("Logistics", "Logis\u00adtics\u2069")
    pasted = "Client: Harbor\x00 Freight\u200bways\u202c\x08\n" + body
    expected = run("logistics_dispatch.md").case_study

    study = extract(pasted).case_study

    assert study.client_name == expected.client_name == "Harbor Freightways"
    assert study.industry == expected.industry
    assert [m.label for m in study.metrics] == [m.label for m in expected.metrics]
    assert [p.name for p in study.phases] == [p.name for p in expected.phases]
