"""Each form notes arrive in, once as a unit test (the corpus in tests/corpus scores them all)."""

from __future__ import annotations

import pytest

from casecraft.v1.case_study_pb2 import CaseStudy
from structurer_service.extract import extract


def study(notes: str) -> CaseStudy:
    return extract(notes).case_study


def pairs(notes: str) -> list[tuple[str, str, str]]:
    return [(m.label, m.before, m.after) for m in study(notes).metrics]


# --- where the client is named -------------------------------------------------------------


@pytest.mark.parametrize(
    ("notes", "client"),
    [
        (
            "# Harbourview Hotels — housekeeping scheduling\n\n- rooms ready 72% -> 94%\n",
            "Harbourview Hotels",
        ),
        ("FLEET MAINT — Cobalt Bus Lines\nbuses off road 14/day, now 5/day\n", "Cobalt Bus Lines"),
        (
            "Transcript: debrief with Cornerstone Outdoor, store replenishment\n",
            "Cornerstone Outdoor",
        ),
        (
            "Participants: Marco Silva (Engagement lead, Fieldstone Partners); Aisha Khan "
            "(Head of Billing, Crestwater Utilities)\n",
            "Crestwater Utilities",
        ),
        (
            "Team,\n\nSharing the readout.\n\nBest regards,\n\nAmara Nwosu\n"
            "Superintendent Pharmacist\nGreenleaf Pharmacy Group\n",
            "Greenleaf Pharmacy Group",
        ),
        ("Payvault, a payments processor for online merchants, engaged us in May.\n", "Payvault"),
        (
            "We spent four months with St. Aidan's Hospital on theatre scheduling.\n",
            "St. Aidan's Hospital",
        ),
        ("Rashid Ali (Solis Grid Services) 14:03\nHere are the numbers\n", "Solis Grid Services"),
        ("Acct: Ridgeway Energy Supply — contact centre\n", "Ridgeway Energy Supply"),
        ("### Client\nBanco Serrano (retail bank, Spain)\n", "Banco Serrano"),
    ],
)
def test_the_client_wherever_the_notes_name_it(notes: str, client: str) -> None:
    assert study(notes).client_name == client


def test_the_consultancy_and_people_are_never_the_client() -> None:
    notes = (
        "From: Dan Whitfield <dan@arcadia-consulting.com>\nSubject: damage claims\n\n"
        "The project for Redline Haulage wrapped last week.\n\nDan Whitfield\n"
        "Principal, Arcadia Consulting\n"
    )
    assert study(notes).client_name == "Redline Haulage"
    assert study("Interview with Sunita Rao, Head of IT, Calder County Council\n").client_name == (
        "Calder County Council"
    )


# --- before and after, however they are joined ---------------------------------------------


@pytest.mark.parametrize(
    ("text", "before", "after"),
    [
        ("Refund time 14 days -> 3 days.", "14 days", "3 days"),
        ("Refund time 14 days > 3 days.", "14 days", "3 days"),
        ("Refund time went from 14 days to 3 days.", "14 days", "3 days"),
        ("Refund time was cut from around 14 days to 3 days.", "14 days", "3 days"),
        ("Refund time down to 3 days from 14 days.", "14 days", "3 days"),
        ("Refund time 3 days, down from 14 days.", "14 days", "3 days"),
        ("Refund time: 3 days (was 14 days).", "14 days", "3 days"),
        ("Refund time: 3 days, previously 14 days.", "14 days", "3 days"),
        ("Refund time now takes 3 days, compared with 14 days last year.", "14 days", "3 days"),
        ("Refund time takes 3 days instead of 14 days.", "14 days", "3 days"),
        ("Refund time: 14 days before, 3 days after.", "14 days", "3 days"),
        ("Refund time: before 14 days, after 3 days.", "14 days", "3 days"),
        ("Refund time: was 14 days, now 3 days.", "14 days", "3 days"),
        ("Refund time 14 days vs 3 days now.", "14 days", "3 days"),
        ("Refund time is down to 3 days, versus 14 days before.", "14 days", "3 days"),
        ("Refund time was 14 days previously and is 3 days today.", "14 days", "3 days"),
        ("Refund time used to be 14 days; it is now 3 days.", "14 days", "3 days"),
        ("Refund time is 3 days. It was 14 days before we started.", "14 days", "3 days"),
    ],
)
def test_before_and_after_in_either_order_with_any_joining_words(
    text: str, before: str, after: str
) -> None:
    assert pairs(text) == [("Refund time", before, after)]


