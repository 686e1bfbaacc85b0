"""The three visuals, by name, with the contract enums and field groups each one needs."""

from __future__ import annotations

from dataclasses import dataclass

from casecraft.v1 import image_pb2, structurer_pb2


@dataclass(frozen=True)
class ComponentSpec:
    name: str
    enum: image_pb2.Component
    needs: structurer_pb2.FieldGroup
    title: str


HERO = ComponentSpec(
    "hero", image_pb2.COMPONENT_HERO, structurer_pb2.FIELD_GROUP_HEADLINE, "Hero banner"
)
METRICS = ComponentSpec(
    "metrics", image_pb2.COMPONENT_METRICS, structurer_pb2.FIELD_GROUP_METRICS, "Metrics dashboard"
)
TIMELINE = ComponentSpec(
    "timeline",
    image_pb2.COMPONENT_TIMELINE,
    structurer_pb2.FIELD_GROUP_PHASES,
    "Implementation timeline",
)

ALL: tuple[ComponentSpec, ...] = (HERO, METRICS, TIMELINE)
BY_NAME: dict[str, ComponentSpec] = {c.name: c for c in ALL}
NAMES: tuple[str, ...] = tuple(BY_NAME)

# Field groups in the order a writer completes them, and the CaseStudy fields of each.
GROUP_FIELDS: dict[structurer_pb2.FieldGroup, tuple[str, ...]] = {
    structurer_pb2.FIELD_GROUP_HEADLINE: ("client_name", "industry", "title", "subtitle"),
    structurer_pb2.FIELD_GROUP_METRICS: ("metrics",),
    structurer_pb2.FIELD_GROUP_PHASES: ("phases",),
    structurer_pb2.FIELD_GROUP_NARRATIVE: ("challenge", "solution", "results", "quote"),
}


_STATUS_NAMES = {
    image_pb2.IMAGE_STATUS_OK: "ok",
    image_pb2.IMAGE_STATUS_FAILED: "failed",
    image_pb2.IMAGE_STATUS_TIMED_OUT: "timed_out",
    image_pb2.IMAGE_STATUS_NOT_CACHED: "not_cached",
}


def status_name(status: image_pb2.ImageStatus) -> str:
    """An image job's outcome as the HTTP answer and the metrics name it: ok, failed, timed_out
    (and not_cached, for a job that asked the cache only)."""
    return _STATUS_NAMES.get(status, "failed")
