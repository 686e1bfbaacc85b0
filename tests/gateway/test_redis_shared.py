"""Several gateways on one Redis: a job started on one is read, streamed and resumed on another;
a gateway killed mid-job is noticed through its lease; Redis lost and back during a run (a
redis-server of the test's own); Redis missing at start."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable

import httpx
import pytest

from gateway.jobrunner import STOPPED
from gateway.jobs import JobRecord, JobRequest
from gateway.redis_backend import connect
from gateway.redis_stores import RedisEventLog, RedisJobStore, RedisLeases
from tests.conftest import REDIS_URL, running_images, running_structurer
from tests.fakes.server import closed_port
from tests.support.jobs import read_events, serving_gateway, wait_done
from tests.support.processes import STEP_S, Service
from tests.support.providers import RecordingImages, ScriptedStructurer
from tests.support.redis import private_redis

ASYNC = {"Prefer": "respond-async"}
LEASE_S = 0.6


async def eventually(check: Callable[[], Awaitable[bool]], what: str) -> None:
    """Ask until ``check`` holds (for what another process does on its own schedule)."""
    async with asyncio.timeout(STEP_S):
        while not await check():  # noqa: ASYNC110 (nothing here to await: it is another's)
            await asyncio.sleep(0.05)
    assert await check(), what


async def test_a_job_started_on_one_gateway_is_read_streamed_and_resumed_on_another(
    redis_prefix: str,
) -> None:
    structurer = ScriptedStructurer(hold_after=1)
    shared = {"redis_url": REDIS_URL, "redis_prefix": redis_prefix}
    async with (
        running_structurer(structurer) as s,
        running_images(RecordingImages()) as i,
        serving_gateway(s.port, i.port, **shared) as one,
        serving_gateway(s.port, i.port, **shared) as two,
    ):
        key = {"Idempotency-Key": "shared-7", **ASYNC}
        started = await one.post("/v1/case-studies", json={"notes": "n"}, headers=key)
        job_id = started.json()["id"]
        again = await two.post("/v1/case-studies", json={"notes": "n"}, headers=key)
        await structurer.held.wait()
        read_on_two = await two.get(f"/v1/case-studies/{job_id}")
        url = f"/v1/case-studies/{job_id}/events"
        first = await read_events(two, url, stop_after="field_group")  # then it disconnects
        structurer.release.set()
        rest = await read_events(two, url, last_event_id=str(first[-1].id))
        whole_on_two = await wait_done(two, job_id)
        whole_on_one = await wait_done(one, job_id)
        answer_on_one = (await one.get(f"/v1/case-studies/{job_id}")).json()
        answer_on_two = (await two.get(f"/v1/case-studies/{job_id}")).json()
        image = await two.get(answer_on_one["images"][0]["url"])

    assert again.json()["id"] == job_id  # the key is shared too
    assert read_on_two.status_code == 200 and read_on_two.json()["status"] != "done"
    assert first[-1].data["group"] == "headline"
    assert first + rest == whole_on_two == whole_on_one
    assert [e.id for e in whole_on_two] == list(range(1, len(whole_on_two) + 1))
    assert whole_on_two[-1].type == "done"
    assert answer_on_two == answer_on_one and answer_on_two["status"] == "done"
    assert image.status_code == 200 and image.headers["content-type"] == "image/png"


async def test_a_delete_on_another_gateway_stops_the_work_where_it_runs(
    redis_prefix: str,
) -> None:
    structurer = ScriptedStructurer(hold_after=1)
    shared = {"redis_url": REDIS_URL, "redis_prefix": redis_prefix, "job_lease_s": LEASE_S}
    async with (
        running_structurer(structurer) as s,
        running_images(RecordingImages()) as i,
        serving_gateway(s.port, i.port, **shared) as running_it,
        serving_gateway(s.port, i.port, **shared) as other,
    ):
        started = await running_it.post("/v1/case-studies", json={"notes": "n"}, headers=ASYNC)
        job_id = started.json()["id"]
        await structurer.held.wait()
        deleted = await other.delete(f"/v1/case-studies/{job_id}")
        # The structuring call the first gateway was making was cancelled upstream.
        async with asyncio.timeout(STEP_S):
            await structurer.cancelled.wait()
        events = await wait_done(running_it, job_id)
        again = await other.delete(f"/v1/case-studies/{job_id}")

    assert deleted.status_code == 200 and deleted.json()["status"] == "cancelled"
    # One ending, told once: the gateway that ran the job recorded it.
    assert [e.type for e in events].count("cancelled") == 1
    assert events[-1].type == "cancelled"
    assert [e.id for e in events] == list(range(1, len(events) + 1))
    assert again.status_code == 409


async def test_a_gateway_killed_mid_job_is_noticed_by_another_through_its_lease(
    redis_prefix: str,
) -> None:
    structurer = ScriptedStructurer(hold_after=1)
    async with running_structurer(structurer) as s, running_images(RecordingImages()) as i:
        doomed = await Service.spawn(
            [sys.executable, "-m", "gateway"],
            {
                "CASECRAFT_GATEWAY_PORT": "0",
                "CASECRAFT_STRUCTURER_TARGET": f"127.0.0.1:{s.port}",
                "CASECRAFT_IMAGE_TARGET": f"127.0.0.1:{i.port}",
                "REDIS_URL": REDIS_URL,
                "CASECRAFT_REDIS_PREFIX": redis_prefix,
                "CASECRAFT_JOB_LEASE_S": str(LEASE_S),
            },
        )
        try:
            port = (await doomed.next_line(event="serving"))["port"]
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
                started = await client.post("/v1/case-studies", json={"notes": "n"}, headers=ASYNC)
            job_id = started.json()["id"]
            await structurer.held.wait()
            doomed.signal(signal.SIGKILL)
            assert await doomed.exit_code(within_s=STEP_S) == -signal.SIGKILL
        finally:
            await doomed.close()
        shared = {"redis_url": REDIS_URL, "redis_prefix": redis_prefix, "job_lease_s": LEASE_S}
        async with serving_gateway(s.port, i.port, **shared) as survivor:
            events = await wait_done(survivor, job_id)  # ends once the lapsed lease is noticed
            job = (await survivor.get(f"/v1/case-studies/{job_id}")).json()
        structurer.release.set()

    assert [e.type for e in events[-2:]] == ["status", "failed"]
    assert events[-2].data["status"] == "failed"
    problem = events[-1].data["problem"]
    assert problem["detail"] == STOPPED
    assert job["status"] == "failed" and job["problem"] == problem
    assert job["case_study"] == {}  # what the dead gateway had not saved is not invented


async def test_a_gateway_that_died_while_writing_an_ending_has_it_finished_by_another(
    redis_prefix: str,
) -> None:
    # What a gateway killed between a job's record and its ending's events leaves in Redis:
    # the record says failed, the events stop at the status, the lease will lapse.
    client = connect(REDIS_URL)
    try:
        now = time.time()
        job = JobRecord(
            id="half-told",
            created_at=now,
            expires_at=now + 60,
            request=JobRequest(notes="n", components=["hero"]),
        )
        jobs, log = RedisJobStore(client, redis_prefix), RedisEventLog(client, redis_prefix, 60)
        await RedisLeases(client, redis_prefix, LEASE_S).hold([job.id])
        await jobs.add(job)
        await log.append(job.id, "status", {"status": "queued"})
        job.status, job.finished_at = "failed", time.time()
        job.problem = {"type": "about:blank", "status": 503, "title": "Backend unavailable"}
        await jobs.save(job)
        await log.append(job.id, "status", {"status": "failed"})
    finally:
        await client.aclose()
    shared = {"redis_url": REDIS_URL, "redis_prefix": redis_prefix, "job_lease_s": LEASE_S}
    async with (
        running_structurer(ScriptedStructurer()) as s,
        running_images(RecordingImages()) as i,
        serving_gateway(s.port, i.port, **shared) as survivor,
    ):
        async with asyncio.timeout(STEP_S):
            events = await wait_done(survivor, job.id)  # ends once the ending is written
        again = await wait_done(survivor, job.id)

    assert [(e.id, e.type) for e in events] == [(1, "status"), (2, "status"), (3, "failed")]
    assert events[-1].data["problem"]["title"] == "Backend unavailable"
    assert again == events  # written once


async def test_redis_lost_mid_job_answers_503_and_everything_recovers_when_it_returns() -> None:
    structurer = ScriptedStructurer(hold_after=1)
    async with (
        private_redis() as own,
        running_structurer(structurer) as s,
        running_images(RecordingImages()) as i,
    ):
        settings = {"redis_url": own.url, "job_lease_s": LEASE_S}
        async with serving_gateway(s.port, i.port, **settings) as client:
            job_id = (
                await client.post("/v1/case-studies", json={"notes": "n"}, headers=ASYNC)
            ).json()["id"]
            await structurer.held.wait()
            await own.stop()
            refused = await client.post("/v1/case-studies", json={"notes": "n"}, headers=ASYNC)
            unknown = await client.get("/v1/case-studies/" + "0" * 32)
            not_ready = await client.get("/readyz")
            structurer.release.set()  # the job's next event cannot be written: it fails

            async def failed_here() -> bool:
                answer = await client.get(f"/v1/case-studies/{job_id}")
                return bool(answer.json()["status"] == "failed")

            await eventually(failed_here, "the job failed while Redis was away")
            await own.start()  # on the same port, empty (no persistence)

            async with serving_gateway(s.port, i.port, **settings) as other:

                async def written() -> bool:
                    answer = await other.get(f"/v1/case-studies/{job_id}")
                    return answer.status_code == 200

                await eventually(written, "the job's ending was written once Redis came back")
                job = (await other.get(f"/v1/case-studies/{job_id}")).json()
                events = await wait_done(other, job_id)
            ready = await client.get("/readyz")
            after = await client.post("/v1/case-studies", json={"notes": "n"})

    assert refused.status_code == 503 and unknown.status_code == 503
    for answer in (refused, unknown):
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.headers["retry-after"].isdecimal()
        assert answer.json()["backend"] == "redis" and "REDIS_URL" in answer.json()["detail"]
    assert not_ready.status_code == 503
    assert not_ready.json()["backends"]["redis"].startswith("UNREACHABLE")
    assert job["status"] == "failed" and job["problem"]["backend"] == "redis"
    assert events[-1].type == "failed" and events[-1].data["problem"] == job["problem"]
    assert ready.status_code == 200 and ready.json()["backends"]["redis"] == "SERVING"
    assert after.status_code == 200 and after.json()["status"] == "done"


@pytest.mark.parametrize("userinfo", ["", ":s3cret-pass@"])
def test_a_gateway_whose_redis_is_unreachable_stops_with_one_line(userinfo: str) -> None:
    url = f"redis://{userinfo}127.0.0.1:{closed_port()}/0"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("CASECRAFT_")},
        "REDIS_URL": url,
        "CASECRAFT_GATEWAY_PORT": "0",
    }
    done = subprocess.run(
        [sys.executable, "-m", "gateway"], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 1
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith("casecraft: cannot reach Redis at REDIS_URL=redis://")
    assert "s3cret" not in line and "Traceback" not in done.stderr
