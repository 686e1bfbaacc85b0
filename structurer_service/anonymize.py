"""Anonymous case studies: the client's name, its variants and people's names out, descriptors in.

``find_names(notes)`` reads the names the notes give: the client (from a "Client:" line or the
prose, as the local extractor finds it), its variants (shorter forms, an acronym, its e-mail or
web domain) and people (quote attributions, participant lists, speakers, signatures, "Name
(Role)", first names the first-name list knows). ``Names.apply`` rewrites a case study with a
descriptor in their place ("a 12-clinic healthcare network", "their VP Operations");
``Names.leaks`` says which fields still hold one. Deterministic: the same notes, the same result.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

from casecraft.v1 import case_study_pb2
from structurer_service import extract

_WORD = r"[A-ZÀ-Ý][a-zà-ÿ]+(?:['’-][A-Z][a-zà-ÿ]+)?"
_PERSON = re.compile(rf"\b(?:[A-Z]\.\s?{_WORD}|{_WORD}(?:\s{_WORD}){{0,2}})")
_LIST_LINE = re.compile(
    r"(?im)^[\s>*_#-]{0,6}(?:attendees|participants|present|people|from|to|cc|with|"
    r"interviewees?|stakeholders|contacts?|team|sponsor)\s?:(?P<v>[^\n]+)"
)
_SPEAKER = re.compile(
    rf"(?m)^[\s>*_-]{{0,4}}(?:\[[^\]\n]{{1,20}}\]\s?)?(?P<name>{_WORD}(?:\s{_WORD}){{1,2}})\s?:"
)
_SIGN_OFF = re.compile(
    rf"(?im)^\s*(?:best|thanks|thank you|regards|best regards|kind regards|cheers|sincerely|"
    rf"warmly|all the best)[,!.]?\s*\n\s*(?:--\s*)?(?P<name>{_WORD}(?:\s{_WORD}){{0,2}})"
)
_WITH_ROLE = re.compile(
    rf"(?P<name>(?:[A-Z]\.\s?)?{_WORD}(?:\s{_WORD}){{0,2}})\s?(?:\((?P<r1>[^)\n]{{2,60}})\)|,\s"
    r"(?P<r2>(?:[A-Z][\w&/.-]*\s?){1,5}(?:of\s[A-Z][\w&/.-]*(?:\s[A-Z][\w&/.-]*)?)?))"
)
# What follows a lone first name when it is a person: "Rosa's team", "Dana said".
_ACTS = re.compile(
    r"(?:['’]s\b|\s(?:said|says|told|noted|asked|wants|wrote|explained|added|will|to\s(?:send|draft|"
    r"pull|share|review|follow)))"
)
# Each starts only where a token starts: scanning on from every character is quadratic.
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@(?P<domain>[\w-]+)(?:\.[\w-]+)+")
_URL = re.compile(
    r"(?<![\w.-])(?:https?://)?(?:www\.)?(?P<domain>[\w-]+)\.(?:com|org|net|io|co|health)\b\S*"
)
_PUBLIC_MAIL = frozenset("gmail outlook hotmail yahoo icloud proton protonmail live aol".split())
_ROLE_WORDS = re.compile(
    r"\b(?:vp|svp|evp|head|director|manager|chief|officer|lead|ceo|cfo|coo|cto|cio|cno|cmo|"
    r"president|founder|owner|partner|engineer|analyst|nurse|supervisor|coordinator|"
    r"controller|principal|dean|administrator|architect|specialist)\b",
    re.IGNORECASE,
)
# Capitalised words that are first names in the list but rarely people in notes.
_NOT_PEOPLE = frozenset(
    """Will May June July April August March Mark Bill Grace Hope Faith Chase Rose Joy Summer
    Autumn Sunny Art Pat Sue Don Guy Ray Rich Dawn Max Page Lane Case Code Epic Sage Cash Star
    Sky Brook Dale Glen Drew Wade Miles Hunter Carter Parker Taylor Jordan Morgan Paris Sydney
    Victoria Florence Austin Houston Dallas Phoenix Chelsea Ashley Kelly Harper Baker Cooper
    Price Young King Long Reed Gray Green White Black Brown Stone Ford Banks Major Noble
    Line Monday Tuesday Wednesday Thursday Friday Saturday Sunday Client Team Best Thanks""".split()
)
_STOP = frozenset(
    """The A An We Our Us It They This That These Those In On At By For From To Of And Or But
    Client Customer Company Results Challenge Solution Approach Problem Timeline Phase Week
    Weeks Notes Summary Sponsor Context Background Next Open Items""".split()
)
_GENERIC_FIRST = frozenset(
    """The First National United American General Global International New North South East West
    Central Royal City State Great Metro Pacific Atlantic Premier Advanced Best Smart Blue Green
    Red Old Saint St Mount Lake River Valley Bay Golden Silver Star Sun""".split()
)
_LEGAL = re.compile(
    r"[\s,]+(?:inc|inc\.|ltd|ltd\.|llc|plc|gmbh|ag|sa|corp|corp\.|co\.|group|holdings)$", re.I
)
_SIZE = re.compile(
    r"\b(?P<n>\d{1,3}(?:,\d{3})*|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|"
    r"fifteen|twenty)[\s-](?:\w+\s){0,2}?(?P<unit>clinics|hospitals|stores|branches|sites|plants|"
    r"warehouses|depots|locations|offices|restaurants|schools|factories|facilities|hotels|"
    r"campuses|countries|markets|terminals|trucks|beds)\b",
    re.IGNORECASE,
)
_NOUNS = {
    "Logistics": "logistics company",
    "Healthcare": "healthcare provider",
    "Retail & e-commerce": "retailer",
    "Financial services": "financial services company",
    "Insurance": "insurer",
    "Manufacturing": "manufacturer",
    "Software & SaaS": "software company",
    "Energy & utilities": "utility",
    "Education": "education provider",
    "Hospitality": "hospitality group",
}
_BY_SIZE = {"clinic": "healthcare network", "hospital": "hospital system"}
_DETERMINER = re.compile(r"\b(?:the|a|an|their|our|its|this|that)\s+$", re.IGNORECASE)
_SENTENCE_START = re.compile(r"(?:^|[.!?:]\s+|\n\s*)$")


@dataclass(frozen=True)
class Person:
    name: str
    role: str = ""

    @property
    def descriptor(self) -> str:
        return f"their {self.role}" if self.role else "a team member"


@dataclass(frozen=True)
class Names:
    """The names one set of notes gives, and what replaces them."""

    client: str = ""
    descriptor: str = "the client"
    noun: str = "client"
    client_variants: tuple[str, ...] = ()
    domains: tuple[str, ...] = ()
    people: tuple[Person, ...] = ()
    _people_variants: dict[str, Person] = field(default_factory=dict, compare=False)

    @property
    def empty(self) -> bool:
        return not (self.client_variants or self.people or self.domains)

    @functools.cached_property
    def _pattern(self) -> re.Pattern[str] | None:
        words = sorted({*self.client_variants, *self._people_variants}, key=len, reverse=True)
        if not words:
            return None
        alternatives = "|".join(re.escape(w) for w in words)
        return re.compile(rf"(?<![\w@.])(?:{alternatives})(?:['’]s)?(?![\w])")

    @functools.cached_property
    def _domain_pattern(self) -> re.Pattern[str] | None:
        if not self.domains:
            return None
        return re.compile("|".join(re.escape(d) for d in self.domains), re.IGNORECASE)

    def found_in(self, text: str) -> bool:
        """Whether ``text`` holds a name, a variant, an e-mail address or the client's domain."""
        if _EMAIL.search(text):
            return True
        if self._domain_pattern is not None and self._domain_pattern.search(text):
            return True
        return self._pattern is not None and self._pattern.search(text) is not None

    def scrub(self, text: str) -> str:
        """``text`` with every name replaced by its descriptor."""
        text = _EMAIL.sub("(address withheld)", text)
        domain = self._domain_pattern
        if domain is not None:
            text = _URL.sub(
                lambda m: "(link withheld)" if domain.search(m.group(0)) else m.group(0), text
            )
            text = domain.sub("(withheld)", text)
        if self._pattern is None:
            return text
        mentioned = False

        def replace(match: re.Match[str]) -> str:
            nonlocal mentioned
            found = match.group(0)
            possessive = found.endswith(("'s", "’s")) and found[:-2] in self._all
            base = found[:-2] if possessive else found
            before = text[: match.start()]
            person = self._people_variants.get(base)
            if person is not None:
                words = person.descriptor
            elif _DETERMINER.search(before):
                words = self.noun
            else:
                words = "the " + self.noun if mentioned else self.descriptor
                mentioned = True
            if _SENTENCE_START.search(before):
                words = words[0].upper() + words[1:]
            return words + ("’s" if possessive and "’" in found else "'s" if possessive else "")

        return self._pattern.sub(replace, text)

    @functools.cached_property
    def _all(self) -> frozenset[str]:
        return frozenset({*self.client_variants, *self._people_variants})

    def apply(self, case_study: case_study_pb2.CaseStudy) -> None:
        """Replace every name in ``case_study``, in place; the client becomes its descriptor."""
        if case_study.HasField("quote") and self.found_in(case_study.quote.author):
            speaker = self._people_variants.get(case_study.quote.author.strip())
            role = (speaker.role if speaker else "") or case_study.quote.role
            case_study.quote.author = _capital(role) if role else "A client representative"
            case_study.quote.role = ""
        for message, name, value in _strings(case_study):
            if name == "client_name" and value and self.found_in(value):
                setattr(message, name, _capital(self.descriptor))
            elif self.found_in(value):
                setattr(message, name, self.scrub(value))

    def leaks(self, case_study: case_study_pb2.CaseStudy) -> list[str]:
        """The fields of ``case_study`` that still hold a name (field paths, never the name)."""
        return [path for path, text in _paths(case_study) if self.found_in(text)]


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _strings(message: Message) -> Iterator[tuple[Message, str, str]]:
    for fd, value in message.ListFields():
        if fd.type == FieldDescriptor.TYPE_MESSAGE:
            for item in value if fd.is_repeated else [value]:
                yield from _strings(item)
        elif fd.type == FieldDescriptor.TYPE_STRING and not fd.is_repeated:
            yield message, fd.name, value


