"""casecraft.request.duration: one point per HTTP request, taken from the request's span."""

from __future__ import annotations

import httpx
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from casecraft.telemetry import configure_tracing
from tests.conftest import stack
from tests.fakes.server import serve
from tests.support.providers import RecordingImages, ScriptedStructurer
from tests.support.spans import step_span

NOTES = "Harbor Freightways cut dispatch time from 94 to 31 minutes in twelve weeks."


async def _counts(client: httpx.AsyncClient) -> dict[tuple[str, str, str], float]:
    text = (await client.get("/metrics")).text
    families = {f.name: f for f in text_string_to_metric_families(text)}
    if "casecraft_request_duration_seconds" not in families:
        return {}  # no traced request has ended in this process yet
    return {
        (
            s.labels.get("http_request_method", ""),
            s.labels.get("http_response_status_code", ""),
            s.labels.get("casecraft_outcome", ""),
        ): s.value
        for s in families["casecraft_request_duration_seconds"].samples
        if s.name.endswith("_count")
    }


async def test_each_request_counts_once_by_method_status_and_outcome() -> None:
    async with stack(ScriptedStructurer(), RecordingImages()) as client:
        before = await _counts(client)
        assert (await client.post("/v1/case-studies", json={"notes": NOTES})).status_code == 200
        rejected = await client.post("/v1/case-studies", json={"notes": ""})
        assert rejected.status_code == 422
        await client.get("/healthz")  # probes stay out of traces, and so out of this metric
        after = await _counts(client)
    grown = {key: after[key] - before.get(key, 0.0) for key in after}
    assert {key: n for key, n in grown.items() if n} == {
        ("POST", "200", "ok"): 1.0,
        ("POST", "422", "rejected"): 1.0,
    }


async def test_a_provider_http_call_is_traced_but_adds_no_metric_of_its_own() -> None:
    """Provider calls are timed by gen_ai.client.operation.duration; the httpx
    instrumentation's per-call histogram would repeat it at a cost on every call."""
    configure_tracing("tests")
    app = Starlette(routes=[Route("/", lambda request: PlainTextResponse("ok"))])
    with step_span("image.generate") as spans:
        async with serve(app) as url, httpx.AsyncClient() as client:
            assert (await client.get(url)).status_code == 200
    assert [s.name for s in spans] == ["GET", "image.generate"]
    names = {f.name for f in text_string_to_metric_families(generate_latest().decode())}
    assert not [name for name in names if name.startswith("http_client")], names
