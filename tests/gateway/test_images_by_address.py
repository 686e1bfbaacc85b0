"""Images by address: served with their media type, ETag and an immutable Cache-Control;
answers carry URLs, and data URLs only with ?inline=true."""

from __future__ import annotations

import base64
import hashlib

import pytest

from gateway.schemas import CaseStudyResponse
from tests.conftest import stack
from tests.support.providers import RecordingImages, ScriptedStructurer, png

# The whole suite runs on the memory backend and on Redis.
pytestmark = pytest.mark.usefixtures("job_backend")


async def test_an_image_is_served_by_its_sha256_cacheable_forever() -> None:
    async with stack(ScriptedStructurer(), RecordingImages()) as client:
        answer = (await client.post("/v1/case-studies", json={"notes": "n"})).json()
        image = answer["images"][0]
        served = await client.get(image["url"])
        revalidated = await client.get(
            image["url"], headers={"If-None-Match": served.headers["etag"]}
        )
        unknown = await client.get("/v1/images/" + "0" * 64)
        not_an_address = await client.get("/v1/images/hero.png")
    assert served.status_code == 200 and served.content == png()
    assert served.headers["content-type"] == "image/png"
    assert served.headers["etag"] == f'"{hashlib.sha256(png()).hexdigest()}"'
    assert served.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert revalidated.status_code == 304 and revalidated.content == b""
    assert unknown.status_code == 404 and not_an_address.status_code == 404
    assert unknown.headers["content-type"] == "application/problem+json"


async def test_inline_true_puts_data_urls_in_the_answer_on_post_and_get() -> None:
    async with stack(ScriptedStructurer(), RecordingImages()) as client:
        posted = (await client.post("/v1/case-studies?inline=true", json={"notes": "n"})).json()
        got = (await client.get(f"/v1/case-studies/{posted['id']}?inline=true")).json()
        plain = (await client.get(f"/v1/case-studies/{posted['id']}")).json()
        wrong = await client.get(f"/v1/case-studies/{posted['id']}?inline=maybe")
    CaseStudyResponse.model_validate(posted)
    for answer in (posted, got):
        for image in answer["images"]:
            header, payload = image["data_url"].split(",", 1)
            assert header == "data:image/png;base64" and base64.b64decode(payload) == png()
            assert image["url"].endswith(image["sha256"])
    assert all("data_url" not in image for image in plain["images"])
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "inline"


async def test_the_openapi_document_states_the_job_routes() -> None:
    async with stack(ScriptedStructurer(), RecordingImages()) as client:
        spec = (await client.get("/openapi.json")).json()
    paths = spec["paths"]
    assert set(paths["/v1/case-studies/{id}"]) >= {"get", "delete", "patch"}
    assert (
        "application/merge-patch+json"
        in paths["/v1/case-studies/{id}"]["patch"]["requestBody"]["content"]
    )
    assert (
        "text/event-stream"
        in paths["/v1/case-studies/{id}/events"]["get"]["responses"]["200"]["content"]
    )
    assert "202" in paths["/v1/case-studies"]["post"]["responses"]
    assert {
        "/v1/case-studies/{id}/refine",
        "/v1/case-studies/{id}/images/{component}",
        "/v1/images/{sha256}",
    } <= set(paths)
    assert spec["components"]["schemas"]["RefineBody"]["required"] == ["section", "instruction"]
