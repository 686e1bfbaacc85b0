"""The OpenAPI 3.1 document of the HTTP API, generated from the pydantic schemas."""

from __future__ import annotations

from functools import cache
from typing import Any

from pydantic.json_schema import models_json_schema

from casecraft.limits import MAX_NOTES_BYTES
from gateway.body import MAX_BODY_BYTES
from gateway.schemas import (
    CaseStudyPatch,
    CaseStudyRequest,
    CaseStudyResponse,
    JobAccepted,
    ProblemOut,
    RefineBody,
)


def _problem(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {
            "application/problem+json": {"schema": {"$ref": "#/components/schemas/ProblemOut"}}
        },
    }


@cache
def openapi_document(keys_required: bool = False) -> dict[str, Any]:
    """The document; ``keys_required`` when the gateway has a keys file, so that every ``/v1/``
    route needs an API key."""
    _, schemas = models_json_schema(
        [
            (m, "validation")
            for m in (CaseStudyRequest, CaseStudyResponse, ProblemOut, *_JOB_MODELS)
        ],
        ref_template="#/components/schemas/{model}",
    )
    ok_json = {"content": {"application/json": {"schema": {"type": "object"}}}}
    document: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {
            "title": "casecraft",
            "version": "1",
            "description": "Turns a consultant's freeform notes into a case study with three visuals.",
        },
        "paths": {
            "/v1/case-studies": {
                "post": {
                    "summary": "Write a case study and its visuals from notes",
                    "operationId": "createCaseStudy",
                    **({"security": [{"apiKey": []}]} if keys_required else {}),
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/CaseStudyRequest"}
                            }
                        },
                    },
                    "responses": {
                        "200": {
                            "description": "The case study, its images and where the time went.",
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/CaseStudyResponse"}
                                }
                            },
                        },
                        "400": _problem(
                            "The body is not JSON, not UTF-8, nested too deeply to read, or "
                            "holds an integer too long to read."
                        ),
                        "413": _problem(
                            f"The notes are over {MAX_NOTES_BYTES:,} bytes, "
                            f"or the body over {MAX_BODY_BYTES:,}."
                        ),
                        **(
                            {"401": _problem("No API key, or one the gateway does not know.")}
                            if keys_required
                            else {}
                        ),
                        "415": _problem("The body is compressed (Content-Encoding)."),
                        "422": _problem(
                            "A field is missing, of the wrong type, unknown, given twice or "
                            "invalid (for instance a logo that does not decode as its type); "
                            "`errors` lists the first ten."
                        ),
                        "429": _problem(
                            "Over the API key's quota, or a backend is rate-limited; "
                            "Retry-After says when to try again."
                        ),
                        "503": _problem(
                            "A backend is unavailable (the detail names it), or the gateway is "
                            "at its ceiling of case studies in flight (Retry-After)."
                        ),
                        "504": _problem("A backend did not answer in time."),
                    },
                }
            },
            "/healthz": {
                "get": {
                    "summary": "Liveness",
                    "responses": {"200": {"description": "alive", **ok_json}},
                }
            },
            "/readyz": {
                "get": {
                    "summary": "Readiness: both backends answer their health checks",
                    "responses": {
                        "200": {"description": "ready", **ok_json},
                        "503": _problem("A backend is not serving."),
                    },
                }
            },
        },
        "components": {
            "schemas": schemas["$defs"],
            "securitySchemes": {
                "apiKey": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An API key made by `casecraft keys new`, needed by every "
                    "/v1/ route when the gateway has a keys file (CASECRAFT_API_KEYS_FILE).",
                }
            },
        },
    }
    _add_job_paths(document)
    return document


# -- i18-jobs: background jobs, events, edits and images by address ----------------------------

_JOB_MODELS = (JobAccepted, CaseStudyPatch, RefineBody)


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


def _job_answer(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": _ref("CaseStudyResponse")}},
    }


_ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
_INLINE = {
    "name": "inline",
    "in": "query",
    "schema": {"type": "boolean", "default": False},
    "description": "Put each image's bytes into the answer as a data URL.",
}
_EVENT_STREAM: dict[str, Any] = {"schema": {"type": "string"}}
_EVENTS = {
    "description": "Server-sent events: status, field_group, image, case_study, warning, then "
    "done, failed or cancelled (see docs/jobs.md). Every event has an increasing id; "
    "reconnect with Last-Event-ID to resume; comment lines keep the connection alive.",
    "content": {"text/event-stream": _EVENT_STREAM},
}


