"""Bad input gets a 4xx problem+json that names the field and the fix; a down backend a 503."""

from __future__ import annotations

import asyncio
import base64
from typing import Any

import grpc
import pytest

from casecraft.errors import AllProvidersFailed
from casecraft.limits import MAX_LOGO_BYTES, MAX_NOTES_BYTES
from casecraft.v1 import image_pb2
from gateway import orchestrator
from gateway.rpc import Rpc
from tests.conftest import gateway_client, running_images, running_structurer, stack
from tests.fakes.server import closed_port
from tests.support.providers import RecordingImages, ScriptedStructurer, png


def data_url(media_type: str, data: bytes) -> str:
    return f"data:{media_type};base64,{base64.b64encode(data).decode()}"


BAD_BODIES: list[tuple[str, Any, int, str]] = [
    ("empty notes", {"notes": ""}, 422, "notes"),
    ("blank notes", {"notes": "  \n\t"}, 422, "notes"),
    ("notes too long", {"notes": "x" * (MAX_NOTES_BYTES + 1)}, 413, "notes"),
    ("notes missing", {}, 422, "notes"),
    ("notes not a string", {"notes": 42}, 422, "notes"),
    ("unknown field", {"notes": "n", "colour": "red"}, 422, "colour"),
    ("unknown component", {"notes": "n", "components": ["hero", "poster"]}, 422, "components[1]"),
    ("repeated component", {"notes": "n", "components": ["hero", "hero"]}, 422, "components"),
    ("no components", {"notes": "n", "components": []}, 422, "components"),
    ("components not a list", {"notes": "n", "components": "hero"}, 422, "components"),
    ("fast not a boolean", {"notes": "n", "options": {"fast": "yes"}}, 422, "options.fast"),
    ("logo not a data url", {"notes": "n", "logo": "https://example.com/logo.png"}, 422, "logo"),
    ("logo wrong type", {"notes": "n", "logo": data_url("image/gif", b"GIF89a")}, 422, "logo"),
    ("logo bad base64", {"notes": "n", "logo": "data:image/png;base64,@@@"}, 422, "logo"),
    ("logo not an image", {"notes": "n", "logo": data_url("image/png", b"hello")}, 422, "logo"),
    ("logo type mismatch", {"notes": "n", "logo": data_url("image/jpeg", png())}, 422, "logo"),
    (
        "logo too large",
        {"notes": "n", "logo": data_url("image/png", png() + b"\0" * MAX_LOGO_BYTES)},
        422,
        "logo",
    ),
    ("body a list", ["notes"], 422, "object"),
    (
        "logo too many pixels",
        {"notes": "n", "logo": data_url("image/png", png(5000, 4000))},
        422,
        "pixels",
    ),
]


@pytest.mark.parametrize(
    ("case", "body", "status", "names"), BAD_BODIES, ids=[c[0] for c in BAD_BODIES]
)
async def test_bad_bodies_get_a_problem_naming_the_field(
    case: str, body: Any, status: int, names: str
) -> None:
    images = RecordingImages()
    async with stack(ScriptedStructurer(), images) as client:
        response = await client.post("/v1/case-studies", json=body)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert (
        problem["status"] == status and problem["title"] and problem["type"].startswith("https://")
    )
    assert names in problem["detail"]
    assert " object at 0x" not in problem["detail"]  # no Python reprs: a person reads it
    assert not images.jobs


@pytest.mark.parametrize("raw", [b"{not json", b"", b"\xff\xfe"])
async def test_a_body_that_is_not_json_is_400(raw: bytes) -> None:
    async with stack(ScriptedStructurer(), RecordingImages()) as client:
        response = await client.post(
            "/v1/case-studies", content=raw, headers={"content-type": "application/json"}
        )
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert "JSON" in response.json()["detail"]


async def test_structurer_down_is_503_naming_it() -> None:
    async with running_images(RecordingImages()) as images:
        async with gateway_client(closed_port(), images.port) as client:
            response = await client.post("/v1/case-studies", json={"notes": "n"})
            ready = await client.get("/readyz")
    assert response.status_code == 503
    assert "structurer_service" in response.json()["detail"]
    assert ready.status_code == 503 and "structurer_service" in ready.json()["detail"]


