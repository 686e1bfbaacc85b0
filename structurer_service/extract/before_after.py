"""Before/after metrics: "94 min -> 31 min", "from 18% to 7%", and Before/After tables."""

from __future__ import annotations

import re

from casecraft.v1.case_study_pb2 import Metric

from .document import Document, clean_markup
from .keywords import keywords
from .numbers import QUANTITY, Quantity, change_percent, format_number, parse_number, reconcile
from .pairs import Pair, pairs
from .plain_tables import plain_tables

_STATED = re.compile(
    r"\s{0,2}[(\[,;:—–-]{0,2}\s{0,2}(?:(?:a|an)\s)?"
    r"(?P<imp>[+\-−–]?\s?\d{1,5}(?:\.\d{1,2})?\s?(?:%|x|×|pts?\b|pp\b|percentage points?\b)"
    r"(?:\s(?:faster|slower|lower|higher|fewer|more|less|reduction|increase|improvement"
    r"|decrease|drop|better|gain|lift|up|down|cut))?)",
    re.IGNORECASE,
)
_DIGIT = re.compile(r"\d")
# Notes that write "8,1" or "1.234,5" write thousands with a dot: "1.900" is then 1900.
_DECIMAL_COMMA = re.compile(r"\d,\d{1,2}(?![\d,])|\d\.\d{3},\d")
_DOT_THOUSANDS = re.compile(r"[1-9]\d{0,2}\.\d{3}(?![\d.,])")
_LABEL_TAIL = re.compile(
    r"(?:\s(?:used to(?: be| take)?|had been|had averaged|averaged|takes|take|took|was|were|is"
    r"|before|baseline|previously|formerly|originally|then"
    r"|are|now|stood at|stands at|came in at|went|came|(?:down|up)(?: to| from)?|to|from|at"
    r"|about|around|roughly|approximately|some|nearly|almost|over|under|~))+$",
    re.IGNORECASE,
)
_WINDOW = 160
_LIST_MARKER = re.compile(r"^(?:[-*•+>#]|\d{1,2}[.)])\s{0,4}")
_CLAUSE_MARK = re.compile(r"[();!?.,]")  # parentheses, and what can end a clause
_VERBS = frozenset(
    """reduced cut dropped fell decreased lowered shrank shortened slashed rose grew increased
    improved climbed jumped raised boosted lifted went moved brought took takes take got halved
    doubled
    tripled sped going falling rising dropping climbing""".split()
)
_TAKES = frozenset("took takes take".split())
_LOWER_VERBS = frozenset(
    "reduced cut dropped fell decreased lowered shrank shortened slashed halved".split()
)
_LEADING_FILLERS = frozenset(
    """and but so also then while meanwhile overall plus with the our their its a an his her we
    yes no ok okay well honestly actually""".split()
)
_TRAILING_FILLERS = frozenset("was were has have had is are been down up from by".split())
_HIGHER_FIRST = re.compile(
    r"on[- ]time|uptime|first[- ]pass|first[- ]contact resolution|fill rate|savings|saved"
    r"|same day|retention"
)
_LOWER = keywords(
    r"time|times|duration|latency|lead time|turnaround|cycle|cost|costs|spend|expense"
    r"|errors?|defects?|churn|downtime|delays?|wait|waiting|backlog|abandon\w*|complaints?"
    r"|incidents?|escalations?|turnover|attrition|readmissions?|length of stay|no-shows?|fraud"
    r"|loss(?:es)?|scrap|rework|waste|idle|missed|overtime|chargebacks?|charges?|fees?"
    r"|write-offs?|empty|manual|exceptions?|rejects?|bounce|stockouts?|injur\w*|tickets?|calls?"
    r"|changeovers?|mttr|aht|dso|cac|queue|boarding"
)
_HIGHER = keywords(
    r"revenue|sales|conversion|satisfaction|nps|csat|availability|throughput|adoption"
    r"|accuracy|yield|oee|utili[sz]ation|margin|profit|compliance|capacity|productivity"
    r"|engagement|output|orders|originations?|approvals?|completion|completed|win rate|score"
    r"|loads|volume|growth|aov|ltv|bookings|coverage|settled|handled|resolution|discharges?"
)


