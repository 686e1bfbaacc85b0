"""The gateway's logs, from a real process: JSON lines only (no terminal colours, no uvicorn
color_message), and one access-log line per request unless CASECRAFT_ACCESS_LOG=false."""

from __future__ import annotations

import json
import signal
import sys
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.k8s.test_graceful_shutdown import STEP_S, Service


@pytest.fixture
async def services() -> AsyncIterator[list[Service]]:
    started: list[Service] = []
    yield started
    for service in started:
        await service.close()


async def logged_lines(services: list[Service], **env: str) -> tuple[list[str], str]:
    """Every stdout line of a gateway that answered two requests and was stopped, and the trace
    id its bad-input answer carried."""
    gateway = await Service.spawn(
        [sys.executable, "-m", "gateway"],
        {"CASECRAFT_GATEWAY_HOST": "127.0.0.1", "CASECRAFT_GATEWAY_PORT": "0", **env},
    )
    services.append(gateway)
    port = (await gateway.next_line(event="serving"))["port"]
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=STEP_S) as client:
        assert (await client.get("/healthz")).status_code == 200
        bad = await client.post("/v1/case-studies", json={"notes": ""})
        assert bad.status_code == 422
    gateway.signal(signal.SIGTERM)
    assert await gateway.exit_code(within_s=STEP_S) == 0, gateway.output()
    return list(gateway.tail), bad.headers["x-trace-id"]


def entries(lines: list[str]) -> list[dict[str, Any]]:
    parsed = [json.loads(line) for line in lines if line.strip()]
    assert all(isinstance(entry, dict) for entry in parsed)
    return parsed


async def test_one_json_access_line_per_request_and_no_terminal_colours(
    services: list[Service],
) -> None:
    lines, trace_id = await logged_lines(services)

    logged = entries(lines)  # every line is JSON
    assert not [line for line in lines if "\x1b" in line or "\\u001b" in line]
    assert not [entry for entry in logged if "color_message" in entry]
    assert [e for e in logged if e["logger"].startswith("uvicorn")], "uvicorn logged nothing"

    access = [entry for entry in logged if entry["logger"] == "gateway.access"]
    assert [(e["method"], e["path"], e["status"]) for e in access] == [
        ("GET", "/healthz", 200),
        ("POST", "/v1/case-studies", 422),
    ]
    assert all(isinstance(e["duration_ms"], float) and e["duration_ms"] >= 0 for e in access)
    # Probes stay out of traces; a traced request's line carries its trace id.
    assert "trace_id" not in access[0] and access[1]["trace_id"] == trace_id


async def test_the_access_log_can_be_switched_off(services: list[Service]) -> None:
    lines, _ = await logged_lines(services, CASECRAFT_ACCESS_LOG="false")
    logged = entries(lines)
    assert [e for e in logged if e["logger"].startswith("uvicorn")]
    assert not [entry for entry in logged if entry["logger"] == "gateway.access"]
