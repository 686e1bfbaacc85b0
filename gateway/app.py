"""The HTTP API: case studies (gateway/routes_jobs.py), health, readiness and the OpenAPI document."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from http import HTTPStatus

from opentelemetry import trace
from redis.exceptions import RedisError
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from casecraft.admission import Admission, Overloaded
from casecraft.errors import ConfigurationError
from casecraft.exports.web_page import TemplateProblem, load_template
from casecraft.prometheus import prometheus_text
from casecraft.telemetry import configure_tracing, tracing_enabled
from gateway import page, routes_jobs
from gateway.access_log import AccessLog
from gateway.auth import ApiKey, RequireApiKey, load_keys
from gateway.backends import Backends
from gateway.exports import JobExports
from gateway.hygiene import HttpHygiene
from gateway.jobrunner import Jobs, Stores
from gateway.openapi import openapi_document, with_api_keys
from gateway.problems import Problem
from gateway.quotas import EnforceQuotas, Quotas
from gateway.redis_backend import unavailable
from gateway.settings import GatewaySettings
from gateway.tracing import RequestSpan

log = logging.getLogger(__name__)
tracer = trace.get_tracer(__name__)
SERVICE = "gateway"

_UNTRACED_PATHS = "/healthz|/readyz|/metrics|/static/.*"


def create_app(settings: GatewaySettings | None = None) -> Starlette:
    """The gateway's app; a ConfigurationError when the settings cannot work."""
    settings = settings or GatewaySettings()
    _check_template(settings)
    configure_tracing(SERVICE)
    quotas = Quotas(
        rpm=settings.quota_requests_per_minute,
        in_flight=settings.quota_in_flight,
        storage_uri=settings.quota_storage,
    )
    admission = Admission(
        "the gateway's case studies in flight",
        max_in_flight=settings.max_in_flight,
        max_queued=settings.max_queued,
    )

    @asynccontextmanager
    async def admitted(key: ApiKey | None) -> AsyncIterator[None]:
        """A job's work runs once the key's quota and the gateway's ceiling admit it."""
        async with contextlib.AsyncExitStack() as held:
            if key is not None:
                await held.enter_async_context(quotas.case_study(key))
            try:
                await held.enter_async_context(admission.slot())
            except Overloaded as exc:
                raise Problem(
                    503, "Busy", str(exc), headers={"Retry-After": str(exc.retry_after_s)}
                ) from exc
            yield

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        app.state.backends = Backends(settings)
        app.state.stores = Stores.for_settings(settings)
        app.state.jobs = Jobs(app.state.backends, settings, app.state.stores, admit=admitted)
        app.state.exports = JobExports(settings, app.state.jobs.images)
        try:
            yield
        finally:
            await app.state.jobs.close()
            await app.state.stores.close()
            await app.state.backends.close()
            await quotas.aclose()

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(request: Request) -> Response:
        statuses = await request.app.state.backends.health()
        statuses.update(await request.app.state.stores.health())
        down = {name: status for name, status in statuses.items() if status != "SERVING"}
        if down:
            detail = ", ".join(f"{name} is {status}" for name, status in down.items())
            return Problem(
                503, "Not ready", f"{detail}; start it or wait", backends=statuses
            ).response()
        return JSONResponse({"status": "ready", "backends": statuses})

    keys_required = settings.api_keys_file is not None
    document = openapi_document(keys_required=keys_required)
    if keys_required:
        document = with_api_keys(document)  # the job routes too

    async def openapi(request: Request) -> Response:
        return JSONResponse(document)

    async def metrics(request: Request) -> Response:
        body, content_type = prometheus_text()
        return Response(body, media_type=content_type)

    return Starlette(
        routes=[
            *routes_jobs.routes(),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readyz, methods=["GET"]),
            Route("/openapi.json", openapi, methods=["GET"]),
            Route("/metrics", metrics, methods=["GET"]),
            *page.routes(),
        ],
        middleware=_middleware(settings, quotas),
        exception_handlers={
            Problem: _problem,
            HTTPException: _http,
            ClientDisconnect: _client_left,
            RedisError: _redis_unavailable,
            Exception: _unexpected,
        },
        lifespan=lifespan,
    )


def _check_template(settings: GatewaySettings) -> None:
    """Load the web page's template once now, so a bad CASECRAFT_TEMPLATE_DIR stops the gateway
    at start-up instead of failing exports later."""
    try:
        load_template(settings.template_dir)
    except TemplateProblem as exc:
        raise ConfigurationError(f"CASECRAFT_TEMPLATE_DIR: {exc}") from None


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
                expose_headers=[
                    "Content-Disposition",
                    "Location",
                    "Retry-After",
                    "X-Request-Id",
                    "X-Trace-Id",
                ],
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
        # duration is casecraft.request.duration (by method, status and outcome), recorded when
        # the span ends (casecraft/prometheus.py).
        Middleware(RequestSpan, untraced=_UNTRACED_PATHS),  # type: ignore[arg-type]
        *access_log,
        *inner,
    ]


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


async def _redis_unavailable(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RedisError)
    log.warning("redis unavailable: %s", type(exc).__name__)
    return unavailable(exc).response(request.url.path)


async def _unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unexpected error")
    return Problem(
        500, "Internal error", "an unexpected error occurred; it has been logged"
    ).response(request.url.path)
