"""Correcting a finished case study: PATCH (merge patch) regenerates exactly the images whose
fields changed, one image can be made again, a section can be refined; and images lost to a
down image service are made once it is back."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from casecraft.components import NAMES
from image_service import server as image_server
from image_service.settings import ImageSettings
from structurer_service.providers.registry import build_chain, resilient
from structurer_service.settings import StructurerSettings
from tests.conftest import gateway_client, running_images, running_structurer
from tests.fakes.anthropic import FakeAnthropic
from tests.fakes.faults import leak
from tests.fakes.notes import NOTES
from tests.fakes.server import closed_port, serve
from tests.support.jobs import (
    RefiningStructurer,
    read_events,
    running_refining_structurer,
    served_stack,
    served_with_structurer,
    wait_done,
)
from tests.support.providers import RecordingImages, ScriptedStructurer

# The whole suite runs on the memory backend and on Redis.
pytestmark = pytest.mark.usefixtures("job_backend")

MERGE = {"content-type": "application/merge-patch+json"}


async def made(
    client: httpx.AsyncClient, images: RecordingImages, notes: str = "n"
) -> dict[str, Any]:
    """A finished case study, its images made (and recorded by ``images``)."""
    response = await client.post("/v1/case-studies", json={"notes": notes})
    assert response.status_code == 200, response.text
    images.jobs.clear()
    body: dict[str, Any] = response.json()
    return body


def by_component(answer: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {image["component"]: image for image in answer["images"]}


async def test_patch_regenerates_exactly_the_images_whose_fields_changed() -> None:
    images = RecordingImages()
    async with served_stack(ScriptedStructurer(), images) as client:
        before = await made(client, images)
        url = f"/v1/case-studies/{before['id']}"
        title = await client.patch(
            url, json={"case_study": {"title": "Acme, faster"}}, headers=MERGE
        )
        events = await wait_done(client, before["id"])
        after_title = (await client.get(url)).json()
        made_for_title = [job.WhichOneof("data") for job in images.jobs]

        images.jobs.clear()
        metrics = [{**before["case_study"]["metrics"][0], "after": "25 min", "after_value": 25}]
        await client.patch(url, json={"case_study": {"metrics": metrics}}, headers=MERGE)
        await wait_done(client, before["id"])
        made_for_metrics = [job.WhichOneof("data") for job in images.jobs]

        images.jobs.clear()
        prose = await client.patch(
            url, json={"case_study": {"challenge": "Slow.", "quote": None}}, headers=MERGE
        )
        await wait_done(client, before["id"])
        final = (await client.get(url)).json()

    assert title.status_code == 202 and title.json()["status"] == "rendering"
    assert made_for_title == ["hero"]
    assert images.jobs == [] and made_for_metrics == ["metrics"]
    assert prose.json()["version"] == 4
    change = next(e for e in reversed(events) if e.type == "case_study")
    assert change.data["version"] == 2 and change.data["changed"] == ["title"]
    assert change.data["case_study"]["title"] == "Acme, faster"
    assert after_title["case_study"]["title"] == "Acme, faster"
    old, new = by_component(before), by_component(after_title)
    assert new["hero"]["version"] == 2 and new["hero"]["sha256"]
    assert new["metrics"] == old["metrics"] and new["timeline"] == old["timeline"]
    assert final["case_study"]["challenge"] == "Slow."
    assert final["case_study"]["metrics"][0]["after"] == "25 min"
    assert [(c["version"], c["changed"], c["by"]) for c in final["changes"]] == [
        (2, ["title"], "patch"),
        (3, ["metrics"], "patch"),
        (4, ["challenge"], "patch"),
    ]


async def test_a_patch_that_is_not_a_merge_patch_or_not_valid_names_the_problem() -> None:
    images = RecordingImages()
    async with served_stack(ScriptedStructurer(), images) as client:
        url = f"/v1/case-studies/{(await made(client, images))['id']}"
        plain_json = await client.patch(url, json={"case_study": {"title": "t"}})
        unknown = await client.patch(url, json={"case_study": {"titel": "t"}}, headers=MERGE)
        top = await client.patch(url, json={"title": "t"}, headers=MERGE)
        wrong_type = await client.patch(url, json={"case_study": {"title": 5}}, headers=MERGE)
        bad_metric = await client.patch(
            url, json={"case_study": {"metrics": [{"label": 1}]}}, headers=MERGE
        )
        missing = await client.patch("/v1/case-studies/nope", json={}, headers=MERGE)
    assert plain_json.status_code == 415
    assert "merge-patch+json" in plain_json.json()["detail"]
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "case_study.titel"
    assert top.status_code == 422 and top.json()["errors"][0]["field"] == "title"
    assert wrong_type.status_code == 422 and "case_study.title" in wrong_type.json()["detail"]
    assert bad_metric.status_code == 422 and "case_study.metrics[0]" in bad_metric.json()["detail"]
    assert missing.status_code == 404
    assert images.jobs == []


async def test_a_patch_while_structuring_is_409() -> None:
    structurer = ScriptedStructurer(hold_after=1)
    async with served_stack(structurer, RecordingImages()) as client:
        started = await client.post(
            "/v1/case-studies", json={"notes": "n"}, headers={"Prefer": "respond-async"}
        )
        await structurer.held.wait()
        url = f"/v1/case-studies/{started.json()['id']}"
        conflict = await client.patch(url, json={"case_study": {"title": "t"}}, headers=MERGE)
        image = await client.post(f"{url}/images/hero")
        structurer.release.set()
        await wait_done(client, started.json()["id"])
    assert conflict.status_code == 409 and "structured" in conflict.json()["detail"]
    assert image.status_code == 409


async def test_one_image_gets_a_new_version_and_the_others_stay() -> None:
    images = RecordingImages()
    async with served_stack(ScriptedStructurer(), images) as client:
        before = await made(client, images)
        url = f"/v1/case-studies/{before['id']}"
        again = await client.post(f"{url}/images/timeline")
        await wait_done(client, before["id"])
        after = (await client.get(url)).json()
        unknown = await client.post(f"{url}/images/banner")
    assert again.status_code == 202
    assert [job.WhichOneof("data") for job in images.jobs] == ["timeline"]
    # A new version on purpose: made by the provider, not served from the generation cache.
    assert images.jobs[0].bypass_cache and not by_component(after)["timeline"]["cache_hit"]
    old, new = by_component(before), by_component(after)
    assert new["timeline"]["version"] == 2 and old["timeline"]["version"] == 1
    assert new["hero"] == old["hero"] and new["metrics"] == old["metrics"]
    assert after["version"] == 2 and after["changes"][-1]["by"] == "image"
    assert unknown.status_code == 404
    assert all(name in unknown.json()["detail"] for name in NAMES)


async def test_refine_rewrites_a_section_through_the_structurer_and_remakes_its_image() -> None:
    servicer = RefiningStructurer(ScriptedStructurer())
    images = RecordingImages()
    async with (
        running_refining_structurer(servicer) as structurer_port,
        served_with_structurer(structurer_port, images) as client,
    ):
        before = await made(client, images)
        url = f"/v1/case-studies/{before['id']}"
        refined = await client.post(
            f"{url}/refine", json={"section": "title", "instruction": "Shorter"}
        )
        events = await wait_done(client, before["id"])
        after = (await client.get(url)).json()
        bad_section = await client.post(
            f"{url}/refine", json={"section": "nope", "instruction": "x"}
        )
        no_instruction = await client.post(f"{url}/refine", json={"section": "title"})
    assert refined.status_code == 202, refined.text
    (request,) = [r for r in servicer.requests if r.section == "title"]
    assert request.notes == "n" and request.instruction == "Shorter"
    assert request.case_study.client_name == "Acme Freight"
    assert after["case_study"]["title"] == "Shorter: title"
    assert [job.WhichOneof("data") for job in images.jobs] == ["hero"]
    change = next(e for e in reversed(events) if e.type == "case_study")
    assert change.data["changed"] == ["title"] and change.data["version"] == 2
    assert after["changes"][-1] == {"version": 2, "changed": ["title"], "by": "refine"}
    assert bad_section.status_code == 400 and "challenge" in bad_section.json()["detail"]
    assert no_instruction.status_code == 422
    assert no_instruction.json()["errors"][0]["field"] == "instruction"


async def test_refine_with_only_the_local_provider_says_to_configure_an_llm_or_patch() -> None:
    servicer = RefiningStructurer(ScriptedStructurer(), llm=False)
    images = RecordingImages()
    async with (
        running_refining_structurer(servicer) as structurer_port,
        served_with_structurer(structurer_port, images) as client,
    ):
        job = await made(client, images)
        response = await client.post(
            f"/v1/case-studies/{job['id']}/refine",
            json={"section": "challenge", "instruction": "shorter"},
        )
        unchanged = (await client.get(f"/v1/case-studies/{job['id']}")).json()
    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    detail = response.json()["detail"]
    assert "LLM provider" in detail and "PATCH" in detail
    assert unchanged["version"] == 1


async def test_images_lost_to_a_down_image_service_are_made_once_it_is_back() -> None:
    port = closed_port()
    images = RecordingImages()
    async with (
        running_structurer(ScriptedStructurer()) as structurer,
        gateway_client(structurer.port, port) as client,
    ):
        first = await client.post("/v1/case-studies", json={"notes": "n"})
        assert first.status_code == 200
        assert {i["status"] for i in first.json()["images"]} == {"failed"}
        running = await image_server.start(ImageSettings(port=port, shutdown_grace_s=1), images)
        try:
            await until_ready(client)
            url = f"/v1/case-studies/{first.json()['id']}"
            for component in NAMES:
                assert (await client.post(f"{url}/images/{component}")).status_code == 202
                await wait_done_asgi(client, first.json()["id"])
            after = (await client.get(url)).json()
        finally:
            await running.stop(None)
    assert after["case_study"] == first.json()["case_study"]
    assert [(i["component"], i["status"], i["version"]) for i in after["images"]] == [
        ("hero", "ok", 2),
        ("metrics", "ok", 2),
        ("timeline", "ok", 2),
    ]


async def until_ready(client: httpx.AsyncClient) -> None:
    """Until the gateway's channel to the image service has reconnected (gRPC backs off after
    the refused connection, so there is no event to wait on: ask its readiness check)."""
    for _ in range(200):
        if (await client.get("/readyz")).status_code == 200:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the gateway never saw the image service again")


async def wait_done_asgi(client: httpx.AsyncClient, job_id: str) -> None:
    events = await read_events(client, f"/v1/case-studies/{job_id}/events")
    assert events[-1].type == "done"


async def test_refine_with_the_real_local_structurer_says_what_to_do_instead() -> None:
    images = RecordingImages()
    async with (
        running_structurer() as structurer,
        served_with_structurer(structurer.port, images) as client,
    ):
        answer = await client.post("/v1/case-studies", json={"notes": NOTES})
        refined = await client.post(
            f"/v1/case-studies/{answer.json()['id']}/refine",
            json={"section": "title", "instruction": "shorter"},
        )
    assert refined.status_code == 409
    assert "PATCH" in refined.json()["detail"] and "LLM provider" in refined.json()["detail"]


@asynccontextmanager
async def claude_stack(claude: FakeAnthropic) -> AsyncIterator[httpx.AsyncClient]:
    """The real structurer with the anthropic provider (the SDK against ``claude``), the image
    service and a gateway, in this process."""
    async with serve(claude.app) as base_url:
        settings = StructurerSettings(
            providers="anthropic",
            anthropic_api_key="sk-ant-test-key-0123456789abcdef",
            anthropic_base_url=base_url,
        )
        chain = resilient(build_chain(settings), settings)
        try:
            async with (
                running_structurer(chain) as structurer,
                running_images(RecordingImages()) as images,
                gateway_client(structurer.port, images.port) as client,
            ):
                yield client
        finally:
            await chain.aclose()


async def refined(client: httpx.AsyncClient, job_id: str, instruction: str) -> dict[str, Any]:
    """The job after its results were refined with ``instruction``."""
    url = f"/v1/case-studies/{job_id}"
    response = await client.post(
        f"{url}/refine", json={"section": "results", "instruction": instruction}
    )
    assert response.status_code == 202, response.text
    await wait_done(client, job_id)
    after: dict[str, Any] = (await client.get(url)).json()
    return after


async def test_refining_an_anonymized_job_keeps_it_anonymous_and_checks_its_figures() -> None:
    """The rewrite is asked to anonymise, a name the model keeps writing is replaced, a figure
    the notes do not hold is reported, and the job's answer says so."""
    claude = FakeAnthropic()
    async with claude_stack(claude) as client:
        first = await client.post(
            "/v1/case-studies", json={"notes": NOTES, "options": {"anonymize": True}}
        )
        claude.script(leak(), leak())
        after = await refined(
            client,
            first.json()["id"],
            "replace with: Northwind Logistics cut late deliveries by 412%.",
        )
    assert first.status_code == 200 and first.json()["anonymized"] is True
    assert "Northwind" not in after["case_study"]["results"]
    assert "412%" in after["case_study"]["results"]
    assert after["anonymized"] is False
    assert {"field": "results", "value": "412%"}.items() <= next(
        u for u in after["fidelity"]["untraced"] if u["field"] == "results"
    ).items()
    assert any("anonymize" in w and "results" in w for w in after["warnings"])
    assert after["changes"][-1]["by"] == "refine"


async def test_a_clean_refine_does_not_clear_names_replaced_before() -> None:
    """``anonymized: false`` says names were replaced mechanically and the fields are worth a
    look; a later rewrite of another field that names nobody does not take that back."""
    claude = FakeAnthropic()
    claude.script(leak(), leak())  # the structuring and its re-ask keep the client's name
    async with claude_stack(claude) as client:
        first = await client.post(
            "/v1/case-studies", json={"notes": NOTES, "options": {"anonymize": True}}
        )
        after = await refined(client, first.json()["id"], "replace with: Routes plan in 31 min.")
    assert first.json()["anonymized"] is False
    assert after["case_study"]["results"] == "Routes plan in 31 min."
    assert after["anonymized"] is False
