"""Quantities as notes write them ("94 min", "$1.2M", "18%", "2,400 orders/day") and their units."""

from __future__ import annotations

import functools
import itertools
import re
from dataclasses import dataclass

# Words that follow a number without being its unit ("from 40 to 12 last quarter").
_NOT_UNITS = frozenset(
    """a an and or to from in on at by for of with within across after before over under than the
    this that these those last next first while when which who is was were are be been as so but
    during since each every total overall only just then now vs versus compared between through
    into onto because due thanks via about around roughly approximately nearly almost also still
    yet it its their our we they he she you i if per down up out faster slower lower higher fewer
    more less reduction increase improvement decrease drop gain lift better worse without despite
    until unless previously today yesterday currently earlier originally formerly instead rather
    compared having ago""".split()
)
# One branch per first letter ("a(?:nd|n|...)|b(?:y|ut|...)"): under IGNORECASE the engine cannot
# skip a branch by its first character, so a flat list of a hundred words costs a hundred tries.
_NOT_UNITS_ALT = "|".join(
    f"{first}(?:{'|'.join(sorted((word[1:] for word in words), key=len, reverse=True))})"
    for first, words in itertools.groupby(sorted(_NOT_UNITS), key=lambda word: word[0])
)


def quantity_pattern(prefix: str = "") -> str:
    """A bounded regex for one quantity; group names carry ``prefix`` so two can share a pattern.

    A unit word is looked for only where a letter follows: the lookahead that rules out words such
    as "to" or "from" is the expensive part, and digits, spaces and punctuation never need it.
    """
    p = prefix
    return (
        rf"(?<![\w.])(?P<{p}sign>[-+−](?=\d))?(?P<{p}cur>[$€£¥₹](?:\s(?=\d))?)?"
        rf"(?P<{p}num>\d{{1,3}}(?:[,.]\d{{3}}){{1,5}}(?:[.,]\d{{1,6}})?|\d{{1,15}}(?:[.,]\d{{1,6}})?)"
        rf"(?:(?P<{p}mult>bn|[kmb])(?![a-z])|\s?(?P<{p}multw>thousand|million|billion|mio)\b\.?)?"
        rf"(?:[\s-]?(?P<{p}unit>%|/\d{{1,3}}(?![\d.,])|/[a-z]{{1,12}}|per\s[a-z]{{1,15}}\b"
        rf"|(?=[a-z])(?!(?:{_NOT_UNITS_ALT})\b)(?:(?:business|working|calendar)\s)?"
        rf"[a-z][a-z-]{{0,24}}[²³]?(?:/[a-z]{{1,12}})?))?"
    )


QUANTITY = re.compile(quantity_pattern(), re.IGNORECASE)

_TIME_UNITS: dict[str, tuple[str, float]] = {}
for _name, _seconds, _spellings in (
    ("ms", 0.001, "ms msec msecs millisecond milliseconds"),
    ("sec", 1.0, "s sec secs second seconds"),
    ("min", 60.0, "m min mins minute minutes minuten"),
    ("hours", 3600.0, "h hr hrs hour hours stunden heures horas"),
    ("days", 86400.0, "d day days tage jours dias"),
    ("weeks", 604800.0, "wk wks week weeks wochen semaines semanas"),
    ("months", 2629800.0, "mo mos month months"),
    ("years", 31557600.0, "yr yrs year years"),
):
    for _spelling in _spellings.split():
        _TIME_UNITS[_spelling] = (_name, _seconds)


def time_unit(word: str) -> tuple[str, float] | None:
    """The unit a duration word names and its seconds: "hrs" -> ("hours", 3600.0), "Tage" ->
    ("days", 86400.0); None when ``word`` is not a duration."""
    return _TIME_UNITS.get(word.strip().lower())


_MULTIPLIERS = {"k": 1e3, "thousand": 1e3, "m": 1e6, "million": 1e6, "b": 1e9, "bn": 1e9}
_MULTIPLIERS["billion"] = 1e9
_MULTIPLIERS["mio"] = 1e6


