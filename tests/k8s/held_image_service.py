"""The image service as `python -m image_service` runs it, with a provider that holds each job.

Test-only. Each job announces itself with a JSON line {"event": "job_held"} on stdout, then waits
until the process gets SIGUSR1, so a test can keep a request in flight for as long as it needs
without any sleep in the product or the test.
"""

from __future__ import annotations

import asyncio
import json
import signal

from casecraft.grpc_server import serve_until_signalled
from casecraft.jsonlog import configure_logging
from casecraft.v1 import image_pb2
from image_service.providers import GeneratedImage
from image_service.server import start
from image_service.servicer import SERVICE
from image_service.settings import ImageSettings

PNG = b"\x89PNG\r\n\x1a\n" + b"held"


class HeldProvider:
    name = "held"

    def __init__(self) -> None:
        self.release = asyncio.Event()

    async def generate(self, job: image_pb2.ImageJob) -> GeneratedImage:
        print(json.dumps({"event": "job_held", "job_id": job.job_id}), flush=True)
        await self.release.wait()
        return GeneratedImage(PNG, "image/png", 1, 1, "held")


async def main() -> None:
    settings = ImageSettings()
    configure_logging(SERVICE, settings.log_level)
    provider = HeldProvider()
    asyncio.get_running_loop().add_signal_handler(signal.SIGUSR1, provider.release.set)
    running = await start(settings, provider=provider)
    await serve_until_signalled(running, SERVICE)


if __name__ == "__main__":
    asyncio.run(main())