# Warnings listed about figures that were skipped; past this, one line says how many more.
MAX_WARNINGS = 20


def extract_metrics(doc: Document) -> tuple[list[Metric], list[str]]:
    """Every before/after pair in the notes, in order of appearance, without duplicates."""
    metrics: list[Metric] = []
    warnings: dict[
        str, None
    ] = {}  # each once, in order: notes may repeat a line thousands of times
    seen: set[tuple[str, str]] = set()

    def add(metric: Metric | None, problem: str | None) -> None:
        if problem:
            warnings[problem] = None
        if metric is None:
            return
        key = (metric.before.lower(), metric.after.lower())
        if not metric.before and not metric.after:
            key = (metric.label.lower(), metric.improvement.lower())
        if key not in seen:
            seen.add(key)
            metrics.append(metric)

    dot_thousands = _DECIMAL_COMMA.search(doc.text) is not None
    question = ""
    for unit in doc.units:
        spans: list[tuple[int, int]] = []
        if _DIGIT.search(unit.text):
            consumed = 0
            for pair in pairs(unit.text):
                start = min(pair.before.start, pair.after.start)
                if start < consumed:
                    continue
                metric, problem, consumed = _from_prose(
                    unit.text, pair, consumed, dot_thousands, question
                )
                spans.append((start, consumed))
                add(metric, problem)
        for match in _IMPROVEMENT.finditer(unit.text):
            if not any(start <= match.end() and match.start() <= end for start, end in spans):
                floor = max((end for _, end in spans if end <= match.start()), default=0)
                add(*_improvement(unit.text, match, floor))
        question = unit.text if unit.text.endswith("?") else ""
    for table in doc.tables:
        for label, before, after, stated, header_unit in _table_rows(table):
            add(*build_metric(label, before, after, stated, header_unit=header_unit))
    for rows in plain_tables(doc.lines):
        for label, before, after, stated, header_unit in _rows_of(rows):
            add(*build_metric(label, before, after, stated, header_unit=header_unit))
    listed = list(warnings)[:MAX_WARNINGS]
    if len(warnings) > MAX_WARNINGS:
        listed.append(f"and {len(warnings) - MAX_WARNINGS:,} more figures that were skipped")
    return metrics, listed


def _from_prose(
    text: str, pair: Pair, consumed: int, dot_thousands: bool, question: str = ""
) -> tuple[Metric | None, str | None, int]:
    """The metric of ``pair``; the label is looked for between ``consumed`` and the numbers."""
    start = min(pair.before.start, pair.after.start)
    end = max(pair.before.end, pair.after.end)
    left = text[max(consumed, start - _WINDOW) : start]
    for _ in range(2):
        left = _LABEL_TAIL.sub("", left.rstrip(" :,;—–-")).rstrip(" :,;—–-")
    label, verb = clean_label(left)
    if not label:
        right = text[end : end + 80]
        label, verb = clean_label(re.split(r"[.;,(]", right, maxsplit=1)[0])
    if (
        not label and question
    ):  # "and waiting time for a first appointment?" / "3 weeks down to 6 days"
        label, verb = clean_label(question.rstrip("?"))
    stated = _STATED.match(text, end)
    if stated:
        end = stated.end()
    before, after = pair.before.quantity, pair.after.quantity
    if not before.unit and after.kind in ("", "other") and _looks_like_years(before, after):
        return None, None, end
    before, after = (
        _thousands(before, after, dot_thousands),
        _thousands(after, before, dot_thousands),
    )
    metric, problem = _metric(label, before, after, stated["imp"].strip() if stated else "", verb)
    return metric, problem, end


def _thousands(quantity: Quantity, other: Quantity, dot_thousands: bool) -> Quantity:
    """``quantity`` with "1.900" read as 1900 when the notes or the other side say it is."""
    match = _DOT_THOUSANDS.search(quantity.text)
    if match is None or quantity.kind == "time":
        return quantity
    other_is_too = _DOT_THOUSANDS.search(other.text) is not None
    if not (dot_thousands or other_is_too or abs(other.value) >= 100):
        return quantity
    value = parse_number(match[0], dot_thousands=True)
    scale = quantity.value / parse_number(match[0]) if parse_number(match[0]) else 1.0
    return (
        quantity._replace(value=value * scale)
        if hasattr(quantity, "_replace")
        else Quantity(quantity.text, value * scale, quantity.unit, quantity.kind, quantity.seconds)
    )


