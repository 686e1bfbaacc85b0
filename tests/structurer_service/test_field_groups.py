"""FieldGroupTracker: drafts in, each complete group announced once, in order."""

from __future__ import annotations

from casecraft.v1 import structurer_pb2
from structurer_service.field_groups import FieldGroupTracker

HEADLINE = {"client_name": "Harbor", "industry": "Logistics", "title": "Faster", "subtitle": "How"}
METRIC = {"label": "Dispatch time", "before": "94 min", "after": "31 min", "before_value": 94}


def test_a_group_is_announced_once_a_later_field_appears() -> None:
    tracker = FieldGroupTracker()
    assert tracker.advance(HEADLINE) == []  # the subtitle may still grow
    ready = tracker.advance({**HEADLINE, "metrics": [METRIC]})
    assert [r.group for r in ready] == [structurer_pb2.FIELD_GROUP_HEADLINE]
    assert ready[0].partial.title == "Faster"
    assert not ready[0].partial.metrics
    # The same draft again announces nothing new.
    assert tracker.advance({**HEADLINE, "metrics": [METRIC]}) == []

    ready = tracker.advance({**HEADLINE, "metrics": [METRIC], "challenge": "Slow"})
    assert [r.group for r in ready] == [
        structurer_pb2.FIELD_GROUP_METRICS,
        structurer_pb2.FIELD_GROUP_PHASES,
    ]
    assert ready[0].partial.metrics[0].before_value == 94
    assert ready[0].partial.client_name == "Harbor"


def test_what_only_the_json_parser_accepts_still_parses() -> None:
    """Unknown keys, numbers as strings and JSON (camelCase) names inside a metric."""
    tracker = FieldGroupTracker()
    odd = {"label": "Cost", "beforeValue": "12.5", "after_value": "3", "source": "page 2"}
    ready = tracker.advance({**HEADLINE, "metrics": [odd], "phases": []})
    assert [r.group for r in ready] == [
        structurer_pb2.FIELD_GROUP_HEADLINE,
        structurer_pb2.FIELD_GROUP_METRICS,
    ]
    metric = ready[1].partial.metrics[0]
    assert (metric.label, metric.before_value, metric.after_value) == ("Cost", 12.5, 3.0)


def test_a_group_that_does_not_parse_waits_for_a_later_draft() -> None:
    tracker = FieldGroupTracker()
    broken = {**HEADLINE, "metrics": [{"label": ["not", "a", "string"]}], "phases": []}
    ready = tracker.advance(broken)
    assert [r.group for r in ready] == [structurer_pb2.FIELD_GROUP_HEADLINE]
    ready = tracker.advance({**HEADLINE, "metrics": [METRIC], "phases": []})
    assert [r.group for r in ready] == [structurer_pb2.FIELD_GROUP_METRICS]
    assert ready[0].partial.metrics[0].label == "Dispatch time"
