"""The timing report from span records: tree order, shares, the critical path, the waterfall."""

from __future__ import annotations

from casecraft.v1 import case_study_pb2
from casecraft.waterfall import waterfall
from gateway.schemas import TimingsOut
from gateway.timings import report as build

MS = 1_000_000


def record(
    span_id: str, parent: str, start_ms: float, end_ms: float, name: str = "", **attributes: str
) -> case_study_pb2.SpanRecord:
    return case_study_pb2.SpanRecord(
        name=name or span_id,
        service="svc",
        trace_id="ab" * 16,
        span_id=span_id,
        parent_span_id=parent,
        start_unix_nano=int(1_000 * MS + start_ms * MS),
        end_unix_nano=int(1_000 * MS + end_ms * MS),
        attributes=attributes,
    )


def report(*args: object) -> TimingsOut:
    """The report, held to the shape the OpenAPI document promises."""
    return TimingsOut.model_validate(build(*args))  # type: ignore[arg-type]


# The request (0-100) structures (5-90) and makes two images in one call (15-98): the hero (20-40)
# and the timeline (60-97), which ends after the LLM and so sets the end of the request.
RECORDS = [
    record("timeline", "images", 60, 97, name="image", **{"casecraft.component": "timeline"}),
    record("root", "", 0, 100, name="POST /v1/case-studies"),
    record("llm", "root", 5, 90),
    record("images", "root", 15, 98),
    record("hero", "images", 20, 40, name="image", **{"casecraft.component": "hero"}),
]


def test_steps_come_in_tree_order_with_offsets_and_shares() -> None:
    timings = report(RECORDS)
    assert timings.trace_id == "ab" * 16
    assert timings.total_ms == 100
    assert [(s.name, s.depth) for s in timings.steps] == [
        ("POST /v1/case-studies", 0),
        ("llm", 1),
        ("images", 1),
        ("image hero", 2),
        ("image timeline", 2),
    ]
    hero = timings.steps[3]
    assert (hero.start_ms, hero.duration_ms, hero.share) == (20, 20, 0.2)
    assert hero.parent_span_id == "images"


def test_the_critical_path_covers_the_total_through_the_steps_that_set_it() -> None:
    timings = report(RECORDS)
    path = [(s.span_id, s.start_ms, s.duration_ms) for s in timings.critical_path]
    # Walking back from the end: the child that ended last, inside it the same, and so on.
    assert path == [
        ("root", 0, 5),
        ("llm", 5, 10),
        ("images", 15, 5),
        ("hero", 20, 20),
        ("images", 40, 20),
        ("timeline", 60, 37),
        ("images", 97, 1),
        ("root", 98, 2),
    ]
    assert sum(s.duration_ms for s in timings.critical_path) == timings.total_ms
    critical = {s.span_id for s in timings.steps if s.critical}
    assert critical == {"root", "llm", "images", "hero", "timeline"}


def test_a_repeated_record_keeps_its_latest_end_and_orphans_hang_below_the_root() -> None:
    early = record("images", "root", 15, 50)
    orphan = record("cache", "elsewhere", 1, 2)
    timings = report([*RECORDS, early, orphan])
    by_id = {s.span_id: s for s in timings.steps}
    assert by_id["images"].duration_ms == 83
    assert by_id["cache"].depth == 1


def test_the_waterfall_draws_nested_bars_on_one_axis() -> None:
    drawn = waterfall(report(RECORDS).model_dump(), width=20)
    lines = drawn.splitlines()
    assert "100.0 ms" in lines[0]
    assert lines[1].startswith("POST /v1/case-studies")
    assert lines[4].startswith("    image hero")
    llm_bar = lines[2].split("svc", 1)[1]
    assert "█" in llm_bar and "░" in llm_bar  # critical only until the images' call began
    assert "█" in lines[5] and "░" not in lines[5]
    assert waterfall({"total_ms": 0, "steps": []}) == "(no timings)"