_DOWN_VERBS = "fell|dropped|cut|reduced|decreased|lowered|shrank|shrunk|went down|down|declined"
_IMPROVEMENT = re.compile(
    rf"\b(?P<verb>{_DOWN_VERBS}|improved|increased|rose|grew|climbed|went up|up|raised|lifted)"
    r"\s(?:(?P<by>by)\s)?(?:about\s|around\s|roughly\s|nearly\s|almost\s|over\s|more than\s)?"
    r"(?P<imp>\d{1,3}(?:[.,]\d{1,2})?\s?%|a (?:third|quarter|half|fifth)|half"
    r"|\d{1,3}(?:,\d{3}){0,3}\s[a-z]{2,20})(?![\w.,]*\s(?:to|from)\s\d)"
    r"|(?P<imp2>\d{1,3}(?:[.,]\d{1,2})?\s?%)\s(?P<dir>more|fewer|less|higher|lower|faster)\s"
    r"(?P<label>[a-z][a-z -]{2,40}?)(?=\s(?:with|than|in|at|on|for|because|by|across)\b|[.,;)]|$)",
    re.IGNORECASE,
)
_DOWN = re.compile(rf"(?:{_DOWN_VERBS})$|fewer|less|lower|faster", re.IGNORECASE)


def _improvement(text: str, match: re.Match[str], floor: int) -> tuple[Metric | None, str | None]:
    """A change stated without a before value: "churn fell 38%", "22% more containers per day"."""
    if match["imp2"]:
        label, verb, amount, direction = (
            _tidy_label(match["label"]),
            "",
            match["imp2"],
            match["dir"],
        )
    else:
        amount, verb = match["imp"], match["verb"].lower()
        if not amount.rstrip().endswith("%") and not match["by"] and not amount[0].isalpha():
            return None, None  # "up 400 people" is a count, not a change; "up by 400" is one
        label, _ = clean_label(text[max(floor, match.start() - _WINDOW) : match.start()])
        direction = verb
    if not label:
        return None, None
    down = _DOWN.match(direction) is not None
    if direction in ("improved",):
        down = lower_is_better(label, "", "", 1.0, 1.0)
    metric = Metric(label=label, improvement=f"{amount} {'lower' if down else 'higher'}")
    metric.lower_is_better = lower_is_better(
        label, "", verb if down else "", 1.0, 0.0 if down else 2.0
    )
    if amount.rstrip().endswith("%"):
        value = float(amount.rstrip(" %").replace(",", "."))
        metric.change_percent = -value if down else value
    return metric, None


def build_metric(
    label: str, before: str, after: str, stated: str = "", *, header_unit: str = ""
) -> tuple[Metric | None, str | None]:
    """A Metric from a label and the before/after texts as written (e.g. a table row)."""
    before_match, after_match = QUANTITY.search(before), QUANTITY.search(after)
    if in_label := _LABEL_UNIT.search(label):
        header_unit = header_unit or in_label[1]
        label = label[: in_label.start()]  # "first response time (hours)": the unit of the row
    label = _tidy_label(label)
    if before_match is None or after_match is None:
        metric = Metric(label=label, before=before.strip(), after=after.strip(), improvement=stated)
        return metric, f"metric {label!r}: could not parse numbers from {before!r} / {after!r}"
    bq = Quantity.from_match(before_match)
    aq = Quantity.from_match(after_match)
    if header_unit and not bq.unit and not aq.unit:
        unit_q = QUANTITY.search("1 " + header_unit)
        if unit_q is not None:
            hq = Quantity.from_match(unit_q)
            bq = Quantity(before.strip(), bq.value, hq.unit, hq.kind, hq.seconds)
            aq = Quantity(after.strip(), aq.value, hq.unit, hq.kind, hq.seconds)
    bq = Quantity(before.strip(), bq.value, bq.unit, bq.kind, bq.seconds)
    aq = Quantity(after.strip(), aq.value, aq.unit, aq.kind, aq.seconds)
    return _metric(label, bq, aq, stated.strip(), "")


