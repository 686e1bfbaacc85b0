"""A real stack served over HTTP on loopback, and Debian's Chromium driven by Playwright."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, async_playwright

from gateway.app import create_app
from gateway.settings import GatewaySettings
from image_service.providers import ImageProvider
from structurer_service.providers import StructurerProvider
from tests.conftest import running_images, running_structurer
from tests.fakes.server import serve


def chromium_path() -> str:
    """The system Chromium (never a browser download); CI installs Debian's package."""
    for candidate in (os.environ.get("CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium")):
        if candidate and Path(candidate).is_file():
            return candidate
    raise RuntimeError("Chromium is not installed: apt-get install -y chromium")


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=chromium_path())
        try:
            yield launched
        finally:
            await launched.close()


@asynccontextmanager
async def served_stack(
    structurer: StructurerProvider | None = None,
    images: ImageProvider | None = None,
    **gateway_settings: object,
) -> AsyncIterator[str]:
    """The three services in this process; the gateway over real HTTP. Yields its base URL."""
    async with running_structurer(structurer) as s, running_images(images) as i:
        app = create_app(
            GatewaySettings(
                structurer_target=f"127.0.0.1:{s.port}",
                image_target=f"127.0.0.1:{i.port}",
                **gateway_settings,  # type: ignore[arg-type]
            )
        )
        async with app.router.lifespan_context(app), serve(app) as base_url:
            yield base_url


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    """Where a test leaves its screenshots (look at them: they are what a person sees)."""
    folder = Path(os.environ.get("CASECRAFT_SCREENSHOTS", tmp_path))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


async def new_page(browser: Browser, width: int = 1280) -> Page:
    context = await browser.new_context(viewport={"width": width, "height": 900})
    return await context.new_page()