class UnreachableProvider:
    name = "anthropic"

    async def structure(self, notes: str, *, fast: bool):  # type: ignore[no-untyped-def]
        raise AllProvidersFailed(["anthropic: connection to 127.0.0.1:9 failed (ConnectError)"])
        yield  # pragma: no cover


async def test_a_provider_down_is_named_as_the_provider_not_the_service() -> None:
    async with stack(structurer=UnreachableProvider()) as client:  # type: ignore[arg-type]
        response = await client.post("/v1/case-studies", json={"notes": "n"})
    assert response.status_code == 503
    problem = response.json()
    assert problem["title"] == "Provider unavailable" and problem["provider"] == "anthropic"
    assert problem["detail"].startswith(
        "structurer_service is running, but its provider anthropic failed (structuring failed: "
        "every provider failed: anthropic: connection to 127.0.0.1:9 failed (ConnectError))"
    )


async def test_image_service_down_keeps_the_case_study_and_fails_each_image_naming_it() -> None:
    async with running_structurer(ScriptedStructurer()) as structurer:
        async with gateway_client(structurer.port, closed_port()) as client:
            response = await client.post("/v1/case-studies", json={"notes": "n"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "done"
    assert body["case_study"]["client_name"] == "Acme Freight"  # what was paid for is kept
    assert [i["component"] for i in body["images"]] == ["hero", "metrics", "timeline"]
    for image in body["images"]:
        assert image["status"] == "failed" and image["url"] == ""
        assert "image_service is unavailable" in image["error"]


async def test_health_ready_and_openapi() -> None:
    async with stack(ScriptedStructurer(), RecordingImages()) as client:
        assert (await client.get("/healthz")).json() == {"status": "ok"}
        ready = await client.get("/readyz")
        spec = (await client.get("/openapi.json")).json()
    assert ready.status_code == 200
    assert ready.json()["backends"] == {"structurer_service": "SERVING", "image_service": "SERVING"}
    assert spec["openapi"].startswith("3.1")
    post = spec["paths"]["/v1/case-studies"]["post"]
    assert set(post["responses"]) >= {"200", "400", "422", "503"}
    request_schema = spec["components"]["schemas"]["CaseStudyRequest"]
    assert request_schema["required"] == ["notes"]


async def test_unknown_route_and_method() -> None:
    async with stack(ScriptedStructurer(), RecordingImages()) as client:
        missing = await client.get("/v1/nothing")
        wrong_method = await client.get("/v1/case-studies")
    assert missing.status_code == 404 and wrong_method.status_code == 405
    for response in (missing, wrong_method):
        assert response.headers["content-type"] == "application/problem+json"
    assert "POST" in wrong_method.json()["detail"]


class _EndedCall:
    """A Generate call that the image service's absence ended."""

    async def code(self) -> grpc.StatusCode:
        return grpc.StatusCode.UNAVAILABLE

    async def details(self) -> str:
        return "failed to connect to all addresses"

    async def trailing_metadata(self) -> grpc.aio.Metadata:
        return grpc.aio.Metadata()


async def test_an_image_fails_with_the_same_reason_whichever_side_of_the_call_saw_it_end() -> None:
    """The writer may find the call ended (InvalidStateError) before the reader gets its error:
    the images still fail naming the image service as unavailable, as the reader would."""
    events: list[tuple[str, dict[str, Any]]] = []

    async def sink(kind: str, payload: dict[str, Any]) -> None:
        events.append((kind, payload))

    stream = orchestrator._ImageStream(None, orchestrator.Plan(notes="n"), sink)  # type: ignore[arg-type]
    call = _EndedCall()
    stream._rpc = Rpc(call, call)  # type: ignore[arg-type]
    stream.assume_sent("hero", image_pb2.HeroData(title="t"))
    await stream._fail_unfinished(asyncio.InvalidStateError("RPC already finished"))
    [(kind, payload)] = events
    assert kind == "image_finished"
    assert payload["result"].status == image_pb2.IMAGE_STATUS_FAILED
    assert "image_service is unavailable (failed to connect to all addresses)" in (
        payload["result"].error
    )