def _metric(
    label: str, before: Quantity, after: Quantity, stated: str, verb: str
) -> tuple[Metric | None, str | None]:
    if not label:
        return None, f"found {before.text} -> {after.text} but no label for it; skipped"
    metric = Metric(label=label, before=before.text, after=after.text)
    reconciled = reconcile(before, after)
    if reconciled is None:
        metric.lower_is_better = lower_is_better(label, "", verb, before.value, after.value)
        metric.improvement = stated
        return metric, f"metric {label!r}: units differ ({before.unit} vs {after.unit})"
    before_value, after_value, unit, kind = reconciled
    metric.before_value = round(before_value, 6)
    metric.after_value = round(after_value, 6)
    metric.unit = unit
    change = change_percent(before_value, after_value)
    if change is not None and not _in_points(label, before_value, after_value):
        metric.change_percent = change
    metric.lower_is_better = lower_is_better(label, kind, verb, before_value, after_value)
    metric.improvement = stated or describe_change(metric, kind)
    return metric, None


def clean_label(window: str) -> tuple[str, str]:
    """The metric name at the end of ``window`` and the verb that introduced the numbers.

    When the last clause names nothing ("..., was cut", "..., which had averaged"), the clause
    before it is tried: "Prescription turnaround, counter to bag, was cut from ..."."""
    text = clean_markup(window)
    for _ in range(3):
        clause = _last_clause(text)
        label, verb = _label_of(clause)
        relative = clause.strip().split(" ", 1)[0].lower() in _RELATIVES
        if label and not relative:
            return label, verb
        text = text[: len(text) - len(clause)].rstrip(" ,;")
        if not text:
            break
    return "", ""


_RELATIVES = frozenset("which that who whose where".split())
_CONJUNCTIONS = frozenset("while whereas but because although though since so".split())
_DASH = re.compile(r"\s[—–-]\s")


def _label_of(clause: str) -> tuple[str, str]:
    clause = clause.strip().rstrip(":=|—–-").strip()
    if ":" in clause:
        head, _, tail = clause.rpartition(":")
        clause = tail.strip() or head.strip()
    clause = _DASH.split(clause)[-1]
    words = _LIST_MARKER.sub("", clause).split()
    if not words:
        return "", ""
    for index in range(len(words) - 2, 0, -1):
        if words[index].lower() in _CONJUNCTIONS:
            words = words[index + 1 :]
            break
    verb = ""
    for index in range(len(words) - 1, -1, -1):
        if words[index].lower() in _VERBS:
            verb = words[index].lower()
            after_verb = words[index + 1 :]
            if verb in _TAKES and index > 0:
                # "Ordering took each store 6 hours": the measure is how long ordering takes
                words = [*words[:index], "time"]
            else:
                words = after_verb if after_verb else words[:index]
            break
    while words and words[-1].lower() in _TRAILING_FILLERS:
        words.pop()
    words = _LABEL_TAIL.sub("", " ".join(words)).split()
    while words and words[0].lower() in _LEADING_FILLERS:
        words.pop(0)
    return _tidy_label(" ".join(words[-8:]).strip(" ,;:—–-")), verb


def _tidy_label(label: str) -> str:
    words = clean_markup(label).strip(" :").split()
    if words and words[0].lower().rstrip(".") == "avg":
        words[0] = "Average"
    label = " ".join(words)
    return label[:1].upper() + label[1:]


def _last_clause(text: str) -> str:
    depth = 0
    cut = 0
    for match in _CLAUSE_MARK.finditer(text):
        char = match[0]
        if char == "(":
            depth += 1
        elif char == ")":
            depth = max(0, depth - 1)
        elif depth == 0 and (char in ";!?" or text[match.end() : match.end() + 1] in ("", " ")):
            cut = match.end()  # "." and "," end a clause only before a space or the end
    return text[cut:]


def _looks_like_years(before: Quantity, after: Quantity) -> bool:
    return all(q.value.is_integer() and 1900 <= q.value <= 2100 for q in (before, after))


