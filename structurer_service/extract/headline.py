"""Client, industry, and a title and subtitle composed only from what the notes say."""

from __future__ import annotations

import re
from dataclasses import dataclass

from casecraft.v1.case_study_pb2 import Metric

from .document import Document, split_sentences
from .keywords import keywords
from .numbers import format_number

_CLIENT_LINE = re.compile(
    r"[\s>*_#-]{0,8}(?:client|customer|company|account|organi[sz]ation)(?:\s?name)?"
    r"[*_ ]{0,4}[:=—–-]\s{0,3}[*_]{0,2}(?P<v>[^\n]{1,200})",
    re.IGNORECASE,
)
_INDUSTRY_LINE = re.compile(
    r"[\s>*_#-]{0,8}(?:industry|sector|vertical)[*_ ]{0,4}[:=—–-]\s{0,3}[*_]{0,2}(?P<v>[^\n]{1,200})",
    re.IGNORECASE,
)
# A word never gives characters back: what follows it must be a space, so giving back cannot help.
_NAME_SEQ = r"[A-Z][\w&'’.-]{0,30}+(?:\s(?:&\s|of\s|and\s|de\s)?[A-Z][\w&'’.-]{0,30}+){0,4}"
_PROSE_CLIENT = (
    re.compile(
        r"\b(?:worked|working|partnered|partnering|engagement|engaged|project|work)\s(?:with|for)"
        rf"\s(?:the\s)?(?P<v>{_NAME_SEQ})"
    ),
    re.compile(rf"(?P<v>{_NAME_SEQ})\s(?:hired|engaged|brought in|asked|came to)\sus\b"),
)
_VALUE_END = re.compile(r"\s\(|\s[—–|-]\s|[,;]|\s{2}")
_NOT_NAMES = frozenset("The We Our It They This That In On At A An Then When".split())
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
_INDUSTRIES: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, keywords(words))
    for name, words in (
        (
            "Logistics",
            r"logistics|freight|trucks?|trucking|dispatch\w*|carriers?|shipments?|fleet|ltl"
            r"|warehous\w*|loads|terminals?|drivers?",
        ),
        (
            "Healthcare",
            r"health\s?care|hospitals?|patients?|clinics?|clinical|nurs\w*|ehr|physicians?"
            r"|pharmac\w*|discharges?|readmissions?|med-surg",
        ),
        (
            "Retail & e-commerce",
            r"retail\w*|e-?commerce|checkout|shoppers?|storefront|skus?|carts?|dtc"
            r"|direct-to-consumer|merchandis\w*",
        ),
        ("Financial services", r"fintech|bank\w*|lend\w*|loans?|kyc|payments?|credit|merchants?"),
        ("Insurance", r"insur\w*|claims?|policyholders?|adjusters?|premiums?|underwrit\w*"),
        (
            "Manufacturing",
            r"manufactur\w*|plants?|factory|factories|oee|scrap|changeovers?|assembly"
            r"|production line|machin\w*|smed|tooling|press(?:es)?",
        ),
        ("Software & SaaS", r"saas|software|subscriptions?|arr|mrr|product-led"),
        ("Energy & utilities", r"utility|utilities|energy|grid|outages?"),
        ("Education", r"universit\w*|students?|schools?|enrol\w*|courses?|faculty"),
        ("Hospitality", r"hotels?|guests?|restaurants?|hospitality|occupancy"),
    )
)
_MIN_INDUSTRY_HITS = 2
_JOINERS = frozenset(
    "and where which that so against with while to for across by using from into because".split()
)


@dataclass(frozen=True)
class Headline:
    client_name: str = ""
    industry: str = ""
    title: str = ""
    subtitle: str = ""


def extract_headline(doc: Document, metrics: list[Metric], solution: str) -> Headline:
    """Client and industry from the notes; title and subtitle composed from the facts found."""
    client = find_client(doc)
    industry = find_industry(doc)
    return Headline(
        client_name=client,
        industry=industry,
        title=compose_title(client, industry, metrics, solution),
        subtitle=compose_subtitle(industry, solution),
    )


