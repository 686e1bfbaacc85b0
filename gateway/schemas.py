"""The HTTP API's request and response bodies; the OpenAPI document is generated from them.

The request's constraints are the ones ``gateway/requests.py`` enforces, so that a client (or a
schema-driven test) can tell a valid request from the document alone. The answer's ``case_study``
and ``usage`` are described by the JSON schema generated from the protobuf contract.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, cast

from google.protobuf.descriptor import Descriptor
from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema, field_validator

from casecraft import casestudy_schema
from casecraft.brand import accent_problem
from casecraft.limits import LOGO_MEDIA_TYPES, MAX_LOGO_BYTES, MAX_NOTES_BYTES
from casecraft.v1 import structurer_pb2

ComponentName = Literal["hero", "metrics", "timeline"]

# At least one character that is neither whitespace, a separator nor a control, format, private
# or unassigned code point (``str.isprintable() and not str.isspace()``).
VISIBLE_TEXT = r"[^\p{C}\p{Z}]"
# A PNG or JPEG as a base64 data URL, standard alphabet, padded, no line breaks.
_MEDIA = "|".join(t.removeprefix("image/") for t in LOGO_MEDIA_TYPES)
LOGO_PATTERN = (
    rf"^data:image/({_MEDIA});base64,"
    r"(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$"
)
MAX_LOGO_URL_CHARS = len("data:image/jpeg;base64,") + -(-MAX_LOGO_BYTES // 3) * 4


def _partial(schema: Any) -> Any:
    """``schema`` with no field required, at any depth: a case study still being written."""
    if isinstance(schema, dict):
        return {k: _partial(v) for k, v in schema.items() if k != "required"}
    if isinstance(schema, list):
        return [_partial(item) for item in schema]
    return schema


PartialCaseStudyJson = Annotated[
    dict[str, Any], WithJsonSchema(_partial(casestudy_schema.schema()))
]
UsageJson = Annotated[
    dict[str, Any],
    WithJsonSchema(
        casestudy_schema.schema_for(
            cast(Descriptor, structurer_pb2.Usage.DESCRIPTOR),
            {
                "casecraft.v1.Usage.provider": "The provider that wrote the case study.",
                "casecraft.v1.Usage.model": "The model it used.",
                "casecraft.v1.Usage.input_tokens": "Tokens sent, over every call.",
                "casecraft.v1.Usage.output_tokens": "Tokens written, over every call.",
                "casecraft.v1.Usage.cost_usd": "Estimated from the configured prices; 0 for the "
                "local provider.",
                "casecraft.v1.Usage.attempts": "Provider calls made, retries, re-asks and "
                "fallbacks included.",
            },
        )
    ),
]


class Options(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    fast: bool = Field(default=False, description="Faster, cheaper models and smaller images.")
    fresh: bool = Field(
        default=False,
        description="Structure the notes again even when an identical request's case study is "
        "cached (the new one replaces it).",
    )
    anonymize: bool = Field(
        default=False,
        description="Keep the client's name, its variants and people's names out of the case "
        "study, the images and everything exported: descriptors take their place. The logo is "
        "not used. The answer's `anonymized` says whether it held.",
    )
    accent_color: str | None = Field(
        default=None,
        pattern=r"^#[0-9A-Fa-f]{6}$",
        description="The brand accent of every image and export, as #RRGGBB. Without it, the "
        "logo's dominant colour when a logo is given, else the default palette.",
    )

    @field_validator("accent_color", mode="before")
    @classmethod
    def _accent(cls, value: object) -> object:
        if isinstance(value, str) and (problem := accent_problem(value)):
            raise ValueError(problem)
        return value


class CaseStudyRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        json_schema_extra={
            "examples": [
                {
                    "notes": "Client: Acme Freight (logistics)\n"
                    "Dispatch time went from 94 min to 31 min.\n"
                    "Weeks 1-2: mapped the dispatch flow. Weeks 3-6: rolled out auto-routing.",
                    "components": ["hero", "metrics"],
                }
            ]
        },
    )

    # The limits are checked by gateway/requests.py (with messages that say what to send), so
    # they are given to the schema only.
    notes: str = Field(
        json_schema_extra={"minLength": 1, "maxLength": MAX_NOTES_BYTES, "pattern": VISIBLE_TEXT},
        description=f"The consultant's freeform notes: text with something visible in it, at "
        f"most {MAX_NOTES_BYTES:,} bytes once encoded as UTF-8.",
    )
    logo: (
        Annotated[
            str,
            Field(
                json_schema_extra={
                    "maxLength": MAX_LOGO_URL_CHARS,
                    "pattern": LOGO_PATTERN,
                    "format": "data-url",
                }
            ),
        ]
        | None
    ) = Field(
        default=None,
        description=f"The client's logo as a data URL of a PNG or JPEG "
        f"(data:image/png;base64,...) whose bytes decode as that type, at most "
        f"{MAX_LOGO_BYTES:,} bytes and 16,000,000 pixels.",
    )
    components: (
        Annotated[
            list[ComponentName],
            Field(max_length=3, json_schema_extra={"minItems": 1, "uniqueItems": True}),
        ]
        | None
    ) = Field(
        default=None,
        description="Which visuals to make; leave it out for all three. Each at most once.",
    )
    options: Options = Field(default_factory=Options)


class ImageOut(BaseModel):
    component: ComponentName
    status: Literal["ok", "failed", "timed_out"]
    media_type: str = ""
    # i18-jobs: images by address; bytes inline only on request.
    version: int = Field(
        default=1, description="1 for the first image, +1 each time it is made again."
    )
    url: str = Field(default="", description="GET it here (/v1/images/{sha256}) when ok.")
    data_url: str | None = Field(
        default=None, description="The image inline as a data URL, only with ?inline=true."
    )
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


class ReviewItemOut(BaseModel):
    field: str = Field(description='A CaseStudy field ("client_name") or one item ("metrics[2]").')
    reason: str = Field(description="What is missing or uncertain, and what to do about it.")


class StepOut(BaseModel):
    name: str
    service: str = Field(description="The service that recorded the step.")
    span_id: str = Field(description="The step's span id (hex), as in the tracing backend.")
    parent_span_id: str = Field(description="The span this step ran inside; empty for the root.")
    depth: int = Field(description="Nesting below the root step (0).")
    start_ms: float = Field(description="Start, from the start of the root step.")
    duration_ms: float
    share: float = Field(description="duration_ms / total_ms")
    error: bool = False
    critical: bool = Field(
        default=False, description="Whether the step is on the critical path (sets the total)."
    )


class SegmentOut(BaseModel):
    span_id: str
    name: str
    service: str
    start_ms: float
    duration_ms: float


class TimingsOut(BaseModel):
    trace_id: str = Field(description="The request's trace id (also the X-Trace-Id header).")
    sampled: bool = Field(
        description="Whether the trace was sampled for export (OTEL_TRACES_SAMPLER): only then "
        "does a tracing backend hold it. The report covers every request either way."
    )
    total_ms: float = Field(description="The root step: the request as the gateway served it.")
    steps: list[StepOut] = Field(description="Every step, in tree order (parents first).")
    critical_path: list[SegmentOut] = Field(
        description="Back-to-back segments from 0 to total_ms: the steps that set the total, "
        "each for the time no step inside it covered."
    )


class CacheOut(BaseModel):
    structuring: Literal["hit", "miss", "bypass"] = Field(
        description="hit: the case study of an identical earlier request, no provider called; "
        "miss: structured now; bypass: structured now because options.fresh asked."
    )


class UntracedOut(BaseModel):
    field: str = Field(description='Where the figure is, e.g. "results", "metrics[0].after".')
    text: str = Field(description="The words around it in that field.")
    value: str = Field(description='The figure as written, e.g. "23%".')


class FidelityOut(BaseModel):
    checked: int = Field(description="How many figures the case study holds, all checked.")
    untraced: list[UntracedOut] = Field(
        description="Figures neither in the notes (in any written form) nor computed from them."
    )


# -- i18-jobs: jobs, events and edits --------------------------------------------------------

JobStatus = Literal["queued", "structuring", "rendering", "done", "failed", "cancelled"]


class JobLinks(BaseModel):
    self: str
    events: str = Field(description="The job's server-sent events.")
    refine: str
    images: str = Field(description="POST here, {component} filled in, to make an image again.")


class JobAccepted(BaseModel):
    """The 202 answer to POST with Prefer: respond-async (Location names the job)."""

    id: str
    status: JobStatus
    links: JobLinks


class ChangeOut(BaseModel):
    version: int
    changed: list[str] = Field(description="CaseStudy fields, or the image component, changed.")
    by: Literal["patch", "refine", "image"]


class CaseStudyPatch(BaseModel):
    """A JSON merge patch (RFC 7396): fields given replace, null removes, lists are replaced."""

    model_config = ConfigDict(extra="forbid")

    case_study: dict[str, Any] = Field(
        description="CaseStudy fields to change; the result must match the CaseStudy schema."
    )


class RefineBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    section: str = Field(description="The CaseStudy field to rewrite, e.g. title or challenge.")
    instruction: str = Field(max_length=2000, description='e.g. "shorter, lead with the saving"')


# -- end i18-jobs ---------------------------------------------------------------------------


class CaseStudyResponse(BaseModel):
    # A done job's case study is complete: every field the contract requires is there.
    model_config = ConfigDict(
        json_schema_extra={
            "if": {"properties": {"status": {"const": "done"}}, "required": ["status"]},
            "then": {"properties": {"case_study": casestudy_schema.schema()}},
        }
    )

    id: str
    # i18-jobs: the job behind every answer.
    status: JobStatus = Field(description="done for a synchronous answer; GET shows progress.")
    version: int = Field(description="0 until done, then 1, +1 for each PATCH, refine or image.")
    links: JobLinks
    changes: list[ChangeOut] = Field(default_factory=list)
    problem: dict[str, Any] | None = Field(
        default=None, description="Why a failed job failed (problem+json)."
    )
    case_study: PartialCaseStudyJson = Field(
        description="The case study (CaseStudy in protos/): every field once the job is done, "
        "the fields known so far while it runs."
    )
    images: list[ImageOut]
    skipped: list[SkippedOut] = Field(
        description="Requested visuals that were not made, and why (e.g. no metrics in the notes)."
    )
    warnings: list[str]
    needs_review: list[ReviewItemOut] = Field(
        description="Fields to check before publishing: not found in the notes, or inferred "
        "rather than read. A missing client name is left empty, never invented."
    )
    usage: UsageJson = Field(description="What writing the case study took.")
    cache: CacheOut
    trace_id: str = Field(description="Find the request's trace in a tracing backend by this id.")
    timings: TimingsOut | None = Field(
        default=None, description="Where the time went; present once the job is done."
    )
    # i19-trust: what was checked.
    fidelity: FidelityOut | None = Field(
        default=None,
        description="Every figure checked against the notes; present once the case study is.",
    )
    anonymized: bool | None = Field(
        default=None,
        description="Only when options.anonymize was asked for: false when a name was still "
        "written after a re-ask (a warning names the fields; the names were replaced).",
    )


class ProblemOut(BaseModel):
    type: str
    title: str
    status: int
    detail: str
    errors: list[dict[str, str]] | None = None