def _add_job_paths(document: dict[str, Any]) -> None:
    """The job routes, and the job options of POST /v1/case-studies."""
    paths = document["paths"]
    post = paths["/v1/case-studies"]["post"]
    post["parameters"] = [
        _INLINE,
        {
            "name": "Prefer",
            "in": "header",
            # Preferences the gateway does not know are ignored (RFC 7240), so any value is valid.
            "schema": {"type": "string"},
            "description": "respond-async: answer 202 at once and run the job in the background.",
        },
        {
            "name": "Idempotency-Key",
            "in": "header",
            "schema": {"type": "string", "minLength": 1, "maxLength": 255},
            "description": "The same key with the same body returns the same job, without "
            "paying twice; with a different body it is a 422.",
        },
        {
            "name": "Accept",
            "in": "header",
            "schema": {"type": "string"},
            "description": "text/event-stream: start the job and stream its events.",
        },
    ]
    post["responses"]["200"]["content"]["text/event-stream"] = _EVENT_STREAM
    post["responses"]["202"] = {
        "description": "The job started in the background; Location names it.",
        "headers": {"Location": {"schema": {"type": "string"}}},
        "content": {"application/json": {"schema": _ref("JobAccepted")}},
    }
    post["responses"]["409"] = _problem("The job was cancelled (DELETE) while waiting for it.")
    post["responses"]["503"] = _problem(
        "A backend is unavailable, or the gateway holds as many running jobs as it may "
        "(Retry-After says when to retry)."
    )
    missing = _problem("No such case study (unknown, or expired after CASECRAFT_JOB_TTL_S).")
    busy = _problem("The job is still being made, or was cancelled or failed.")
    paths["/v1/case-studies/{id}"] = {
        "parameters": [_ID],
        "get": {
            "summary": "The job: its status and whatever is ready so far",
            "operationId": "getCaseStudy",
            "parameters": [_INLINE],
            "responses": {"200": _job_answer("The job."), "404": missing},
        },
        "delete": {
            "summary": "Cancel a running job, upstream work included",
            "operationId": "cancelCaseStudy",
            "responses": {
                "200": _job_answer("The job, cancelled; it keeps what it had."),
                "404": missing,
                "409": _problem("The job has ended already."),
            },
        },
        "patch": {
            "summary": "Correct case-study fields; the images whose fields changed are made again",
            "operationId": "patchCaseStudy",
            "requestBody": {
                "required": True,
                "content": {"application/merge-patch+json": {"schema": _ref("CaseStudyPatch")}},
            },
            "responses": {
                "200": _job_answer("Nothing changed."),
                "202": _job_answer("A new version; its images are being made (follow events)."),
                "404": missing,
                "409": busy,
                "415": _problem("Not sent as application/merge-patch+json."),
                "422": _problem("An unknown field, or a result that is not a valid CaseStudy."),
            },
        },
    }
    paths["/v1/case-studies/{id}/events"] = {
        "get": {
            "summary": "Follow the job: its whole history, then each event as it happens",
            "operationId": "caseStudyEvents",
            "parameters": [
                _ID,
                {
                    "name": "Last-Event-ID",
                    "in": "header",
                    "schema": {"type": "string"},
                    "description": "Resume after this event; an id that is not the job's "
                    "gives the whole history.",
                },
            ],
            "responses": {
                "200": _EVENTS,
                "204": {"description": "Last-Event-ID was the job's final event: nothing more."},
                "404": missing,
            },
        }
    }
    paths["/v1/case-studies/{id}/images/{component}"] = {
        "post": {
            "summary": "Make a new version of one image (the others stay)",
            "operationId": "remakeImage",
            "parameters": [
                _ID,
                {
                    "name": "component",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "string", "enum": ["hero", "metrics", "timeline"]},
                },
            ],
            "responses": {
                "202": _job_answer("The image is being made (follow events)."),
                "404": _problem(
                    "No such case study, or no such component (the detail lists them)."
                ),
                "409": busy,
                "422": _problem("The case study has nothing for this image to draw."),
            },
        }
    }
    paths["/v1/case-studies/{id}/refine"] = {
        "post": {
            "summary": "Rewrite one section following an instruction (an LLM provider)",
            "operationId": "refineCaseStudy",
            "parameters": [_ID],
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": _ref("RefineBody")}},
            },
            "responses": {
                "202": _job_answer("A new version; images made again if their fields changed."),
                "400": _problem("An unknown section (the detail names the valid ones)."),
                "404": missing,
                "409": _problem(
                    "The job is busy, or only the local provider is configured: configure an "
                    "LLM provider or PATCH the field."
                ),
                "422": _problem("section or instruction missing or invalid."),
            },
        }
    }
    paths["/v1/images/{sha256}"] = {
        "get": {
            "summary": "An image by the sha256 of its bytes; cacheable forever",
            "operationId": "getImage",
            "parameters": [
                {
                    "name": "sha256",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
                }
            ],
            "responses": {
                "200": {
                    "description": "The image, with ETag and Cache-Control: immutable.",
                    "content": {"image/png": {}, "image/jpeg": {}, "image/webp": {}},
                },
                "304": {"description": "If-None-Match matched: the client's copy is current."},
                "404": _problem("Unknown, or evicted with its case study."),
            },
        }
    }
