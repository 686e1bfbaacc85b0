"""The HTTP API: POST /v1/case-studies, health, readiness and the OpenAPI document."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from http import HTTPStatus
from typing import Any

import orjson
from opentelemetry import trace
from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware
from opentelemetry.metrics import NoOpMeterProvider
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from casecraft import protojson
from casecraft.admission import Admission, Overloaded
from casecraft.components import status_name
from casecraft.prometheus import prometheus_text
from casecraft.telemetry import configure_tracing, span_capture, to_records, tracing_enabled
from casecraft.v1 import image_pb2
from gateway import orchestrator
from gateway.access_log import AccessLog
from gateway.auth import ApiKey, RequireApiKey, caller, load_keys
from gateway.backends import Backends
from gateway.cache_report import cache_report
from gateway.hygiene import HttpHygiene
from gateway.openapi import openapi_document
from gateway.problems import Problem
from gateway.quotas import EnforceQuotas, Quotas
from gateway.settings import GatewaySettings
from gateway.timings import report
from gateway.tracing import TraceIdHeader
from gateway.uploads import checked_request

log = logging.getLogger(__name__)
tracer = trace.get_tracer(__name__)
SERVICE = "gateway"

_UNTRACED_PATHS = "/healthz,/readyz,/metrics"


class OrjsonResponse(JSONResponse):
    """The answer's JSON rendered by orjson: the same compact UTF-8 as Starlette's json.dumps,
    a tenth of the CPU (a 10 KB answer with its ~80 timing numbers: 79 µs → 7 µs)."""

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def create_app(settings: GatewaySettings | None = None) -> Starlette:
    settings = settings or GatewaySettings()
    configure_tracing(SERVICE)
    quotas = Quotas(
        rpm=settings.quota_requests_per_minute,
        in_flight=settings.quota_in_flight,
        storage_uri=settings.quota_storage_url,
    )
    admission = Admission(
        "the gateway's case studies in flight",
        max_in_flight=settings.max_in_flight,
        max_queued=settings.max_queued,
    )

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        app.state.backends = Backends(settings)
        try:
            yield
        finally:
            await app.state.backends.close()
            await quotas.aclose()

    async def create_case_study(request: Request) -> Response:
        checked = await checked_request(request)
        plan = orchestrator.Plan(
            notes=checked.notes,
            components=checked.components,
            logo=checked.logo,
            logo_media_type=checked.logo_media_type,
            fast=checked.fast,
            fresh=checked.fresh,
            accent_color=checked.accent_color,
            early_fanout=settings.early_fanout,
            structure_deadline_s=settings.gateway_structure_deadline_s,
            images_deadline_s=settings.gateway_images_deadline_s,
            per_image_deadline_s=settings.gateway_per_image_deadline_s,
        )
        work = asyncio.create_task(
            _admitted(admission, quotas, caller(request.scope), request.app.state.backends, plan)
        )
        disconnected = asyncio.create_task(_client_gone(request))
        try:
            await asyncio.wait({work, disconnected}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            disconnected.cancel()
        if not work.done():
            work.cancel()  # the client left: stop the work it started, upstream included
            log.info("client disconnected; work cancelled")
            return Response(status_code=499)
        return OrjsonResponse(work.result())

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(request: Request) -> Response:
        statuses = await request.app.state.backends.health()
        down = {name: status for name, status in statuses.items() if status != "SERVING"}
        if down:
            detail = ", ".join(f"{name} is {status}" for name, status in down.items())
            return Problem(
                503, "Not ready", f"{detail}; start it or wait", backends=statuses
            ).response()
        return JSONResponse({"status": "ready", "backends": statuses})

    async def openapi(request: Request) -> Response:
        return JSONResponse(openapi_document())

    async def metrics(request: Request) -> Response:
        body, content_type = prometheus_text()
        return Response(body, media_type=content_type)

    return Starlette(
        routes=[
            Route("/v1/case-studies", create_case_study, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readyz, methods=["GET"]),
            Route("/openapi.json", openapi, methods=["GET"]),
            Route("/metrics", metrics, methods=["GET"]),
        ],
        middleware=_middleware(settings, quotas),
        exception_handlers={
            Problem: _problem,
            HTTPException: _http,
            ClientDisconnect: _client_left,
            Exception: _unexpected,
        },
        lifespan=lifespan,
    )


def _middleware(settings: GatewaySettings, quotas: Quotas) -> list[Middleware]:
    outer = [Middleware(HttpHygiene)]
    if settings.cors_origins:
        outer.append(
            Middleware(
                CORSMiddleware,  # type: ignore[arg-type]
                allow_origins=settings.cors_origins,
                allow_methods=["GET", "POST", "PATCH", "DELETE"],
                allow_headers=[
                    "Authorization",
                    "Content-Type",
                    "Idempotency-Key",
                    "Last-Event-ID",
                    "Prefer",
                ],
                expose_headers=["Location", "Retry-After", "X-Request-Id", "X-Trace-Id"],
            )
        )
    inner = (
        [
            Middleware(RequireApiKey, keys=load_keys(settings.api_keys_file)),  # type: ignore[arg-type]
            Middleware(EnforceQuotas, quotas=quotas),  # type: ignore[arg-type]
        ]
        if settings.api_keys_file is not None
        else []
    )
    access_log = [Middleware(AccessLog)] if settings.access_log else []
    if not tracing_enabled():
        return [*outer, *access_log, *inner]
    return [
        *outer,
        # The request's server span, continuing the caller's trace; probes stay untraced. Its
        # duration is casecraft.request.duration (by method, status and outcome), recorded
        # when the span ends (casecraft/prometheus.py): one histogram point per request, where
        # the instrumentation's own HTTP metrics would make five.
        Middleware(
            OpenTelemetryMiddleware,  # type: ignore[arg-type]
            excluded_urls=_UNTRACED_PATHS,
            exclude_spans=["receive", "send"],
            meter_provider=NoOpMeterProvider(),
        ),
        Middleware(TraceIdHeader),
        *access_log,
        *inner,
    ]


async def _admitted(
    admission: Admission,
    quotas: Quotas,
    key: ApiKey | None,
    backends: Backends,
    plan: orchestrator.Plan,
) -> dict[str, Any]:
    """The case study, once the gateway's ceiling and the key's quota admit it."""
    async with contextlib.AsyncExitStack() as held:
        if key is not None:
            await held.enter_async_context(quotas.case_study(key))
        try:
            await held.enter_async_context(admission.slot())
        except Overloaded as exc:
            raise Problem(
                503, "Busy", str(exc), headers={"Retry-After": str(exc.retry_after_s)}
            ) from exc
        return await _produce(backends, plan)


async def _produce(backends: Backends, plan: orchestrator.Plan) -> dict[str, Any]:
    """Run the plan under the request's span (the HTTP server span, when tracing is on) and answer
    with the timing report of every span the request made, in this process and upstream."""
    root = trace.get_current_span()
    with span_capture().capture(root) as spans:
        try:
            outcome = await orchestrator.run(backends, plan)
        except BaseException as exc:
            root.record_exception(exc)
            root.set_status(trace.StatusCode.ERROR, type(exc).__name__)
            raise
        with tracer.start_as_current_span("respond"):
            body = _body(outcome, plan)
        records = [*outcome.spans, *to_records(list(spans), SERVICE)]
        context = root.get_span_context()
        timings = report(records, context.trace_id, context.trace_flags.sampled)
    body["trace_id"] = timings["trace_id"]
    body["timings"] = timings
    return body


def _body(outcome: orchestrator.Outcome, plan: orchestrator.Plan) -> dict[str, Any]:
    """The answer's JSON (its shape is CaseStudyResponse in gateway/schemas.py)."""
    images = [
        _image(component.name, outcome.images[component.name])
        for component in plan.components
        if component.name in outcome.images
    ]
    return {
        "id": uuid.uuid4().hex,
        "case_study": protojson.to_dict(outcome.case_study),
        "images": images,
        "skipped": [{"component": n, "reason": r} for n, r in outcome.skipped.items()],
        "warnings": outcome.warnings,
        "usage": protojson.to_dict(outcome.usage),
        "cache": cache_report(outcome, plan),
    }


