"""The image service never loads Claude's SDK (nor its HTTP client): shared code imports no
provider SDK."""

from __future__ import annotations

import subprocess
import sys

IMPORT_EVERYTHING = """
import sys
import image_service.server, image_service.servicer
import image_service.providers.registry as registry
from image_service.settings import ImageSettings
settings = ImageSettings(
    providers="openrouter,openai,local", openrouter_api_key="sk-or-x", openai_api_key="sk-x"
)
registry.resilient(registry.build_chain(settings), settings)
from casecraft.http_errors import error_from_exception
error_from_exception("openai", ValueError("classified as the image chain does"))
print(",".join(sorted(name for name in ("anthropic", "httpx2") if name in sys.modules)))
"""


def test_the_image_service_imports_no_anthropic_sdk() -> None:
    done = subprocess.run(
        [sys.executable, "-c", IMPORT_EVERYTHING],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert done.stdout.strip() == "", f"the image service loaded {done.stdout.strip()}"
