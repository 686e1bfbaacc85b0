"""Client, industry, and a title and subtitle composed only from what the notes say."""

from __future__ import annotations

import re
from dataclasses import dataclass

from casecraft.v1.case_study_pb2 import Metric

from .client import find_client
from .document import Document, split_sentences
from .industry import inferred_industry, stated_industry
from .numbers import format_number

_VALUE_END = re.compile(r"\s\(|\s[—–|-]\s|[,;]|\s{2}")
_JOINERS = frozenset(
    "and where which that so against with while to for across by using from into because".split()
)


@dataclass(frozen=True)
class Headline:
    client_name: str = ""
    client_sure: bool = False
    industry: str = ""
    industry_sure: bool = False
    title: str = ""
    subtitle: str = ""


def extract_headline(doc: Document, metrics: list[Metric], solution: str) -> Headline:
    """Client and industry from the notes; title and subtitle composed from the facts found."""
    guess = find_client(doc)
    client = guess.name
    industry = stated_industry(doc)
    industry_sure = bool(industry)
    if not industry:
        industry = inferred_industry(doc)
    return Headline(
        client_name=client,
        client_sure=guess.sure,
        industry_sure=industry_sure,
        industry=industry,
        title=compose_title(client, industry, metrics, solution),
        subtitle=compose_subtitle(industry, solution),
    )


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


# A label in front of the solution ("What we built:", "soln:") and connectives that start a
# sentence ("Then", "First,") are not part of what was done.
_LEAD_IN = re.compile(
    r"^(?:(?:[\w-]+\s){0,3}[\w-]+:\s|(?:then|first|next|finally|after that|so),?\s)", re.IGNORECASE
)
_WE_AFTER_LEAD = re.compile(
    r"(?P<lead>(?:in|during|over|after|once|when|by|from|at)\s(?:[^,.]{0,60}?,?\s)?)"
    r"(?=(?:we|our team)\s)",
    re.IGNORECASE,
)


_NEW_CLAUSE = re.compile(r",\s(?=(?:the|a|an|it|this|they|we|our|their|which)\s)", re.IGNORECASE)


def solution_phrase(solution: str, *, max_words: int) -> tuple[str, bool]:
    """The first clause of the solution, without a leading "We", and whether it had one."""
    sentences = split_sentences(solution)
    if not sentences:
        return "", False
    text = _LEAD_IN.sub("", sentences[0].rstrip(".!?"))
    if we := _WE_AFTER_LEAD.match(text):
        text = text[we.end("lead") :]  # "In the second month we piloted ..." -> "we piloted ..."
    led_by_we = re.match(r"(?:we|our team)\s", text, re.IGNORECASE) is not None
    if led_by_we:
        text = text.split(None, 2 if text.lower().startswith("our team") else 1)[-1]
    if (new_clause := _NEW_CLAUSE.search(text)) and len(text[: new_clause.start()].split()) >= 3:
        text = text[: new_clause.start()]  # "automated X, the close takes 5 days": two clauses
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
