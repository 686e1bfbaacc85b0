"""The HTTP API's request and response bodies; the OpenAPI document is generated from them."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

ComponentName = Literal["hero", "metrics", "timeline"]


class Options(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    fast: bool = Field(default=False, description="Faster, cheaper models and smaller images.")


class CaseStudyRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    notes: str = Field(
        description="The consultant's freeform notes (UTF-8 text, not empty, at most 200,000 bytes)."
    )
    logo: str | None = Field(
        default=None,
        description="The client's logo as a data URL of a PNG or JPEG "
        "(data:image/png;base64,...), at most 2,000,000 bytes decoded.",
    )
    components: list[ComponentName] | None = Field(
        default=None,
        description="Which visuals to make; default all three. Each at most once.",
    )
    options: Options = Field(default_factory=Options)


class ImageOut(BaseModel):
    component: ComponentName
    status: Literal["ok", "failed", "timed_out"]
    media_type: str = ""
    data_url: str = Field(default="", description="The image inline as a data URL when ok.")
    width: int = 0
    height: int = 0
    sha256: str = ""
    provider: str = ""
    model: str = ""
    cache_hit: bool = False
    attempts: int = 0
    error: str | None = None


class SkippedOut(BaseModel):
    component: ComponentName
    reason: str


class StepOut(BaseModel):
    name: str
    service: str
    start_ms: float
    duration_ms: float
    share: float = Field(description="duration_ms / total_ms")
    error: bool = False


class TimingsOut(BaseModel):
    total_ms: float
    steps: list[StepOut]


class CaseStudyResponse(BaseModel):
    id: str
    case_study: dict[str, Any] = Field(description="The CaseStudy message as JSON (see protos/).")
    images: list[ImageOut]
    skipped: list[SkippedOut] = Field(
        description="Requested visuals that were not made, and why (e.g. no metrics in the notes)."
    )
    warnings: list[str]
    usage: dict[str, Any]
    timings: TimingsOut


class ProblemOut(BaseModel):
    type: str
    title: str
    status: int
    detail: str
    errors: list[dict[str, str]] | None = None
