"""The three services as separate processes, started the way `casecraft up` starts them."""

from __future__ import annotations

import io
import json
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from PIL import Image

from casecraft.launcher import Stack
from casecraft.outputs import write_outputs

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def gateway_url() -> Iterator[str]:
    with Stack() as stack:
        yield stack.gateway_url


def test_notes_in_over_http_case_study_and_three_pngs_out(gateway_url: str, tmp_path: Path) -> None:
    notes = (ROOT / "examples" / "logistics_dispatch.md").read_text()
    response = httpx.post(
        f"{gateway_url}/v1/case-studies?inline=true", json={"notes": notes}, timeout=60
    )
    assert response.status_code == 200, response.text
    answer = response.json()
    study = answer["case_study"]
    assert study["client_name"] and study["title"] and study["metrics"] and study["phases"]
    assert {i["component"]: i["status"] for i in answer["images"]} == {
        "hero": "ok",
        "metrics": "ok",
        "timeline": "ok",
    }
    written = write_outputs(answer, tmp_path)
    assert {p.name for p in written} == {
        "case_study.json",
        "hero.png",
        "metrics.png",
        "timeline.png",
        "index.html",
        "case_study.md",
        "case_study.pdf",
        "case_study.pptx",
        "card.png",
    }
    for name in ("hero.png", "metrics.png", "timeline.png"):
        with Image.open(tmp_path / name) as image:
            assert image.format == "PNG" and image.width >= 800
            assert len(image.convert("RGB").getcolors(1 << 20) or []) > 50
    page = (tmp_path / "index.html").read_text()
    assert study["client_name"].split()[0] in page and "hero.png" in page
    stored = json.loads((tmp_path / "case_study.json").read_text())
    assert all("data_url" not in image for image in stored["images"])
    services = {step["service"] for step in answer["timings"]["steps"]}
    assert services == {"gateway", "structurer_service", "image_service"}


def test_bad_input_over_http_is_a_problem(gateway_url: str) -> None:
    response = httpx.post(f"{gateway_url}/v1/case-studies", json={"notes": "  "}, timeout=30)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert httpx.get(f"{gateway_url}/readyz", timeout=10).status_code == 200


def test_casecraft_demo_writes_the_outputs(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = subprocess.run(
        [sys.executable, "-m", "casecraft.cli", "demo", "--out", str(out), "--accent", "#0A7C66"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Where the time went" in result.stdout
    for name in (
        "case_study.json",
        "hero.png",
        "metrics.png",
        "timeline.png",
        "index.html",
        "case_study.pdf",
        "case_study.pptx",
        "case_study.md",
        "card.png",
    ):
        assert (out / name).is_file(), name
    with Image.open(io.BytesIO((out / "metrics.png").read_bytes())) as image:
        assert image.size[0] >= 800
        colours = dict((c, n) for n, c in image.convert("RGB").getcolors(1 << 20) or [])
        assert colours.get((10, 124, 102), 0) > 1000  # the accent reached the image service
    assert "--accent:#0A7C66" in (out / "index.html").read_text()


def test_casecraft_up_prints_the_url_and_stops_cleanly_on_sigterm() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "casecraft.cli", "up", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        cwd=ROOT,
    )
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        assert httpx.get(f"{url}/readyz", timeout=10).status_code == 200
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()
