"""options.accent_color and the logo's colour reach every image job; a bad colour is a 422."""

from __future__ import annotations

import base64

import pytest

from tests.conftest import stack
from tests.support.providers import RecordingImages, ScriptedStructurer, png


async def test_the_accent_asked_for_reaches_every_image_job() -> None:
    images = RecordingImages()
    body = {"notes": "n", "options": {"accent_color": "#0a7c66"}}
    async with stack(ScriptedStructurer(), images) as client:
        response = await client.post("/v1/case-studies", json=body)
    assert response.status_code == 200, response.text
    assert len(images.jobs) == 3
    assert {job.options.accent_color for job in images.jobs} == {"#0A7C66"}


async def test_without_an_accent_the_logo_colour_is_used_and_without_a_logo_none() -> None:
    logo = "data:image/png;base64," + base64.b64encode(png(8, 8, (200, 30, 60))).decode()
    images = RecordingImages()
    async with stack(ScriptedStructurer(), images) as client:
        assert (await client.post("/v1/case-studies", json={"notes": "n", "logo": logo})).is_success
        branded = list(images.jobs)
        images.jobs.clear()
        assert (await client.post("/v1/case-studies", json={"notes": "n"})).is_success
    assert {job.options.accent_color for job in branded} == {"#C81E3C"}
    assert {job.options.accent_color for job in images.jobs} == {""}


@pytest.mark.parametrize("accent", ["0A7C66", "#0A7C6", "#GGGGGG", "teal", 7])
async def test_an_accent_that_is_not_rrggbb_is_422_naming_the_field(accent: object) -> None:
    images = RecordingImages()
    body = {"notes": "n", "options": {"accent_color": accent}}
    async with stack(ScriptedStructurer(), images) as client:
        response = await client.post("/v1/case-studies", json=body)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert "options.accent_color" in response.json()["detail"]
    assert not images.jobs