def parse_number(digits: str, *, dot_thousands: bool = False) -> float:
    """A number as either locale writes it: "1,234.5", "1.234,5", "8,1", "0.9", "7.400".

    One separator followed by exactly three digits is a thousands separator ("2,300"), except a
    single dot ("1.900"), which is a decimal point unless ``dot_thousands`` says the notes write
    thousands that way; any other single separator is a decimal point.
    """
    if "," in digits and "." in digits:
        decimal = "," if digits.rfind(",") > digits.rfind(".") else "."
    elif digits.count(",") + digits.count(".") != 1:
        decimal = ""  # none, or several of one kind: thousands
    else:
        sep = "," if "," in digits else "."
        three = len(digits) - digits.index(sep) - 1 == 3 and not digits.startswith("0")
        decimal = sep if not three or (sep == "." and not dot_thousands) else ""
    if decimal:
        whole, _, fraction = digits.rpartition(decimal)
        return float(whole.replace(",", "").replace(".", "") + "." + fraction)
    return float(digits.replace(",", "").replace(".", ""))


@dataclass(frozen=True)
class Quantity:
    """One parsed quantity: the text as written, its value, and its unit."""

    text: str
    value: float
    unit: str = ""
    kind: str = ""  # "time", "money", "percent", "other" or "" when unitless
    seconds: float = 0.0  # seconds per unit, for time units

    @classmethod
    def from_match(cls, match: re.Match[str], prefix: str = "") -> Quantity:
        names = _group_names(prefix)
        sign, currency, number, mult_short, mult_word, unit = match.group(*names)
        start = match.start()
        end = max(match.end(name) for name in names[2:])  # an absent group ends at -1
        text = match.string[start:end].strip().rstrip("-")
        value = parse_number(number) * (-1.0 if sign and sign != "+" else 1.0)
        currency = (currency or "").strip()
        mult = mult_short or mult_word or ""
        raw_unit = (unit or "").rstrip("-")
        if mult == "m" and not currency and not raw_unit:
            raw_unit, mult = "min", ""  # "15m" without a currency is minutes
        value *= _MULTIPLIERS.get(mult.lower(), 1.0)
        if currency:
            suffix = _per_suffix(raw_unit)
            return cls(text, value, currency + suffix, "money")
        return cls(text, value, *_classify_unit(raw_unit))


@functools.cache
def _group_names(prefix: str) -> tuple[str, ...]:
    """The names of a quantity's groups for ``prefix``: currency, number, multipliers, unit."""
    return tuple(f"{prefix}{name}" for name in ("sign", "cur", "num", "mult", "multw", "unit"))


def _per_suffix(raw_unit: str) -> str:
    low = raw_unit.lower()
    if low.startswith("/"):
        return low
    if low.startswith("per "):
        return "/" + low[4:]
    return ""


def _classify_unit(raw_unit: str) -> tuple[str, str, float]:
    low = raw_unit.lower()
    if not low:
        return "", "", 0.0
    if low in ("%", "percent"):
        return "%", "percent", 0.0
    if low in ("pts", "pt", "pp", "points"):
        return "pts", "other", 0.0
    if low.startswith("per "):
        return "/" + low[4:], "other", 0.0
    duration = time_unit(low.split()[-1])
    if duration is not None:
        return duration[0], "time", duration[1]
    return raw_unit, "other", 0.0


def _same_unit(a: str, b: str) -> bool:
    return a.lower().rstrip("s") == b.lower().rstrip("s")


def reconcile(before: Quantity, after: Quantity) -> tuple[float, float, str, str] | None:
    """Express both quantities in one unit: (before, after, unit, kind), or None if incomparable.

    Time units convert to the smaller of the two ("5 days" -> "6 hours" becomes 120 -> 6 hours);
    a side written without a unit borrows the other side's ("2,400 -> 3,100 orders/day").
    """
    if before.kind == "time" and after.kind == "time" and before.unit != after.unit:
        unit = before if before.seconds < after.seconds else after
        scale_b, scale_a = before.seconds / unit.seconds, after.seconds / unit.seconds
        return before.value * scale_b, after.value * scale_a, unit.unit, "time"
    if not before.unit or not after.unit or _same_unit(before.unit, after.unit):
        source = after if after.unit else before
        return before.value, after.value, source.unit, source.kind
    return None


def change_percent(before: float, after: float) -> float | None:
    """Signed relative change in percent, or None when ``before`` is zero."""
    if before == 0:
        return None
    return round((after - before) / before * 100.0, 2)


def format_number(value: float) -> str:
    """A short human form: 67 -> "67", 2.8 -> "2.8", 0.25 -> "0.25"."""
    if abs(value) >= 10 or float(value).is_integer():
        return f"{value:.0f}"
    return f"{value:.2g}" if abs(value) < 1 else f"{value:.1f}".rstrip("0").rstrip(".")
