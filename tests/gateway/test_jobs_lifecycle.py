"""A job's life: idempotent creation, cancellation reaching the providers, expiry, and the
memory limits (503 at the limit, finished jobs evicted oldest first)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from casecraft.components import ALL
from gateway.backends import Backends
from gateway.jobrunner import Jobs
from gateway.problems import Problem
from gateway.requests import CheckedRequest
from gateway.settings import GatewaySettings
from structurer_service.providers import Draft, Structured
from tests.conftest import running_images, running_structurer
from tests.support.jobs import read_events, served_stack, wait_done
from tests.support.providers import FailsAfterTheHeadline, RecordingImages, ScriptedStructurer

# The whole suite runs on the memory backend and on Redis.
pytestmark = pytest.mark.usefixtures("job_backend")

ASYNC = {"Prefer": "respond-async"}


class CountingStructurer(ScriptedStructurer):
    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.calls = 0

    async def structure(self, notes: str, *, fast: bool) -> AsyncIterator[Draft | Structured]:
        self.calls += 1
        async for step in super().structure(notes, fast=fast):
            yield step


async def test_the_same_idempotency_key_and_body_return_the_same_job_without_structuring_again() -> (
    None
):
    structurer = CountingStructurer()
    async with served_stack(structurer, RecordingImages()) as client:
        key = {"Idempotency-Key": "order-7", **ASYNC}
        first = await client.post("/v1/case-studies", json={"notes": "n"}, headers=key)
        again = await client.post("/v1/case-studies", json={"notes": "n"}, headers=key)
        await wait_done(client, first.json()["id"])
        # a synchronous retry of the same request answers the job's result
        sync = await client.post(
            "/v1/case-studies", json={"notes": "n"}, headers={"Idempotency-Key": "order-7"}
        )
        other_body = await client.post("/v1/case-studies", json={"notes": "m"}, headers=key)
        too_long = await client.post(
            "/v1/case-studies", json={"notes": "n"}, headers={"Idempotency-Key": "k" * 256}
        )
    assert first.status_code == again.status_code == 202
    assert again.json()["id"] == first.json()["id"]
    assert sync.status_code == 200 and sync.json()["id"] == first.json()["id"]
    assert structurer.calls == 1
    assert other_body.status_code == 422
    assert "different body" in other_body.json()["detail"]
    assert other_body.json()["errors"][0]["field"] == "Idempotency-Key"
    assert too_long.status_code == 422 and "255" in too_long.json()["detail"]


async def test_delete_cancels_structuring_and_images_upstream_and_a_finished_job_is_409() -> None:
    structurer = ScriptedStructurer(hold_after=1)
    images = RecordingImages(hold=True)
    async with served_stack(structurer, images) as client:
        job_id = (await client.post("/v1/case-studies", json={"notes": "n"}, headers=ASYNC)).json()[
            "id"
        ]
        await structurer.held.wait()
        await images.started.get()  # the hero is being made while the structurer waits
        cancelled = await client.delete(f"/v1/case-studies/{job_id}")
        await structurer.cancelled.wait()
        await images.cancelled.wait()
        again = await client.delete(f"/v1/case-studies/{job_id}")
        patch = await client.patch(
            f"/v1/case-studies/{job_id}",
            json={"case_study": {"title": "t"}},
            headers={"content-type": "application/merge-patch+json"},
        )
        events = await read_events(client, f"/v1/case-studies/{job_id}/events")
        unknown = await client.delete("/v1/case-studies/nope")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    # what it had is kept: the headline fields had arrived
    assert cancelled.json()["case_study"]["client_name"] == "Acme Freight"
    assert not structurer.finished
    assert again.status_code == 409 and "cancelled" in again.json()["detail"]
    assert patch.status_code == 409
    assert [e.type for e in events[-2:]] == ["status", "cancelled"]
    assert unknown.status_code == 404


class HoldsSlowNotes(ScriptedStructurer):
    """Holds after the headline group only for notes that say "slow"."""

    async def structure(self, notes: str, *, fast: bool) -> AsyncIterator[Draft | Structured]:
        self.hold_after = 1 if notes == "slow" else None
        async for step in super().structure(notes, fast=fast):
            yield step


async def test_at_the_job_limit_new_jobs_get_503_and_finished_ones_are_evicted_oldest_first() -> (
    None
):
    structurer = HoldsSlowNotes()
    async with served_stack(structurer, RecordingImages(), max_jobs=2) as client:
        running = [
            await client.post("/v1/case-studies", json={"notes": "slow"}, headers=ASYNC)
            for _ in range(2)
        ]
        refused = await client.post("/v1/case-studies", json={"notes": "c"})
        structurer.release.set()
        for job in running:
            await wait_done(client, job.json()["id"])
        # both finished: the one that finished first makes room for each new job
        finished = [
            (await client.post("/v1/case-studies", json={"notes": n})).json()["id"]
            for n in ("x", "y", "z")
        ]
        kept = [(await client.get(f"/v1/case-studies/{i}")).status_code for i in finished]
    assert refused.status_code == 503
    assert refused.headers["retry-after"].isdecimal()
    assert "CASECRAFT_MAX_JOBS" in refused.json()["detail"]
    assert kept == [404, 200, 200]


async def test_at_the_byte_limit_finished_jobs_are_evicted() -> None:
    async with served_stack(ScriptedStructurer(), RecordingImages(), max_job_bytes=1) as client:
        first = (await client.post("/v1/case-studies", json={"notes": "a"})).json()
        second = (await client.post("/v1/case-studies", json={"notes": "b"})).json()
        gone = await client.get(f"/v1/case-studies/{first['id']}")
        kept = await client.get(f"/v1/case-studies/{second['id']}")
        image_of_second = await client.get(second["images"][0]["url"])
    assert gone.status_code == 404 and "expire" in gone.json()["detail"]
    assert kept.status_code == 200 and image_of_second.status_code == 200


async def test_a_job_expires_after_its_ttl() -> None:
    now = [1_000.0]
    structurer, images = ScriptedStructurer(), RecordingImages()
    async with running_structurer(structurer) as s, running_images(images) as i:
        settings = GatewaySettings(
            structurer_target=f"127.0.0.1:{s.port}",
            image_target=f"127.0.0.1:{i.port}",
            job_ttl_s=60,
        )
        backends = Backends(settings)
        jobs = Jobs(backends, settings, clock=lambda: now[0])
        try:
            request = CheckedRequest("notes", ALL, b"", "", False)
            job, task = await jobs.start(request, background=True)
            await asyncio.wait({task})
            now[0] += 59
            assert (await jobs.get(job.id)).status == "done"
            now[0] += 1
            try:
                await jobs.get(job.id)
                raise AssertionError("the job outlived its TTL")
            except Problem as problem:
                assert problem.status == 404
            assert jobs.store.count() == 0 and jobs.log.size_bytes() == 0
        finally:
            await jobs.close()
            await backends.close()


async def test_a_job_whose_structuring_fails_keeps_what_it_had_and_says_why() -> None:
    async with served_stack(FailsAfterTheHeadline(), RecordingImages()) as client:
        job_id = (await client.post("/v1/case-studies", json={"notes": "n"}, headers=ASYNC)).json()[
            "id"
        ]
        events = await wait_done(client, job_id)
        job = (await client.get(f"/v1/case-studies/{job_id}")).json()
        sync = await client.post("/v1/case-studies", json={"notes": "n"})
    assert [e.type for e in events][-2:] == ["status", "failed"]
    problem = events[-1].data["problem"]
    assert problem["status"] == 503 and "the model went away" in problem["detail"]
    assert job["status"] == "failed" and job["problem"] == problem
    assert job["case_study"]["client_name"] == "Acme Freight"  # the headline group had arrived
    assert sync.status_code == 503 and sync.json()["backend"] == "structurer_service"