def find_client(doc: Document) -> str:
    """From a "Client:" line, else from prose such as "we worked with Northwind Health"."""
    for line in doc.lines:
        if len(line) < 300 and (match := _CLIENT_LINE.match(line)):
            return _name_value(match["v"])
    for pattern in _PROSE_CLIENT:
        for match in pattern.finditer(doc.text):
            name = re.sub(r"['’]s$", "", match["v"].rstrip(".,'’"))
            if name.split()[0] not in _NOT_NAMES:
                return name
    return ""


def find_industry(doc: Document) -> str:
    """From an "Industry:" line, else the industry whose keywords the notes use most (or "")."""
    for line in doc.lines:
        if len(line) < 300 and (match := _INDUSTRY_LINE.match(line)):
            return _name_value(match["v"], allow_lower=True)
    folded = doc.text.translate(_CASE_FOLD)
    counts = {name: len(pattern.findall(folded)) for name, pattern in _INDUSTRIES}
    best = max(counts, key=lambda name: counts[name])
    return best if counts[best] >= _MIN_INDUSTRY_HITS else ""


def _name_value(value: str, *, allow_lower: bool = False) -> str:
    value = value.strip()
    end = _VALUE_END.search(value)
    value = (value[: end.start()] if end else value).strip(" *_.:")
    if not value or (not allow_lower and not (value[0].isupper() or value[0].isdigit())):
        return ""  # "Client: a regional bank (name withheld)" names nobody
    return value[:1].upper() + value[1:]


def top_metric(metrics: list[Metric]) -> Metric | None:
    """The improvement with the largest relative change."""
    improving = [
        m
        for m in metrics
        if m.HasField("change_percent")
        and m.change_percent != 0
        and (m.change_percent < 0) == m.lower_is_better
    ]
    return max(improving, key=lambda m: abs(m.change_percent), default=None)


def compose_title(client: str, industry: str, metrics: list[Metric], solution: str) -> str:
    """E.g. "How Harbor Freightways cut average dispatch time by 67%"."""
    metric = top_metric(metrics)
    if metric is not None:
        subject = client or (f"a {industry.lower()} client" if industry else "we")
        return f"How {subject} {_metric_clause(metric)}"
    phrase, led_by_we = solution_phrase(solution, max_words=10)
    if client and phrase:
        return f"How {client} {_lower_first(phrase)}" if led_by_we else f"{client}: {phrase}"
    return client or phrase


def compose_subtitle(industry: str, solution: str) -> str:
    """E.g. "Logistics — replaced the whiteboards with a live load board fed from the TMS"."""
    phrase, _ = solution_phrase(solution, max_words=14)
    if industry and phrase:
        return f"{industry} — {_lower_first(phrase)}"
    return phrase or (f"{industry} engagement" if industry else "")


def solution_phrase(solution: str, *, max_words: int) -> tuple[str, bool]:
    """The first clause of the solution, without a leading "We", and whether it had one."""
    sentences = split_sentences(solution)
    if not sentences:
        return "", False
    text = sentences[0].rstrip(".!?")
    led_by_we = re.match(r"(?:we|our team)\s", text, re.IGNORECASE) is not None
    if led_by_we:
        text = text.split(None, 2 if text.lower().startswith("our team") else 1)[-1]
    words = text.split()
    if len(words) > max_words:
        clause = re.split(r"[,;:]|\s[—–-]\s", text, maxsplit=1)[0].split()
        words = clause if 3 <= len(clause) <= max_words else _joined_prefix(words, max_words)
    phrase = " ".join(words).rstrip(",;:")
    return phrase[:1].upper() + phrase[1:], led_by_we


def _joined_prefix(words: list[str], max_words: int) -> list[str]:
    cut = max(
        (i for i in range(3, min(len(words), max_words + 1)) if words[i].lower() in _JOINERS),
        default=max_words,
    )
    return words[:cut]


def _metric_clause(metric: Metric) -> str:
    label = _lower_first(metric.label)
    verb = "cut" if metric.lower_is_better else "raised"
    if metric.unit == "%":
        return f"{verb} {label} from {metric.before} to {metric.after}"
    if metric.change_percent >= 100 and metric.before_value > 0:
        return f"grew {label} {format_number(metric.after_value / metric.before_value)}x"
    return f"{verb} {label} by {format_number(abs(metric.change_percent))}%"


def _lower_first(text: str) -> str:
    first = text.split(" ", 1)[0]
    if sum(char.isupper() for char in first) >= 2:
        return text
    return text[:1].lower() + text[1:]
