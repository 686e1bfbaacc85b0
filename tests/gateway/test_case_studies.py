"""POST /v1/case-studies through real gRPC servers: the answer, early fan-out, regeneration."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import io
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager

from PIL import Image

from casecraft.v1 import case_study_pb2, image_pb2, image_pb2_grpc
from gateway.schemas import CaseStudyResponse
from tests.conftest import gateway_client, running_structurer, stack
from tests.support.jobs import serving_servicer
from tests.support.providers import ACME, RecordingImages, ScriptedStructurer, png


async def test_answer_holds_the_case_study_its_images_and_timings() -> None:
    images = RecordingImages()
    async with stack(ScriptedStructurer(), images) as client:
        response = await client.post("/v1/case-studies", json={"notes": "notes"})
        assert response.status_code == 200, response.text
        body = response.json()
        served = [await client.get(image["url"]) for image in body["images"]]
        again = await client.get(f"/v1/case-studies/{body['id']}")
    CaseStudyResponse.model_validate(body)  # the documented shape (OpenAPI) is the real one
    assert body["status"] == "done" and body["version"] == 1
    assert body["links"]["events"] == f"/v1/case-studies/{body['id']}/events"
    assert body["case_study"]["client_name"] == "Acme Freight"
    assert body["case_study"]["metrics"][0]["before_value"] == 94
    assert [i["component"] for i in body["images"]] == ["hero", "metrics", "timeline"]
    for image, got in zip(body["images"], served, strict=True):
        assert image["status"] == "ok" and "data_url" not in image
        assert image["url"] == f"/v1/images/{image['sha256']}"
        assert got.headers["content-type"] == "image/png"
        assert hashlib.sha256(got.content).hexdigest() == image["sha256"]
        assert Image.open(io.BytesIO(got.content)).size == (32, 16)
    assert again.json()["case_study"] == body["case_study"]
    assert again.json()["images"] == body["images"]
    assert body["usage"]["provider"] == "scripted"
    timings = body["timings"]
    names = {step["name"] for step in timings["steps"]}
    assert {
        "respond",
        "structure",
        "Structurer/StructureStream",
        "image.wait_for_slot hero",
        "image.generate hero",
        "image.generate metrics",
    } <= names
    assert {s["service"] for s in timings["steps"]} == {
        "gateway",
        "structurer_service",
        "image_service",
    }
    assert all(0 <= s["share"] <= 1.01 for s in timings["steps"])
    root = timings["steps"][0]
    assert root["name"] == "POST /v1/case-studies" and root["depth"] == 0
    assert abs(root["duration_ms"] - timings["total_ms"]) < 1.0


async def test_each_image_starts_as_soon_as_its_fields_are_ready() -> None:
    structurer = ScriptedStructurer(hold_after=1)  # pause after the headline group is complete
    images = RecordingImages()
    async with stack(structurer, images) as client:
        request = asyncio.create_task(client.post("/v1/case-studies", json={"notes": "n"}))
        first = await images.started.get()
        assert first.WhichOneof("data") == "hero"
        assert structurer.held.is_set() and not structurer.finished
        structurer.release.set()
        response = await request
    assert response.status_code == 200
    assert [j.WhichOneof("data") for j in images.jobs] == ["hero", "metrics", "timeline"]


class MessageLog(image_pb2_grpc.ImageGeneratorServicer):
    """An image service that records the jobs of each message it receives and answers each job."""

    def __init__(self) -> None:
        self.messages: list[list[str]] = []
        self.arrived: asyncio.Queue[list[str]] = asyncio.Queue()

    async def Generate(  # type: ignore[override]
        self, request_iterator: AsyncIterator[image_pb2.ImageJobs], context: object
    ) -> AsyncIterator[image_pb2.ImageResults]:
        async for message in request_iterator:
            self.messages.append([job.WhichOneof("data") or "" for job in message.jobs])
            self.arrived.put_nowait(self.messages[-1])
            for job in message.jobs:
                result = image_pb2.ImageResult(
                    job_id=job.job_id,
                    component=image_pb2.Component.Value(
                        f"COMPONENT_{job.WhichOneof('data')}".upper()
                    ),
                    status=image_pb2.IMAGE_STATUS_OK,
                    image=png(),
                    media_type="image/png",
                )
                yield image_pb2.ImageResults(results=[result])


def logged_images(log: MessageLog) -> AbstractAsyncContextManager[int]:
    return serving_servicer(image_pb2_grpc.add_ImageGeneratorServicer_to_server, log)


async def test_jobs_ready_together_go_in_one_message_and_a_job_ready_alone_goes_at_once() -> None:
    together, apart = MessageLog(), MessageLog()
    paused = ScriptedStructurer(hold_after=1)  # the headline group, then the rest at once
    async with running_structurer(ScriptedStructurer()) as instant, logged_images(together) as port:
        async with gateway_client(instant.port, port) as client:
            assert (await client.post("/v1/case-studies", json={"notes": "n"})).status_code == 200
    async with running_structurer(paused) as structurer, logged_images(apart) as port:
        async with gateway_client(structurer.port, port) as client:
            request = asyncio.create_task(client.post("/v1/case-studies", json={"notes": "n"}))
            await paused.held.wait()
            assert await apart.arrived.get() == ["hero"]  # sent while the structurer waits
            assert not paused.finished
            paused.release.set()
            assert (await request).status_code == 200
    assert together.messages == [["hero", "metrics", "timeline"]]
    assert apart.messages == [["hero"], ["metrics", "timeline"]]


async def test_gather_mode_starts_images_only_after_structuring() -> None:
    structurer = ScriptedStructurer(hold_after=1)
    images = RecordingImages()
    async with stack(structurer, images, early_fanout=False) as client:
        request = asyncio.create_task(client.post("/v1/case-studies", json={"notes": "n"}))
        await structurer.held.wait()
        assert images.started.empty()
        structurer.release.set()
        response = await request
    assert response.status_code == 200
    assert len(images.jobs) == 3 and structurer.finished


async def test_an_image_started_from_fields_that_changed_is_regenerated() -> None:
    final = case_study_pb2.CaseStudy()
    final.CopyFrom(ACME)
    final.title = "How Acme Freight cut dispatch time by two thirds"
    images = RecordingImages()
    async with stack(ScriptedStructurer(final=final), images) as client:
        response = await client.post("/v1/case-studies", json={"notes": "n"})
    assert response.status_code == 200
    heroes = [j for j in images.jobs if j.WhichOneof("data") == "hero"]
    assert [h.hero.title for h in heroes] == [ACME.title, final.title]
    assert [h.job_id for h in heroes] == ["hero", "hero#2"]
    assert response.json()["case_study"]["title"] == final.title
    assert sum(1 for i in response.json()["images"] if i["component"] == "hero") == 1


async def test_components_and_logo_are_honoured() -> None:
    images = RecordingImages()
    logo = png(8, 8, (255, 0, 255))
    body = {
        "notes": "n",
        "components": ["hero"],
        "logo": "data:image/png;base64," + base64.b64encode(logo).decode(),
        "options": {"fast": True},
    }
    async with stack(ScriptedStructurer(), images) as client:
        response = await client.post("/v1/case-studies", json=body)
    assert response.status_code == 200
    assert [i["component"] for i in response.json()["images"]] == ["hero"]
    (job,) = images.jobs
    assert job.reference_image == logo and job.reference_media_type == "image/png"
    assert job.options.fast


async def test_notes_without_metrics_or_phases_skip_those_images_and_say_why() -> None:
    sparse = case_study_pb2.CaseStudy(client_name="Quiet Co", title="A quiet engagement")
    images = RecordingImages()
    async with stack(ScriptedStructurer(sparse), images) as client:
        response = await client.post("/v1/case-studies", json={"notes": "n"})
    assert response.status_code == 200
    body = response.json()
    assert [i["component"] for i in body["images"]] == ["hero"]
    reasons = {s["component"]: s["reason"] for s in body["skipped"]}
    assert set(reasons) == {"metrics", "timeline"}
    assert "metrics" in reasons["metrics"] and "phases" in reasons["timeline"]
    assert [j.WhichOneof("data") for j in images.jobs] == ["hero"]


async def test_a_failed_image_is_reported_while_the_others_succeed() -> None:
    class HeroFails(RecordingImages):
        async def generate(self, job: image_pb2.ImageJob):  # type: ignore[no-untyped-def]
            if job.WhichOneof("data") == "hero":
                raise RuntimeError("hero provider is down")
            return await super().generate(job)

    async with stack(ScriptedStructurer(), HeroFails()) as client:
        response = await client.post("/v1/case-studies", json={"notes": "n"})
    assert response.status_code == 200
    by_component = {i["component"]: i for i in response.json()["images"]}
    assert by_component["hero"]["status"] == "failed"
    assert "hero provider is down" in by_component["hero"]["error"]
    assert by_component["metrics"]["status"] == "ok" and by_component["timeline"]["status"] == "ok"


async def test_a_field_longer_than_the_image_service_takes_is_shortened_not_refused() -> None:
    long = case_study_pb2.CaseStudy()
    long.CopyFrom(ACME)
    long.title = "T" * 5_000
    long.phases[0].description = "d" * 9_000
    long.phases.add(name="Rollout", period="Weeks 3-4", description="Went live.")
    images = RecordingImages()
    async with stack(ScriptedStructurer(long), images) as client:
        response = await client.post("/v1/case-studies", json={"notes": "notes"})

    assert response.status_code == 200, response.text
    body = response.json()
    assert [image["status"] for image in body["images"]] == ["ok", "ok", "ok"]
    assert body["case_study"]["title"] == long.title  # the answer keeps the whole field
    jobs = {job.WhichOneof("data"): job for job in images.jobs}
    assert jobs["hero"].hero.title == "T" * 399 + "…"
    assert jobs["timeline"].timeline.phases[0].description == "d" * 1_999 + "…"
    assert jobs["timeline"].timeline.phases[1].description == long.phases[1].description
