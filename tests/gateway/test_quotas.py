"""Quotas per key (requests per minute, case studies in flight) and the gateway's own ceiling."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import httpx

from casecraft.api_keys import key_line, new_key
from tests.conftest import REDIS_URL, gateway_client, running_images, running_structurer, stack
from tests.support.providers import ScriptedStructurer

NOTES = {"notes": "Client: Acme Freight. Dispatch time went from 94 min to 31 min."}


def redis_url() -> str:
    # Fails, not skips, when Redis is missing: the connection error names the URL.
    return REDIS_URL


def keys_file(folder: Path, quotas: str = "") -> tuple[Path, str, str]:
    name, key = f"team-{uuid.uuid4().hex[:8]}", new_key()
    path = folder / "keys"
    path.write_text(f"{key_line(name, key)} {quotas}\n")
    return path, name, key


async def test_requests_over_the_minute_quota_get_429_with_the_ratelimit_headers(
    tmp_path: Path,
) -> None:
    path, name, key = keys_file(tmp_path, "rpm=2")
    auth = {"Authorization": f"Bearer {key}"}
    async with stack(api_keys_file=path) as client:
        first = await client.get("/v1/case-studies/" + "0" * 32, headers=auth)
        second = await client.get("/v1/case-studies/" + "0" * 32, headers=auth)
        third = await client.post("/v1/case-studies", json=NOTES, headers=auth)
    assert first.headers["ratelimit-limit"] == "2"
    assert first.headers["ratelimit-remaining"] == "1"
    assert second.headers["ratelimit-remaining"] == "0"
    assert third.status_code == 429
    assert third.headers["content-type"] == "application/problem+json"
    assert 1 <= int(third.headers["retry-after"]) <= 60
    assert third.headers["ratelimit-remaining"] == "0"
    assert name in third.json()["detail"] and "2 requests a minute" in third.json()["detail"]


async def test_a_keys_case_studies_in_flight_are_capped(tmp_path: Path) -> None:
    path, _, key = keys_file(tmp_path, "in_flight=1")
    auth = {"Authorization": f"Bearer {key}"}
    structurer = ScriptedStructurer(hold_after=1)
    async with stack(structurer, api_keys_file=path) as client:
        first = asyncio.create_task(client.post("/v1/case-studies", json=NOTES, headers=auth))
        await structurer.held.wait()
        refused = await client.post("/v1/case-studies", json=NOTES, headers=auth)
        structurer.release.set()
        done = await first
        again = await client.post("/v1/case-studies", json=NOTES, headers=auth)
    assert refused.status_code == 429 and "1 case studies in flight" in refused.json()["detail"]
    assert refused.headers["retry-after"]
    assert done.status_code == 200 and again.status_code == 200


async def test_past_the_gateways_ceiling_new_work_is_refused_at_once_with_503() -> None:
    structurer = ScriptedStructurer(hold_after=1)
    async with stack(structurer, max_in_flight=1, max_queued=0) as client:
        first = asyncio.create_task(client.post("/v1/case-studies", json=NOTES))
        await structurer.held.wait()
        refused = await client.post("/v1/case-studies", json=NOTES)
        structurer.release.set()
        assert (await first).status_code == 200
    assert refused.status_code == 503
    assert refused.headers["retry-after"] == "2"
    assert "at its limit of 1; try again in 2 s" in refused.json()["detail"]


async def test_two_gateways_on_one_redis_share_a_keys_count(tmp_path: Path) -> None:
    path, _, key = keys_file(tmp_path, "rpm=2")
    auth = {"Authorization": f"Bearer {key}"}
    shared = {"api_keys_file": path, "quota_storage_url": redis_url()}
    async with running_structurer() as s, running_images() as i:
        async with (
            gateway_client(s.port, i.port, **shared) as one,
            gateway_client(s.port, i.port, **shared) as two,
        ):
            answers: list[httpx.Response] = [
                await one.get("/v1/case-studies/" + "0" * 32, headers=auth),
                await two.get("/v1/case-studies/" + "0" * 32, headers=auth),
                await one.get("/v1/case-studies/" + "0" * 32, headers=auth),
            ]
    assert [a.headers.get("ratelimit-remaining") for a in answers] == ["1", "0", "0"]
    assert answers[2].status_code == 429, "the second gateway's request counted on the first"
