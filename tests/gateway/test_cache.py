"""The caches as the HTTP API shows them: "cache" in the answer, each image's cache_hit, and
options.fresh; counted on the providers (a repeated request calls none)."""

from __future__ import annotations

from typing import Any

from tests.conftest import stack
from tests.support.providers import RecordingImages, ScriptedStructurer

NOTES = "Acme Freight cut dispatch time from 94 min to 31 min in ten weeks."


class CountingStructurer(ScriptedStructurer):
    """The scripted case study, counting the calls made to it."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def structure(self, notes: str, *, fast: bool) -> Any:
        self.calls += 1
        return super().structure(notes, fast=fast)


async def test_a_repeated_request_is_served_from_both_caches() -> None:
    structurer, images = CountingStructurer(), RecordingImages()
    async with stack(structurer, images) as client:
        first = (await client.post("/v1/case-studies", json={"notes": NOTES})).json()
        again = (await client.post("/v1/case-studies", json={"notes": NOTES})).json()
    assert (structurer.calls, len(images.jobs)) == (1, 3)
    assert first["cache"] == {"structuring": "miss"}
    assert again["cache"] == {"structuring": "hit"}
    assert [i["cache_hit"] for i in first["images"]] == [False] * 3
    assert [i["cache_hit"] for i in again["images"]] == [True] * 3
    assert again["case_study"] == first["case_study"]
    assert [i["sha256"] for i in again["images"]] == [i["sha256"] for i in first["images"]]


async def test_fresh_structures_the_notes_again() -> None:
    structurer = CountingStructurer()
    async with stack(structurer, RecordingImages()) as client:
        await client.post("/v1/case-studies", json={"notes": NOTES})
        fresh = await client.post(
            "/v1/case-studies", json={"notes": NOTES, "options": {"fresh": True}}
        )
        refused = await client.post(
            "/v1/case-studies", json={"notes": NOTES, "options": {"fresh": "yes"}}
        )
    assert fresh.status_code == 200 and fresh.json()["cache"] == {"structuring": "bypass"}
    assert structurer.calls == 2
    assert refused.status_code == 422 and "options.fresh" in refused.text
