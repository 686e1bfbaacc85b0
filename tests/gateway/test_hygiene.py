"""Every answer's security headers and request id; CORS only for the origins configured."""

from __future__ import annotations

import logging

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from gateway.hygiene import HttpHygiene, RequestIdFilter
from tests.conftest import stack


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [("GET", "/healthz", 200), ("POST", "/v1/case-studies", 422), ("GET", "/nowhere", 404)],
)
async def test_every_answer_carries_the_security_headers(
    method: str, path: str, status: int
) -> None:
    async with stack() as client:
        response = await client.request(method, path, json={})
    assert response.status_code == status
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["referrer-policy"] == "no-referrer"


async def test_a_request_id_is_echoed_or_made_up() -> None:
    async with stack() as client:
        echoed = await client.get("/healthz", headers={"X-Request-Id": "req-42.a"})
        made = await client.get("/healthz")
        refused = await client.get("/healthz", headers={"X-Request-Id": "has spaces\tand tabs"})
    assert echoed.headers["x-request-id"] == "req-42.a"
    assert len(made.headers["x-request-id"]) == 32
    assert refused.headers["x-request-id"] not in ("has spaces\tand tabs", "")
    assert made.headers["x-request-id"] != refused.headers["x-request-id"]


async def test_what_is_logged_during_a_request_carries_its_id(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def logs(request: Request) -> Response:
        logging.getLogger("casecraft.test").warning("inside the request")
        return PlainTextResponse("ok")

    app = HttpHygiene(Starlette(routes=[Route("/", logs)]))
    caplog.handler.addFilter(RequestIdFilter())
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        await client.get("/", headers={"X-Request-Id": "traced-1"})
    logging.getLogger("casecraft.test").warning("after the request")
    inside, after = [r for r in caplog.records if r.name == "casecraft.test"]
    assert getattr(inside, "request_id", None) == "traced-1"
    assert not hasattr(after, "request_id")


async def test_cors_is_off_by_default_and_on_for_configured_origins() -> None:
    preflight = {
        "Origin": "https://intranet.example.com",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type",
    }
    async with stack() as client:
        closed = await client.options("/v1/case-studies", headers=preflight)
        simple = await client.get("/healthz", headers={"Origin": "https://intranet.example.com"})
    assert "access-control-allow-origin" not in closed.headers
    assert "access-control-allow-origin" not in simple.headers
    async with stack(cors_allow_origins="https://intranet.example.com") as client:
        opened = await client.options("/v1/case-studies", headers=preflight)
        other = await client.options(
            "/v1/case-studies", headers={**preflight, "Origin": "https://evil.example"}
        )
    assert opened.status_code == 200
    assert opened.headers["access-control-allow-origin"] == "https://intranet.example.com"
    assert "access-control-allow-origin" not in other.headers