def test_a_count_before_the_pair_is_not_part_of_it() -> None:
    got = pairs("Near-miss errors per 10,000 items fell from 14 to 3.")
    assert got == [("Near-miss errors per 10,000 items", "14", "3")]


def test_the_label_is_found_past_a_relative_clause_and_an_interjection() -> None:
    assert pairs("Temperature excursions, which had averaged 18 a month, are down to 3.") == [
        ("Temperature excursions", "18", "3")
    ]
    assert pairs("Yes — markdowns were 14% of sales, they're now 9%.")[0][0] == "Markdowns"


@pytest.mark.parametrize(
    ("text", "before_value", "after_value", "unit"),
    [
        ("Handling cost per claim: from 1.150,00 kr to 640,00 kr.", 1150.0, 640.0, "kr"),
        ("Review score from 8,1 to 8,9 (the export writes 8,1).", 8.1, 8.9, ""),
        ("Overtime hours: 1.900 before, 1.150 after.", 1900.0, 1150.0, ""),
        ("Peak top-ups per second up to 1.800 from 650.", 650.0, 1800.0, ""),
        ("Spare-parts revenue € 4,2 Mio. -> € 5,9 Mio.", 4.2e6, 5.9e6, "€"),
        ("Rework cost per project $182k → $96k.", 182e3, 96e3, "$"),
        ("Candidate rating: 3.1/5 → 4.4/5.", 3.1, 4.4, "/5"),
        ("NPS -12 → +18.", -12.0, 18.0, ""),
    ],
)
def test_numbers_in_other_locales_currencies_ratings_and_signs(
    text: str, before_value: float, after_value: float, unit: str
) -> None:
    (metric,) = study(text).metrics
    assert (metric.before_value, metric.after_value, metric.unit) == (
        before_value,
        after_value,
        unit,
    )


@pytest.mark.parametrize(
    ("text", "improvement"),
    [
        ("NPS -12 → +18.", "+30 pts"),
        ("NPS went from 32 to 47.", "+15 pts"),
        ("Net margin -4% → 3%.", "+7 pts"),
        ("Stock variance per count -40 units → 15 units.", "+55 units"),
    ],
)
def test_a_change_across_zero_or_of_a_net_score_is_a_difference_not_a_percentage(
    text: str, improvement: str
) -> None:
    (metric,) = study(text).metrics
    assert metric.improvement == improvement
    assert not metric.HasField("change_percent")


@pytest.mark.parametrize(
    ("text", "before_value", "after_value", "unit"),
    [
        ("Restoration time: before 4h 10m, after 2h 35m.", 250.0, 155.0, "min"),
        ("AHT 9m30s → 6m15s.", 570.0, 375.0, "sec"),
        ("Resolve time dropped from 1 day 6 hours to 5 hours 30 minutes.", 1800.0, 330.0, "min"),
        ("Waiting time 3 weeks down to 6 days.", 21.0, 6.0, "days"),
        (
            "Ordering took each store about 6 hours a week. Now it's a 30-minute review.",
            360.0,
            30.0,
            "min",
        ),
    ],
)
def test_durations_in_mixed_units_become_one_unit(
    text: str, before_value: float, after_value: float, unit: str
) -> None:
    (metric,) = study(text).metrics
    assert (metric.before_value, metric.after_value, metric.unit) == (
        before_value,
        after_value,
        unit,
    )


@pytest.mark.parametrize(
    ("text", "label", "improvement", "change"),
    [
        (
            "Customer minutes lost per year fell 38%.",
            "Customer minutes lost per year",
            "38% lower",
            -38.0,
        ),
        ("Promotion ROI improved by 22%.", "Promotion ROI", "22% higher", 22.0),
        ("Out-of-stocks reduced by a third.", "Out-of-stocks", "a third lower", None),
        (
            "The docks handle 22% more containers per day with the same doors.",
            "Containers per day",
            "22% higher",
            22.0,
        ),
    ],
)
def test_an_improvement_without_a_before_value(
    text: str, label: str, improvement: str, change: float | None
) -> None:
    (metric,) = study(text).metrics
    assert (metric.label, metric.before, metric.after, metric.improvement) == (
        label,
        "",
        "",
        improvement,
    )
    assert (metric.change_percent if metric.HasField("change_percent") else None) == change


