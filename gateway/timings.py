"""The timing report of one request, built from the spans every service recorded for it.

The spans form one tree (one trace across the three services). The report lists each step in tree
order with its start offset, duration and share of the total, and the critical path: walking back
from the root's end, the child that ended last before that point, inside it the same again, and
so on; the time no child covers belongs to the span itself. The segments of the critical path
cover the total exactly, so they say which steps set it.

The report is plain data, made once per answer: its shape is ``TimingsOut`` in gateway/schemas.py
(the OpenAPI document's), which the tests hold it to.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from casecraft.v1 import case_study_pb2

_RPC_PREFIX = "casecraft.v1."


def step_name(record: case_study_pb2.SpanRecord) -> str:
    """The span's name, with the image component it made; RPCs without the package prefix."""
    name = record.name.removeprefix("/").removeprefix(_RPC_PREFIX)
    component = record.attributes.get("casecraft.component")
    return f"{name} {component}" if component else name


class _Node:
    """One span of the tree, its record's fields read once (each read of a protobuf field makes
    a new Python object, and the report reads them several times)."""

    __slots__ = ("children", "end", "name", "parent_span_id", "record", "span_id", "start")

    def __init__(self, record: case_study_pb2.SpanRecord) -> None:
        self.record = record
        self.name = step_name(record)
        self.span_id = record.span_id
        self.parent_span_id = record.parent_span_id
        self.start = record.start_unix_nano
        self.end = record.end_unix_nano
        self.children: list[_Node] = []


def report(
    records: Iterable[case_study_pb2.SpanRecord], trace_id: int | str = "", sampled: bool = False
) -> dict[str, Any]:
    """The timing report of the spans of one request (duplicates by span id keep the latest end);
    ``sampled`` says whether the trace was exported, so a tracing backend holds it."""
    nodes: dict[str, _Node] = {}
    for node in map(_Node, records):
        known = nodes.get(node.span_id)
        if known is None or node.end > known.end:
            nodes[node.span_id] = node
    trace_hex = format(trace_id, "032x") if isinstance(trace_id, int) else trace_id
    if not nodes:
        return {
            "trace_id": trace_hex,
            "sampled": sampled,
            "total_ms": 0.0,
            "steps": [],
            "critical_path": [],
        }
    root = _tree(nodes)
    trace_hex = trace_hex or root.record.trace_id
    origin = root.start
    total_ns = max(root.end - origin, 1)
    critical: list[tuple[_Node, int, int]] = []
    _critical(root, root.end, critical)
    on_path = {id(node) for node, _, _ in critical}
    steps: list[dict[str, Any]] = []
    _steps(root, 0, origin, total_ns, on_path, steps)
    return {
        "trace_id": trace_hex,
        "sampled": sampled,
        "total_ms": _ms(total_ns),
        "steps": steps,
        "critical_path": [
            {
                "span_id": node.span_id,
                "name": node.name,
                "service": node.record.service,
                "start_ms": _ms(start - origin),
                "duration_ms": _ms(end - start),
            }
            for node, start, end in reversed(critical)
            if end > start
        ],
    }


def _ms(ns: int) -> float:
    """Nanoseconds in milliseconds, to the microsecond, in integer arithmetic: a report rounds
    some eighty of them, and ``round(x, 3)`` costs several times more (it goes through a
    string)."""
    return (ns + 500) // 1000 / 1000


def _tree(nodes: dict[str, _Node]) -> _Node:
    """Link the spans by parent; spans whose parent is missing hang below the root."""
    orphans = [n for n in nodes.values() if n.parent_span_id not in nodes]
    root = max(orphans, key=lambda n: (n.end - n.start, -n.start))
    for node in nodes.values():
        if node is root:
            continue
        parent = nodes.get(node.parent_span_id, root)
        parent.children.append(node)
    _clamp(root)
    return root


def _clamp(node: _Node) -> None:
    """Keep children inside their parent (clocks of separate machines may disagree slightly)."""
    node.children.sort(key=lambda child: (child.start, child.name))
    for child in node.children:
        child.start = min(max(child.start, node.start), node.end)
        child.end = min(max(child.end, child.start), node.end)
        _clamp(child)


def _critical(node: _Node, until: int, path: list[tuple[_Node, int, int]]) -> None:
    """Append ``node``'s critical segments up to ``until``, latest first."""
    cursor = min(node.end, until)
    while True:
        candidates = [c for c in node.children if c.start < cursor]
        if not candidates:
            break
        child = max(candidates, key=lambda c: (min(c.end, cursor), c.end - c.start))
        child_end = min(child.end, cursor)
        path.append((node, child_end, cursor))
        _critical(child, child_end, path)
        cursor = child.start
    path.append((node, node.start, cursor))


def _steps(
    node: _Node,
    depth: int,
    origin: int,
    total_ns: int,
    on_path: set[int],
    out: list[dict[str, Any]],
) -> None:
    record = node.record
    duration_ns = node.end - node.start
    out.append(
        {
            "name": node.name,
            "service": record.service,
            "span_id": node.span_id,
            "parent_span_id": node.parent_span_id,
            "depth": depth,
            "start_ms": _ms(node.start - origin),
            "duration_ms": _ms(duration_ns),
            "share": (duration_ns * 10000 + total_ns // 2) // total_ns / 10000,
            "error": record.error,
            "critical": id(node) in on_path,
        }
    )
    for child in node.children:
        _steps(child, depth + 1, origin, total_ns, on_path, out)