def _paths(message: Message, prefix: str = "") -> Iterator[tuple[str, str]]:
    for fd, value in message.ListFields():
        path = prefix + fd.name
        if fd.type == FieldDescriptor.TYPE_MESSAGE:
            items = list(value) if fd.is_repeated else [value]
            for index, item in enumerate(items):
                yield from _paths(item, f"{path}[{index}]." if fd.is_repeated else f"{path}.")
        elif fd.type == FieldDescriptor.TYPE_STRING and not fd.is_repeated:
            yield path, value


@functools.cache
def _first_names() -> object:
    import gender_guesser.detector

    return gender_guesser.detector.Detector(case_sensitive=False)


def _is_first_name(word: str) -> bool:
    if word in _NOT_PEOPLE or word in _STOP or len(word) < 3:
        return False
    return _first_names().get_gender(word) in {"male", "female", "mostly_male", "mostly_female"}  # type: ignore[attr-defined]


def find_names(notes: str) -> Names:
    """The names in ``notes`` and the descriptors that replace them."""
    found = extract.extract(notes).case_study
    client = found.client_name.strip()
    variants = _client_variants(client, notes)
    people: dict[str, Person] = {}

    def add(name: str, role: str = "") -> None:
        name = " ".join(name.split()).strip(".,;: ")
        if not name or name in variants or any(name in v for v in variants):
            return
        if name.split()[0] in _STOP or _ROLE_WORDS.search(name):
            return
        role = _role(role)
        known = people.get(name)
        people[name] = Person(name, role or (known.role if known else ""))

    if found.HasField("quote") and found.quote.author:
        add(found.quote.author, found.quote.role)
    for line in _LIST_LINE.finditer(notes):
        for item in re.split(r"[,;]|\band\b", line["v"]):
            match = _PERSON.search(item)
            if match and (match.group(0).count(" ") or "." in match.group(0)):
                said = re.search(r"\(([^)]+)\)", item)
                add(match.group(0), said.group(1) if said else "")
    for match in _SPEAKER.finditer(notes):
        if _is_first_name(match["name"].split()[0]):
            add(match["name"])
    for match in _SIGN_OFF.finditer(notes):
        add(match["name"])
    for match in _WITH_ROLE.finditer(notes):
        role = match["r1"] or match["r2"] or ""
        first = match["name"].split()[0]
        if _ROLE_WORDS.search(role) and (_is_first_name(first) or "." in first):
            add(match["name"], role)
    for match in _PERSON.finditer(notes):
        words = match.group(0).split()
        if "." in words[0] and len(words) > 1:
            add(match.group(0))  # "J. Park"
        elif len(words) > 1 and _is_first_name(words[0]) and words[1] not in _STOP:
            add(match.group(0))  # "Dana Ruiz"
        elif len(words) == 1 and _is_first_name(words[0]) and _ACTS.match(notes, match.end()):
            add(match.group(0))  # "Rosa's team", "Dana said"
    people_variants = _people_variants(list(people.values()), variants)
    descriptor, noun = _descriptor(found.industry, notes)
    domains = tuple(
        sorted(
            {
                m["domain"].lower()
                for m in _EMAIL.finditer(notes)
                if m["domain"].lower() not in _PUBLIC_MAIL
            }
        )
    )
    return Names(
        client=client,
        descriptor=descriptor,
        noun=noun,
        client_variants=variants,
        domains=domains,
        people=tuple(people.values()),
        _people_variants=people_variants,
    )