def test_a_chat_answer_takes_its_label_from_the_question() -> None:
    notes = (
        "12/05/2026, 18:05 - Tomás: and waiting time for a first appointment?\n"
        "12/05/2026, 18:05 - Irene: 3 weeks down to 6 days\n"
    )
    assert pairs(notes) == [("Waiting time for a first appointment", "3 weeks", "6 days")]


# --- tables of every kind -------------------------------------------------------------------


@pytest.mark.parametrize(
    "table",
    [
        "Metric                 Before     After\nQueue time             7.5 min    2 min\n",
        "                       BASELINE   RESULT\nQueue time             7.5 min    2 min\n",
        "Measure\tBefore\tAfter\nQueue time\t7.5 min\t2 min\n",
        "KPI;Vorher (before);Nachher (after)\nQueue time;7.5 min;2 min\n",
        "metric,before,after\nqueue time,7.5 min,2 min\n",
        "| KPI | Now | Was |\n|---|---|---|\n| Queue time | 2 min | 7.5 min |\n",
    ],
)
def test_tables_aligned_delimited_and_in_markdown(table: str) -> None:
    assert pairs(table) == [("Queue time", "7.5 min", "2 min")]


# --- phases, however they are told ------------------------------------------------------------


@pytest.mark.parametrize(
    ("notes", "periods", "names"),
    [
        (
            "phases: Q1 discovery; Q2 pilot north depot; Q3 national\n",
            ["Q1", "Q2", "Q3"],
            ["Discovery", "Pilot north depot", "National"],
        ),
        (
            "wk1-2 discovery | wk3-8 desktop build | wk9-10 go-live\n",
            ["Weeks 1-2", "Weeks 3-8", "Weeks 9-10"],
            ["Discovery", "Desktop build", "Go-live"],
        ),
        (
            "Timeline: January – pilot branch; February – 20 branches; March–April – the rest.\n",
            ["January", "February", "March–April"],
            ["Pilot branch", "20 branches", "The rest"],
        ),
        (
            "We piloted in the spring in 12 stores, went to all 140 stores over the summer, and in "
            "the autumn we added the online stock pool.\n",
            ["Spring", "Summer", "Autumn"],
            ["Piloted in 12 stores", "Went to all 140 stores", "Added the online stock pool"],
        ),
        (
            "In the autumn term we mapped the codes. In the spring term we built the dashboard. "
            "In the summer term the call lists went live.\n",
            ["Autumn term", "Spring term", "Summer term"],
            ["Mapped the codes", "Built the dashboard", "The call lists went live"],
        ),
        (
            "We did it in two waves: wave one re-slotted the ambient zone, wave two the chilled zone.\n",
            ["Wave 1", "Wave 2"],
            ["Re-slotted the ambient zone", "The chilled zone"],
        ),
        (
            "The work ran in sprints: sprint 1 = guided setup, sprint 2 = bank feeds, sprint 3 = templates\n",
            ["Sprint 1", "Sprint 2", "Sprint 3"],
            ["Guided setup", "Bank feeds", "Templates"],
        ),
        (
            "The first month went on interviews. In the second month we piloted the list, and "
            "during the third and fourth months it was extended to every specialty.\n",
            ["Month 1", "Month 2", "Months 3-4"],
            ["Went on interviews", "Piloted the list", "Extended to every specialty"],
        ),
        (
            "It started with a week on the docks. Then we built a booking portal. Once it worked, "
            "we connected the yard screens. Finally, we handed it over.\n",
            ["Step 1", "Step 2", "Step 3", "Step 4"],
            [
                "A week on the docks",
                "Built a booking portal",
                "Connected the yard screens",
                "Handed it over",
            ],
        ),
        (
            "- Season 1: 10 pilot farms\n- Season 2: all member farms\n",
            ["Season 1", "Season 2"],
            ["10 pilot farms", "All member farms"],
        ),
        (
            "4.1 Phase one (three months): online form\n4.2 Phase two (two months): payments\n",
            ["three months", "two months"],
            ["Online form", "Payments"],
        ),
    ],
)
def test_phases_in_a_paragraph_on_one_line_or_told_as_a_story(
    notes: str, periods: list[str], names: list[str]
) -> None:
    phases = study(notes).phases
    assert [p.period for p in phases] == periods
    assert [p.name for p in phases] == names