def lower_is_better(label: str, kind: str, verb: str, before: float, after: float) -> bool:
    """Whether a smaller number is the better outcome, judged from the label, unit and verb."""
    low = label.lower()
    if _HIGHER_FIRST.search(low):
        return False
    if _LOWER.search(low):
        return True
    if _HIGHER.search(low):
        return False
    if kind == "time":
        return True
    if verb:
        return verb in _LOWER_VERBS
    return after < before


_NET_SCORE = keywords(r"nps|enps|net promoter(?: score)?")


def _in_points(label: str, before: float, after: float) -> bool:
    """Whether the change is a difference, not a percentage: a relative change of a value that
    crosses or sits below zero ("NPS -12 -> +18" is not "250% lower"), or of a net score, whose
    zero is not a zero amount."""
    return before < 0 or after < 0 or _NET_SCORE.search(label.lower()) is not None


def describe_change(metric: Metric, kind: str) -> str:
    """How a person would state the change: "67% faster", "18% higher", "+15 pts", "2.8x"."""
    if metric.HasField("before_value") and (
        metric.unit == "%" or _in_points(metric.label, metric.before_value, metric.after_value)
    ):
        points = metric.after_value - metric.before_value
        sign = "+" if points > 0 else "-" if points < 0 else "±"
        unit = "pts" if metric.unit in ("", "%") else metric.unit
        return f"{sign}{format_number(abs(points))} {unit}"
    if not metric.HasField("change_percent"):
        return ""
    change = metric.change_percent
    if change >= 100 and metric.before_value > 0:
        return f"{format_number(metric.after_value / metric.before_value)}x higher"
    if change < 0:
        word = "faster" if kind == "time" and metric.lower_is_better else "lower"
    elif change > 0:
        word = "slower" if kind == "time" and metric.lower_is_better else "higher"
    else:
        return "no change"
    return f"{format_number(abs(change))}% {word}"


_BEFORE_COL = re.compile(
    r"\b(?:before|baseline|pre|old|was|previous|prior|start|then|vorher|antes|avant)\b"
)
_AFTER_COL = re.compile(
    r"\b(?:after|now|post|current|new|result|today|end|nachher|después|despues|après)\b"
)
_CHANGE_COL = re.compile(r"\b(?:change|improvement|delta|impact|diff\w*|gain|δ|lift|reduction)\b")
_HEADER_UNIT = re.compile(r"\(([^)]{1,20})\)")
_LABEL_UNIT = re.compile(r"\s?\(([a-z%$€£/ ]{1,12})\)$", re.IGNORECASE)


def _table_rows(table: tuple[str, ...]) -> list[tuple[str, str, str, str, str]]:
    rows = [_cells(line) for line in table]
    rows = [row for row in rows if not all(re.fullmatch(r":?-{2,}:?", c) for c in row if c)]
    return _rows_of(rows)


def _rows_of(rows: list[list[str]]) -> list[tuple[str, str, str, str, str]]:
    """(label, before, after, change, unit) of each row under a header with before/after columns."""
    if len(rows) < 2:
        return []
    header = [cell.lower() for cell in rows[0]]
    columns: dict[str, int] = {}
    for index, cell in enumerate(header):
        for name, pattern in (
            ("change", _CHANGE_COL),
            ("before", _BEFORE_COL),
            ("after", _AFTER_COL),
        ):
            if name not in columns and pattern.search(cell):
                columns[name] = index
                break
    if "before" not in columns or "after" not in columns:
        return []
    label_col = next((i for i in range(len(header)) if i not in columns.values()), None)
    unit_match = _HEADER_UNIT.search(rows[0][columns["before"]])
    header_unit = unit_match.group(1) if unit_match else ""
    found = []
    for row in rows[1:]:
        label = _cell(row, label_col)
        found.append(
            (
                label,
                _cell(row, columns["before"]),
                _cell(row, columns["after"]),
                _cell(row, columns.get("change")),
                header_unit,
            )
        )
    return found


def _cell(row: list[str], index: int | None) -> str:
    return row[index] if index is not None and index < len(row) else ""


def _cells(line: str) -> list[str]:
    return [clean_markup(cell).strip() for cell in line.strip().strip("|").split("|")]
