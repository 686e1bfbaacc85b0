"""A background job rides out a structurer that is restarting: it waits (bounded) for the
structurer to serve again instead of failing at once; a synchronous request does not wait."""

from __future__ import annotations

from structurer_service import server as structurer_server
from structurer_service.settings import StructurerSettings
from tests.conftest import running_images
from tests.fakes.server import closed_port
from tests.support.jobs import read_events, serving_gateway, wait_done
from tests.support.providers import RecordingImages, ScriptedStructurer

ASYNC = {"Prefer": "respond-async"}


async def test_a_background_job_waits_for_a_restarting_structurer_and_a_request_does_not() -> None:
    port = closed_port()  # the structurer is down: nothing listens here yet
    async with (
        running_images(RecordingImages()) as images,
        serving_gateway(port, images.port, gateway_backend_wait_s=60) as client,
    ):
        accepted = await client.post("/v1/case-studies", json={"notes": "n"}, headers=ASYNC)
        job_id = accepted.json()["id"]
        url = f"/v1/case-studies/{job_id}/events"
        seen = await read_events(client, url, stop_after="status")
        while seen[-1].data["status"] != "structuring":
            seen += await read_events(
                client, url, last_event_id=str(seen[-1].id), stop_after="status"
            )
        # Meanwhile a synchronous request is told at once that the structurer is down.
        sync = await client.post("/v1/case-studies", json={"notes": "n"})
        assert sync.status_code == 503 and sync.json()["backend"] == "structurer_service"
        assert (await client.get(f"/v1/case-studies/{job_id}")).json()["status"] == "structuring"

        structurer = await structurer_server.start(
            StructurerSettings(port=port, shutdown_grace_s=1), ScriptedStructurer()
        )
        try:
            events = await wait_done(client, job_id)
        finally:
            await structurer.stop(None)
    assert events[-1].type == "done"
    assert events[-1].data["case_study"]["client_name"] == "Acme Freight"


async def test_without_a_wait_a_background_job_fails_at_once_naming_the_structurer() -> None:
    async with (
        running_images(RecordingImages()) as images,
        serving_gateway(closed_port(), images.port, gateway_backend_wait_s=0) as client,
    ):
        accepted = await client.post("/v1/case-studies", json={"notes": "n"}, headers=ASYNC)
        events = await wait_done(client, accepted.json()["id"])
    assert events[-1].type == "failed"
    assert events[-1].data["problem"]["backend"] == "structurer_service"