def _starts_sentence(text: str, at: int) -> bool:
    return bool(_SENTENCE_START.search(text[max(0, at - 4) : at])) or at == 0


def _role(role: str) -> str:
    role = " ".join(role.split()).strip(" .,;:-–—")
    if not _ROLE_WORDS.search(role):
        return ""
    return re.split(r"\s(?:at|@)\s", role, maxsplit=1)[0]


def _client_variants(client: str, notes: str) -> tuple[str, ...]:
    if not client:
        return ()
    variants = {client}
    bare = _LEGAL.sub("", client).strip()
    if bare:
        variants.add(bare)
    words = bare.split()
    for length in range(1, len(words)):
        prefix = " ".join(words[:length])
        if length == 1 and (words[0] in _GENERIC_FIRST or words[0] in _STOP or len(words[0]) < 4):
            continue
        if not words[length - 1][:1].isupper():
            continue  # "Lumen &" is no name
        variants.add(prefix)
    capitals = [w for w in words if w[:1].isupper()]
    if len(capitals) >= 2:
        acronym = "".join(w[0] for w in capitals)
        if re.search(rf"\b{acronym}\b", notes):
            variants.add(acronym)
    squashed = "".join(words).lower()
    for domain in {m["domain"].lower() for m in _EMAIL.finditer(notes)}:
        if domain in _PUBLIC_MAIL:
            continue
        if words and (words[0].lower() in domain or domain in squashed):
            variants.add(domain)
    return tuple(sorted(variants, key=len, reverse=True))


