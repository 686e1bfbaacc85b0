"""The OpenAPI 3.1 document of the HTTP API, generated from the pydantic schemas."""

from __future__ import annotations

from functools import cache
from typing import Any

from pydantic.json_schema import models_json_schema

from casecraft.limits import MAX_NOTES_BYTES
from gateway.body import MAX_BODY_BYTES
from gateway.schemas import CaseStudyRequest, CaseStudyResponse, ProblemOut


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
        [(m, "validation") for m in (CaseStudyRequest, CaseStudyResponse, ProblemOut)],
        ref_template="#/components/schemas/{model}",
    )
    ok_json = {"content": {"application/json": {"schema": {"type": "object"}}}}
    return {
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
