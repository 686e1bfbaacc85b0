"""Pathological notes: the extractor's work stays linear, and the event loop stays free meanwhile.

No test here measures time (the machines that run them are noisy). Work is counted where the code
offers a seam (the characters that slicing copies), regexes are checked for the shape that keeps
their matching bounded, and the event loop is shown answering while an extraction is held open.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import threading
from collections.abc import AsyncIterator
from typing import SupportsIndex

import grpc
import pytest
from google.protobuf.json_format import MessageToDict
from grpc_health.v1 import health_pb2, health_pb2_grpc

from casecraft.casestudy_schema import validate
from casecraft.limits import MAX_NOTES_BYTES
from casecraft.v1 import structurer_pb2, structurer_pb2_grpc
from structurer_service.extract import client, extract, industry
from structurer_service.extract.before_after import MAX_WARNINGS
from structurer_service.extract.document import parse_notes, split_sentences
from structurer_service.extract.keywords import keywords
from structurer_service.extract.numbers import QUANTITY, quantity_pattern
from structurer_service.providers import Draft, Structured
from structurer_service.providers.local import LocalStructurer
from tests.conftest import running_structurer


def fill(unit: str, *, head: str = "") -> str:
    """``head``, then ``unit`` repeated to just under the notes limit."""
    room = MAX_NOTES_BYTES - len(head.encode("utf-8"))
    return head + unit * (room // len(unit.encode("utf-8")))


ADVERSARIAL = {
    "one letter per line": "a\n" * 99_000,
    "one line without newlines": fill("notes without an end "),
    "one word": "a" * MAX_NOTES_BYTES,
    "digits": "1" * MAX_NOTES_BYTES,
    "numbers apart": fill("1 "),
    "arrows": fill("1 min -> 2 min\n"),
    "arrows on one line": fill("1 min -> 2 min "),
    "table rows": fill("| a | b |\n"),
    "before and after table": fill("| a | 1 | 2 |\n", head="| Metric | Before | After |\n"),
    "list items": fill("- item\n"),
    "phases": fill("Phase 1: x\n"),
    "headings": fill("# heading\n"),
    "bold headings": fill("**Bold:** x\n"),
    "punctuation": fill(".,;:!?"),
    "spaces": "a" + " " * (MAX_NOTES_BYTES - 2) + "b",
    "quote marks": fill("“”"),
    "abbreviations": fill("Dr. "),
    "capitals": "A" * MAX_NOTES_BYTES,
}
HOLD_LIMIT_S = 10.0  # only a guard: a held extraction is let go as soon as the test has its answer


@pytest.mark.parametrize("notes", ADVERSARIAL.values(), ids=ADVERSARIAL.keys())
async def test_adversarial_notes_stream_a_valid_case_study(notes: str) -> None:
    assert len(notes.encode("utf-8")) <= MAX_NOTES_BYTES
    items = [item async for item in LocalStructurer().structure(notes, fast=False)]
    assert [type(item) for item in items] == [Draft, Draft, Draft, Structured]
    final = items[-1]
    assert isinstance(final, Structured)
    as_json = MessageToDict(
        final.case_study,
        preserving_proto_field_name=True,
        always_print_fields_with_no_presence=True,
    )
    study, errors = validate(as_json)
    assert errors == [] and study == final.case_study


class CountingText(str):
    """Text that counts the characters its slices copy."""

    copied = 0

    def __getitem__(self, key: SupportsIndex | slice) -> str:
        piece = super().__getitem__(key)
        self.copied += len(piece)
        return piece


def test_a_run_of_abbreviations_is_not_copied_again_for_every_one_of_them() -> None:
    # Each "Dr." ends no sentence, so the sentence under way grows to the whole paragraph. Looking
    # for the abbreviation used to copy that whole sentence at every one: quadratic in its length.
    text = CountingText("Dr. " * 5_000 + "Done. Next.")
    assert split_sentences(text) == [("Dr. " * 5_000 + "Done.").strip(), "Next."]
    assert text.copied <= 4 * len(text)


def test_a_unit_word_is_looked_for_only_where_a_letter_follows() -> None:
    # Ruling out "to", "from" ... (over a hundred words, matched ignoring case) used to run after
    # every number, twice when a space followed (once with it, once without): on "1 1 1 ..." that
    # was hundreds of tries per number. A letter must now follow before any of it runs, and the
    # words are grouped by their first letter so one branch per letter is tried.
    pattern = quantity_pattern()
    assert "(?=[a-z])(?!(?:" in pattern
    stop_words = pattern.split("(?!(?:", 1)[1].split(r")\b)", 1)[0]
    assert len(_top_level_branches(stop_words)) <= 26
    assert [m["num"] for m in QUANTITY.finditer("1 1 12 to 3 from 4")] == ["1", "1", "12", "3", "4"]
    assert [m["unit"] for m in QUANTITY.finditer("5 days to 6 hours")] == ["days", "hours"]


def test_a_client_name_word_never_gives_characters_back() -> None:
    # "ACMEACMEACME..." made the client-name pattern try every shorter cut of a 30-letter word at
    # every position, though a name word must be followed by a space. Possessive runs do not.
    assert re.search(r"\{0,30\}(?!\+)", client._NAME.pattern) is None
    notes = "We worked with Harbor Freightways on dispatch. " + "A" * 5_000
    assert client.find_client(parse_notes(notes)).name == "Harbor Freightways"


def test_industry_keywords_scan_case_folded_notes_without_ignorecase() -> None:
    # Ignoring case made the engine try every keyword at every word boundary of the notes. The
    # fold still finds what ignoring case found: both hits are needed here ("ſ" is a long s).
    for _, pattern in industry._INDUSTRIES:
        assert not pattern.flags & re.IGNORECASE
    notes = "LOGISTICS review. Late ſhipments, and Truckers; ﬂeet."
    assert industry.find_industry(parse_notes(notes)) == "Logistics"


@pytest.mark.parametrize(
    "text",
    [
        "health care; healthcare, HEALTH CARE",
        "trucks trucking truck-ing xtrucks trucks_ 9trucks trucks9",
        "e-commerce ecommerce e--commerce",
        "presses press pressed\nplants plant-floor",
        "",
    ],
)
def test_keywords_match_what_word_bounded_alternatives_match(text: str) -> None:
    words = r"health\s?care|trucks?|trucking|e-?commerce|press(?:es)?|plants?|dispatch\w*"
    plain = re.compile(rf"\b(?:{words})\b")
    assert [m.span() for m in keywords(words).finditer(text)] == [
        m.span() for m in plain.finditer(text)
    ]


def test_keywords_refuse_an_alternative_that_does_not_open_with_a_letter() -> None:
    with pytest.raises(ValueError, match="plain lowercase letter"):
        keywords("ok|s?kus")


class HeldNotes(str):
    """Notes that hold whoever reads them first until the test lets them go: while they are held,
    an extraction of them is provably under way."""

    reading: threading.Event
    go: threading.Event

    def __new__(cls, text: str, reading: threading.Event, go: threading.Event) -> HeldNotes:
        notes = super().__new__(cls, text)
        notes.reading, notes.go = reading, go
        return notes

    def __getitem__(self, key: SupportsIndex | slice) -> str:
        self.reading.set()
        if not self.go.wait(HOLD_LIMIT_S):
            raise TimeoutError("the notes were never let go: the event loop was blocked")
        return super().__getitem__(key)


class HeldLocal(LocalStructurer):
    """The local provider, reading the notes it is given as ``HeldNotes``."""

    def __init__(self) -> None:
        super().__init__()
        self.reading = threading.Event()
        self.go = threading.Event()

    def structure(self, notes: str, *, fast: bool) -> AsyncIterator[Draft | Structured]:
        return super().structure(HeldNotes(notes, self.reading, self.go), fast=fast)


async def first_of(items: AsyncIterator[Draft | Structured]) -> Draft | Structured:
    return await anext(items)


async def test_other_coroutines_run_while_the_local_provider_extracts() -> None:
    provider = HeldLocal()
    notes = ADVERSARIAL["one letter per line"]
    async with contextlib.aclosing(provider.structure(notes, fast=False)) as items:
        first = asyncio.create_task(first_of(items))
        assert await asyncio.to_thread(provider.reading.wait, HOLD_LIMIT_S)
        other = asyncio.get_running_loop().create_future()
        asyncio.get_running_loop().call_soon(other.set_result, "answered")
        assert await other == "answered"
        assert not first.done()
        provider.go.set()
        assert isinstance(await first, Draft)


async def test_a_cancelled_extraction_stops_waiting_at_once() -> None:
    provider = HeldLocal()
    first = asyncio.create_task(first_of(provider.structure("Client: Acme\n", fast=False)))
    assert await asyncio.to_thread(provider.reading.wait, HOLD_LIMIT_S)
    first.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first
    provider.go.set()  # the step under way finishes in its thread; nobody waits for it


async def test_the_server_answers_health_checks_while_the_local_provider_extracts() -> None:
    provider = HeldLocal()
    request = structurer_pb2.StructureRequest(notes=ADVERSARIAL["one letter per line"])
    async with running_structurer(provider) as server:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
            stream = structurer_pb2_grpc.StructurerStub(channel).StructureStream(request)
            first = asyncio.ensure_future(stream.read())
            assert await asyncio.to_thread(provider.reading.wait, HOLD_LIMIT_S)
            health = await health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest()
            )
            answered_while_held = not first.done()
            provider.go.set()
            events = [await first]
            while (event := await stream.read()) is not grpc.aio.EOF:
                events.append(event)
    assert health.status == health_pb2.HealthCheckResponse.SERVING
    assert answered_while_held
    final = events[-1]
    assert isinstance(final, structurer_pb2.StructureEvent) and final.HasField("final")
    assert final.final.usage.provider == "local"


def _top_level_branches(alternation: str) -> list[str]:
    branches, depth, start = [], 0, 0
    for index, char in enumerate(alternation):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "|" and depth == 0:
            branches.append(alternation[start:index])
            start = index + 1
    return [*branches, alternation[start:]]


def test_a_figure_skipped_many_times_is_warned_about_once_and_the_list_is_bounded() -> None:
    repeated = extract("1 min -> 2 min\n" * 2_000).warnings
    assert repeated.count("found 1 min -> 2 min but no label for it; skipped") == 1

    varied = extract("".join(f"{n} min -> {n + 1} min\n" for n in range(500))).warnings
    skipped = [w for w in varied if w.startswith("found ")]
    assert len(skipped) == MAX_WARNINGS
    assert f"and {500 - MAX_WARNINGS:,} more figures that were skipped" in varied