def _image(component: str, result: image_pb2.ImageResult) -> dict[str, Any]:
    image: dict[str, Any] = {
        "component": component,
        "status": status_name(result.status),
        "media_type": result.media_type,
        "data_url": (
            f"data:{result.media_type};base64,{base64.b64encode(result.image).decode()}"
            if result.image
            else ""
        ),
        "width": result.width,
        "height": result.height,
        "sha256": result.sha256,
        "provider": result.provider,
        "model": result.model,
        "cache_hit": result.cache_hit,
        "attempts": result.attempts,
    }
    if result.error:
        image["error"] = result.error
    return image


async def _client_gone(request: Request) -> None:
    while True:
        message = await request.receive()
        if message["type"] == "http.disconnect":
            return


async def _problem(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Problem)
    return exc.response(request.url.path)


async def _http(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    detail = f"no route {request.method} {request.url.path}; see /openapi.json"
    if exc.status_code == 405:
        allowed = (exc.headers or {}).get("Allow", "")
        detail = f"{request.url.path} does not accept {request.method}; use {allowed}"
    problem = Problem(
        exc.status_code, HTTPStatus(exc.status_code).phrase, detail, headers=exc.headers
    )
    return problem.response(request.url.path)


async def _client_left(request: Request, exc: Exception) -> Response:
    log.info("client disconnected while sending the body")
    return Response(status_code=499)


async def _unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unexpected error")
    return Problem(
        500, "Internal error", "an unexpected error occurred; it has been logged"
    ).response(request.url.path)
