"""A repeated request's images are asked of the image service's cache while the structurer works
(gateway/orchestrator.py, ``_ImageStream.expect``), and used only when the answer's data matches."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import httpx
import pytest

from casecraft.components import BY_NAME
from casecraft.v1 import case_study_pb2, image_pb2, image_pb2_grpc
from gateway import orchestrator
from gateway.backends import Backends
from gateway.settings import GatewaySettings
from tests.conftest import gateway_client, running_images, running_structurer
from tests.support.jobs import read_events, serving_servicer
from tests.support.providers import ACME, RecordingImages, ScriptedStructurer, png


class CachingImages(image_pb2_grpc.ImageGeneratorServicer):
    """An image service whose cache holds every image it has made (by its job's data), recording
    each message's jobs as (component, cache_only); ``forget()`` empties its cache."""

    def __init__(self) -> None:
        self.messages: list[list[tuple[str, bool]]] = []
        self.arrived: asyncio.Queue[list[tuple[str, bool]]] = asyncio.Queue()
        self.made: list[str] = []
        self.input_ended = asyncio.Event()
        # Set: messages are answered at once; cleared, the next is answered once it is set.
        self.answering = asyncio.Event()
        self.answering.set()
        self._cached: set[bytes] = set()

    def forget(self) -> None:
        self._cached.clear()

    async def Generate(  # type: ignore[override]
        self, request_iterator: AsyncIterator[image_pb2.ImageJobs], context: object
    ) -> AsyncIterator[image_pb2.ImageResults]:
        async for message in request_iterator:
            jobs = [(job.WhichOneof("data") or "", job.cache_only) for job in message.jobs]
            self.messages.append(jobs)
            self.arrived.put_nowait(jobs)
            await self.answering.wait()
            yield image_pb2.ImageResults(results=[self._answer(job) for job in message.jobs])
        self.input_ended.set()

    def _answer(self, job: image_pb2.ImageJob) -> image_pb2.ImageResult:
        name = job.WhichOneof("data") or ""
        data = getattr(job, name).SerializeToString(deterministic=True)
        result = image_pb2.ImageResult(job_id=job.job_id, component=BY_NAME[name].enum)
        if job.cache_only and data not in self._cached:
            result.status = image_pb2.IMAGE_STATUS_NOT_CACHED
            return result
        result.cache_hit = data in self._cached
        if not result.cache_hit:
            self.made.append(name)
            self._cached.add(data)
        result.status = image_pb2.IMAGE_STATUS_OK
        result.image, result.media_type = png(), "image/png"
        return result


@asynccontextmanager
async def served(
    images: CachingImages, structurer: ScriptedStructurer, **structurer_settings: object
) -> AsyncIterator[httpx.AsyncClient]:
    """A gateway in front of ``images`` and a real structurer service running ``structurer``."""
    async with (
        running_structurer(structurer, **structurer_settings) as running,
        caching_images(images) as port,
        gateway_client(running.port, port) as client,
    ):
        yield client


COMPONENTS = ["hero", "metrics", "timeline"]
EXPECTED = [[(name, True) for name in COMPONENTS]]


async def test_a_repeat_asks_the_cache_for_its_images_before_the_structurer_answers() -> None:
    images, structurer = CachingImages(), ScriptedStructurer()
    async with served(images, structurer, cache="off") as client:
        first = await client.post("/v1/case-studies", json={"notes": "n"})
        assert not any(only for message in images.messages for _, only in message)
        images.messages.clear()
        images.arrived = asyncio.Queue()
        structurer.hold_after = 1  # the repeat's structuring waits after its first group
        structurer.release.clear()
        structurer.finished = False
        repeat = asyncio.create_task(client.post("/v1/case-studies", json={"notes": "n"}))
        asked = await images.arrived.get()
        assert not structurer.finished  # it cannot finish until released below
        await structurer.held.wait()
        structurer.release.set()
        answer = (await repeat).json()
    assert first.status_code == 200 and asked == EXPECTED[0]
    assert images.messages == EXPECTED  # nothing more was sent: every image came from the cache
    assert images.made == COMPONENTS  # once each, by the first request
    assert [(i["component"], i["status"], i["cache_hit"]) for i in answer["images"]] == [
        (name, "ok", True) for name in COMPONENTS
    ]


async def test_expected_images_the_cache_no_longer_has_are_made_once_the_answer_is_in() -> None:
    images = CachingImages()
    async with served(images, ScriptedStructurer()) as client:
        await client.post("/v1/case-studies", json={"notes": "n"})
        images.forget()
        images.messages.clear()
        answer = (await client.post("/v1/case-studies", json={"notes": "n"})).json()
    assert images.messages[0] == EXPECTED[0]
    made_after = sorted(name for message in images.messages[1:] for name, _ in message)
    assert made_after == COMPONENTS
    assert not any(only for message in images.messages[1:] for _, only in message)
    assert images.made == COMPONENTS * 2
    assert [(i["status"], i["cache_hit"]) for i in answer["images"]] == [("ok", False)] * 3


async def test_an_expectation_the_answer_does_not_match_is_ignored_for_that_image() -> None:
    images = CachingImages()
    changed = case_study_pb2.CaseStudy()
    changed.CopyFrom(ACME)
    changed.title = "A different title"  # the hero's data changes; metrics and timeline do not
    structurer = ScriptedStructurer()
    async with served(images, structurer, cache="off") as client:
        await client.post("/v1/case-studies", json={"notes": "n"})
        images.messages.clear()
        structurer.case_study = structurer.final = changed
        answer = (await client.post("/v1/case-studies", json={"notes": "n"})).json()
    assert images.messages[0] == EXPECTED[0]
    assert [m for m in images.messages[1:]] == [[("hero", False)]]
    assert images.made == [*COMPONENTS, "hero"]
    assert answer["case_study"]["title"] == "A different title"
    by_component = {i["component"]: i for i in answer["images"]}
    assert not by_component["hero"]["cache_hit"]
    assert by_component["metrics"]["cache_hit"] and by_component["timeline"]["cache_hit"]


async def test_a_fresh_request_expects_nothing() -> None:
    images = CachingImages()
    async with served(images, ScriptedStructurer()) as client:
        await client.post("/v1/case-studies", json={"notes": "n"})
        images.messages.clear()
        fresh = {"notes": "n", "options": {"fresh": True}}
        assert (await client.post("/v1/case-studies", json=fresh)).status_code == 200
    assert not any(only for message in images.messages for _, only in message)


async def test_an_expected_image_is_announced_after_its_fields_in_the_events() -> None:
    images = CachingImages()
    async with served(images, ScriptedStructurer()) as client:
        await client.post("/v1/case-studies", json={"notes": "n"})
        started = await client.post(
            "/v1/case-studies", json={"notes": "n"}, headers={"Prefer": "respond-async"}
        )
        events = await read_events(client, f"/v1/case-studies/{started.json()['id']}/events")
    kinds = [(e.type, e.data.get("component") or e.data.get("group")) for e in events]
    for name, group in (("hero", "headline"), ("metrics", "metrics"), ("timeline", "phases")):
        assert kinds.index(("field_group", group)) < kinds.index(("image", name))
        assert kinds.count(("image", name)) == 1
    assert images.messages[-1] == EXPECTED[0]
    # A structuring cache hit's groups come without partials: each event still has its fields.
    groups = {e.data["group"]: e.data["fields"] for e in events if e.type == "field_group"}
    assert groups["headline"]["title"] == ACME.title and "metrics" not in groups["headline"]
    assert len(groups["metrics"]["metrics"]) == len(ACME.metrics)
    assert groups["narrative"]["challenge"] == ACME.challenge


@asynccontextmanager
async def backends_for(
    images_port: int, structurer: ScriptedStructurer, **structurer_settings: object
) -> AsyncIterator[Backends]:
    """The gateway's backends, wired to ``images_port`` and a structurer running ``structurer``."""
    async with running_structurer(structurer, **structurer_settings) as running:
        backends = Backends(
            GatewaySettings(
                structurer_target=f"127.0.0.1:{running.port}",
                image_target=f"127.0.0.1:{images_port}",
            )
        )
        try:
            yield backends
        finally:
            await backends.close()


def caching_images(images: CachingImages) -> AbstractAsyncContextManager[int]:
    return serving_servicer(image_pb2_grpc.add_ImageGeneratorServicer_to_server, images)


@pytest.mark.parametrize("expected", [ACME, None], ids=["expected", "not expected"])
async def test_the_outcome_waits_until_the_last_image_is_stored(
    expected: case_study_pb2.CaseStudy | None,
) -> None:
    """Every image in means stored and announced, not only answered: the job's answer is built
    from what the sink stored."""
    images, stored = CachingImages(), []
    last_entered, store_it = asyncio.Event(), asyncio.Event()

    async def sink(kind: str, payload: dict[str, Any]) -> None:
        if kind == "image_finished":
            if payload["component"] == "timeline":
                last_entered.set()
                await store_it.wait()  # a slow store: a photograph going into Redis
            stored.append(payload["component"])

    async with caching_images(images) as port, backends_for(port, ScriptedStructurer()) as backends:
        await orchestrator.run(backends, orchestrator.Plan(notes="n"))  # caches the images
        plan = orchestrator.Plan(notes="n", expected=expected)
        running = asyncio.create_task(orchestrator.run(backends, plan, sink))
        await last_entered.wait()
        # While the last image is being stored the outcome is not ready: were it, the job would
        # be answered without that image. (A bounded wait for something that must not happen.)
        done, _ = await asyncio.wait({running}, timeout=0.5)
        store_it.set()
        outcome = await running
    assert not done
    assert sorted(stored) == sorted(outcome.images) == COMPONENTS


async def test_an_expectation_replaced_before_its_answer_holds_nothing_open() -> None:
    """The streamed headline matches last time's, so the hero's expectation is taken up; the
    final answer's title differs, so a new hero job replaces it before the cache has answered.
    The call must still end as soon as every image is in, not at its deadline."""
    images = CachingImages()
    changed = case_study_pb2.CaseStudy()
    changed.CopyFrom(ACME)
    changed.title = "A title the final answer changed"
    structurer = ScriptedStructurer(ACME)

    async def sink(kind: str, payload: dict[str, Any]) -> None:
        if kind == "image_started" and payload["job_id"] == "hero#2":
            images.answering.set()  # the cache answers only once the hero job is replaced

    async with (
        caching_images(images) as port,
        backends_for(port, structurer, cache="off") as backends,
    ):
        await orchestrator.run(backends, orchestrator.Plan(notes="n"))
        structurer.final = changed
        images.answering.clear()
        plan = orchestrator.Plan(notes="n", expected=ACME, images_deadline_s=120)
        async with asyncio.timeout(30):  # the call's deadline is 120 s: a held call fails here
            outcome = await orchestrator.run(backends, plan, sink)
            await images.input_ended.wait()  # and the service sees the input end
    assert {name: r.status for name, r in outcome.images.items()} == {
        name: image_pb2.IMAGE_STATUS_OK for name in COMPONENTS
    }
    assert images.made[-1] == "hero"  # made anew for the changed title


async def test_a_regeneration_never_sends_a_cache_only_job_that_bypasses_the_cache() -> None:
    async with (
        running_images(RecordingImages()) as served,
        backends_for(served.port, ScriptedStructurer()) as backends,
    ):
        await orchestrator.run(backends, orchestrator.Plan(notes="n"))
        plan = orchestrator.Plan(notes="n", expected=ACME, regenerate=True)
        outcome = await orchestrator.run(backends, plan)
    assert [image_pb2.ImageStatus.Name(r.status) for r in outcome.images.values()] == [
        "IMAGE_STATUS_OK"
    ] * 3