def test_a_speaker_called_maya_is_not_the_month_of_may() -> None:
    assert list(study("Maya: No-show rate went from 31% to 9%.\nMaya: thanks\n").phases) == []


# --- quotes -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("notes", "author", "role"),
    [
        (
            '"We now finish lists on time, every day," said Fiona Walsh, Director of Surgery.',
            "Fiona Walsh",
            "Director of Surgery",
        ),
        (
            'Ines Duarte, Head of Financial Crime: "Our analysts spend their day on risk."',
            "Ines Duarte",
            "Head of Financial Crime",
        ),
        (
            'The claims director, Lars Eide, told us: "Customers now finish a claim at the roadside."',
            "Lars Eide",
            "",
        ),
        (
            'quote from their ops VP Carla Mendes: "We find the problem on Tuesday instead."',
            "Carla Mendes",
            "",
        ),
        (
            'Rashid Ali (Solis Grid) 14:10\nYou can quote me: "The grid tells us where the fault is."',
            "Rashid Ali",
            "",
        ),
        (
            "Attendees: Maya Brooks (Volunteer Coordinator, Open Table), Sam Reid (us)\n\n"
            'Maya: "I used to spend Friday nights texting people."',
            "Maya Brooks",
            "Volunteer Coordinator",
        ),
        (
            "A (Giulia Ferri, Quality Manager): Porosity defects.\n\n"
            'A: "We stopped machining scrap, and that paid for it."',
            "Giulia Ferri",
            "Quality Manager",
        ),
    ],
)
def test_quotes_attributed_before_after_or_by_the_speaker(
    notes: str, author: str, role: str
) -> None:
    quote = study(notes).quote
    assert (quote.author, quote.role) == (author, role)


# --- titles and subtitles read as a person writes them -----------------------------------------


@pytest.mark.parametrize(
    ("solution", "subtitle"),
    [
        ("What we built: one enquiry hub with a knowledge base.", "Education — one enquiry hub"),
        (
            "Then we built a booking portal for hauliers.",
            "Logistics — built a booking portal for hauliers",
        ),
        (
            "In the second month we piloted the pooled list in two wards.",
            "Healthcare — piloted the pooled list in two wards",
        ),
        (
            "After we automated the reconciliations, the close takes 5 days.",
            "Manufacturing — automated the reconciliations",
        ),
    ],
)
def test_the_subtitle_drops_lead_ins_and_stops_at_the_end_of_a_clause(
    solution: str, subtitle: str
) -> None:
    from structurer_service.extract.headline import compose_subtitle

    industry = subtitle.split(" — ", 1)[0]
    assert compose_subtitle(industry, solution).startswith(subtitle)


def test_a_duration_that_took_names_what_took_it() -> None:
    notes = "Client: Cornerstone\nOrdering took each store about 6 hours a week. Now it's a 30-minute review."
    result = study(notes)
    assert result.metrics[0].label == "Ordering time"
    assert result.title == "How Cornerstone cut ordering time by 92%"


def test_season_lines_are_phases_and_last_winter_is_not() -> None:
    lines = "Plan\n- Winter: booking system\n- Spring: four pilot marinas\n- Summer: all marinas\n"
    assert [p.period for p in study(lines).phases] == ["Winter", "Spring", "Summer"]
    measured = "Last winter we logged 380 complaints a month; this spring it was 90 a month.\n"
    assert list(study(measured).phases) == []


def test_a_sentence_naming_before_and_after_is_not_a_table_header() -> None:
    notes = (
        "[14:23] tom: complaints per quarter: 58 before, 12 after\n"
        "[14:24] ana: what were the phases, before and after the app\n"
        "[14:25] tom: month 1 setup, month 2 pilot\n"
    )
    assert pairs(notes) == [("Complaints per quarter", "58", "12")]


@pytest.mark.parametrize(
    ("notes", "author"),
    [
        (
            'their ops manager (Grace Obi) said "I stopped spending Sunday nights on the phone"',
            "Grace Obi",
        ),
        (
            'Their COO, Hannah Price, said: "Our front desks finally have time for patients."',
            "Hannah Price",
        ),
        (
            'Their Head of Leisure, Rachel Dunn, said: "Members get a fair chance at classes."',
            "Rachel Dunn",
        ),
    ],
)
def test_a_job_title_before_the_name_is_not_the_author(notes: str, author: str) -> None:
    assert study(notes).quote.author == author