def _people_variants(people: list[Person], client: tuple[str, ...]) -> dict[str, Person]:
    """Each person's full name, and their first and last names alone, mapped to them."""
    variants: dict[str, Person] = {}
    for person in people:
        variants[person.name] = person
    for person in people:
        for word in person.name.replace(".", ". ").split():
            word = word.strip()
            if len(word) >= 3 and word not in _STOP and word not in variants:
                if not any(word in v for v in client):
                    variants.setdefault(word, person)
    return variants


def _descriptor(industry: str, notes: str) -> tuple[str, str]:
    """("a 12-clinic healthcare network", "healthcare network") from what the notes say."""
    noun = _NOUNS.get(industry, f"{industry.lower()} organisation" if industry else "organisation")
    size = _SIZE.search(notes)
    if size is None:
        return _article(noun) + " " + noun, noun
    unit = size["unit"].lower().rstrip("s")
    unit = "campus" if unit == "campuse" else unit
    noun = _BY_SIZE.get(unit, noun)
    phrase = f"{size['n'].lower()}-{unit} {noun}"
    return _article(phrase) + " " + phrase, noun


def _article(phrase: str) -> str:
    first = phrase.split("-")[0].split()[0].lower()
    vowel = first[0] in "aeiou" or first in {"8", "11", "18", "eight", "eleven", "eighteen"}
    vowel = vowel or (first.isdigit() and first.startswith("8"))
    return "an" if vowel else "a"
