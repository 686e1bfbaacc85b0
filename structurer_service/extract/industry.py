"""The client's industry: from an "Industry:" line, else from the words the notes use most."""

from __future__ import annotations

import re

from .document import Document
from .keywords import keywords

_INDUSTRY_LINE = re.compile(
    r"[\s>*_#-]{0,8}(?:industry|sector|vertical|ind)[*_ ]{0,4}(?:[:=—–]|\s-)\s{0,3}[*_]{0,2}"
    r"(?P<v>[^\n]{1,200})",
    re.IGNORECASE,
)
_VALUE_END = re.compile(r"\s\(|\s[—–|-]\s|[,;]|\s{2}")
# Industry keywords are matched case-sensitively against case-folded notes: many times faster than
# IGNORECASE, with the same matches. The fold maps every character that IGNORECASE equates with an
# ASCII letter to that lowercase letter, one character for one, so word boundaries stay put.
# (Any other character IGNORECASE equates only with non-ASCII ones, which no keyword holds.)
_CASE_FOLD = {
    **{upper: upper + 32 for upper in range(ord("A"), ord("Z") + 1)},
    0x130: ord("i"),  # İ
    0x131: ord("i"),  # ı
    0x17F: ord("s"),  # ſ
    0x212A: ord("k"),  # Kelvin sign
}
# Ordered: on a tie the earlier industry wins, so the broad ones come first.
_INDUSTRIES: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, keywords(words))
    for name, words in (
        (
            "Logistics",
            r"logistics|freight|trucks?|trucking|dispatch\w*|carriers?|shipments?|fleet|ltl"
            r"|warehous\w*|loads|terminals?|drivers?|depots?|haul\w*|reefers?|containers?"
            r"|pickers?|picking|pallets?|distribut\w*",
        ),
        (
            "Healthcare",
            r"health\s?care|hospitals?|patients?|clinics?|clinical|nurs\w*|ehr|physicians?"
            r"|pharmac\w*|discharges?|readmissions?|med-surg|surg\w*|medication|doses?|dental"
            r"|physio\w*|care homes?|diagnostic\w*|laborator\w*|labs?|prescriptions?|gps?",
        ),
        (
            "Retail & e-commerce",
            r"retail\w*|e-?commerce|checkout|shoppers?|storefront|skus?|carts?|dtc"
            r"|direct-to-consumer|merchandis\w*|stores?|shops?|markdowns?|shelf|shelves"
            r"|replenishment|basket",
        ),
        (
            "Financial services",
            r"fintech|bank\w*|lend\w*|loans?|kyc|payments?|credit|merchants?|mortgages?"
            r"|chargebacks?|financ\w*|deposits?",
        ),
        (
            "Insurance",
            r"insur\w*|claims?|policyholders?|adjusters?|premiums?|underwrit\w*|brokers?",
        ),
        (
            "Manufacturing",
            r"manufactur\w*|plants?|factory|factories|oee|scrap|changeovers?|assembly"
            r"|production line|machin\w*|smed|tooling|press(?:es)?|castings?|furnace",
        ),
        ("Software & SaaS", r"saas|software|subscriptions?|arr|mrr|product-led|trial-to-paid"),
        (
            "Energy & utilities",
            r"utility|utilities|energy|grid|outages?|electricity|meters?|water|leaks?|mains"
            r"|gas",
        ),
        ("Education", r"universit\w*|students?|schools?|enrol\w*|courses?|faculty|pupils?"),
        ("Hospitality", r"hotels?|guests?|restaurants?|hospitality|occupancy|resorts?|buffets?"),
        (
            "Telecommunications",
            r"telco|telecom\w*|subscribers?|fibre|fiber|broadband|prepaid|top-ups?"
            r"|mobile operator|operators?",
        ),
        (
            "Public sector",
            r"council|municipal\w*|government|permits?|public sector|citizens|agency|ministry"
            r"|city of|county|residents",
        ),
        (
            "Legal services",
            r"law firm|legal|lawyers?|attorneys?|solicitors?|paralegals?|litigation|playbook",
        ),
        ("Nonprofit", r"charity|charities|non-?profit|volunteers?|food bank|donors?|donations?"),
        (
            "Construction",
            r"construction|contractors?|subcontractors?|rfis?|concrete|pours?|builders?"
            r"|building sites?",
        ),
        ("Real estate", r"property|properties|tenants?|landlords?|lettings?|real estate|leases?"),
        (
            "Agriculture",
            r"farms?|farmers?|growers?|crops?|irrigation|harvest\w*|hectares?|agri\w*"
            r"|orchards?|livestock",
        ),
        (
            "Media & publishing",
            r"newspapers?|publish\w*|advertis\w*|editorial|broadcast\w*|media|ad-ops|newsroom",
        ),
        (
            "Aviation",
            r"airlines?|aircraft|flights?|airports?|aviation|turboprops?|ramp|departures",
        ),
        ("Transportation", r"bus|buses|rail|trains?|transit|public transport|commuters?"),
        ("Gaming", r"games?|gaming|players?"),
        (
            "Staffing & recruitment",
            r"recruit\w*|staffing|candidates?|placements?|hiring|job boards?",
        ),
        (
            "Consumer goods",
            r"cosmetics|beauty|consumer goods|cpg|fmcg|trade promotions?|brands?",
        ),
        (
            "Leisure & recreation",
            r"leisure|marinas?|berths?|gyms?|fitness|skippers?|sports? centres?|swimming",
        ),
        (
            "Facilities services",
            r"cleaning|cleaners?|janitorial|facilities management|security guards?",
        ),
        (
            "Food & beverage",
            r"bakery|bakeries|bread|food manufacturer|beverages?|brewer\w*|frozen food|dairy",
        ),
    )
)
_MIN_INDUSTRY_HITS = 2
_TITLE_LINES = 3  # the notes' first lines name the client and what it does: they count twice


def find_industry(doc: Document) -> str:
    """From an "Industry:" line, else the industry whose keywords the notes use most (or "")."""
    return stated_industry(doc) or inferred_industry(doc)


def stated_industry(doc: Document) -> str:
    """The industry an "Industry:" (or "Sector:", "ind:") line names, or ""."""
    for line in doc.lines:
        if len(line) < 300 and (match := _INDUSTRY_LINE.match(line)):
            return _value(match["v"])
    return ""


def inferred_industry(doc: Document) -> str:
    """The industry whose keywords the notes use most, or "" when none is used enough."""
    folded = doc.text.translate(_CASE_FOLD)
    title = " ".join([line for line in doc.lines if line.strip()][:_TITLE_LINES])[:1000]
    folded_title = title.translate(_CASE_FOLD)
    counts = {
        name: len(pattern.findall(folded)) + len(pattern.findall(folded_title))
        for name, pattern in _INDUSTRIES
    }
    best = max(counts, key=lambda name: counts[name])
    return best if counts[best] >= _MIN_INDUSTRY_HITS else ""


def _value(value: str) -> str:
    value = value.strip()
    end = _VALUE_END.search(value)
    value = (value[: end.start()] if end else value).strip(" *_.:")
    return value[:1].upper() + value[1:]
