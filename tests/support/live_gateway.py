"""A live gateway for schemathesis: the gateway and both services (local providers) on
127.0.0.1, uvicorn in a thread of its own; and schemathesis's own command
run against it (tests/fuzz/test_openapi_jobs.py, bench/openapi_fuzz.py)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import uvicorn

from gateway.app import create_app
from gateway.server import bind
from gateway.settings import GatewaySettings
from tests.conftest import running_images, running_structurer

ROOT = Path(__file__).resolve().parents[2]
NOTES = "Acme Freight: dispatch time 94 min -> 31 min over twelve weeks in three phases."
# The routes of a job (tests/gateway/test_openapi_conformance.py holds POST /v1/case-studies, the
# health routes and the document's top to it).
JOB_ROUTES = "^/v1/(case-studies/|images/)"


class LiveGateway:
    """The three services in a thread's event loop, the gateway on a real socket."""

    def __init__(self, **settings: object) -> None:
        self.url = ""
        self.job_id = ""
        self.image_sha256 = ""
        self._settings = settings
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="live-gateway", daemon=True)

    def __enter__(self) -> LiveGateway:
        self._thread.start()
        if not self._ready.wait(60) or self._error is not None:
            raise RuntimeError(f"the gateway did not start: {self._error!r}")
        return self

    def make_job(self, headers: dict[str, str] | None = None) -> None:
        """Make one case study (synchronously) for the fuzzer to name: ``job_id`` and the
        ``image_sha256`` of its first image."""
        done = httpx.post(
            f"{self.url}/v1/case-studies", json={"notes": NOTES}, headers=headers, timeout=60
        )
        assert done.status_code == 200, done.text
        self.job_id = done.json()["id"]
        self.image_sha256 = done.json()["images"][0]["sha256"]

    def __exit__(self, *exc: object) -> None:
        assert self._loop is not None and self._stop is not None
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(30)

    def _run(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as exc:  # reported to the test by __enter__
            self._error = exc
            self._ready.set()

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        async with running_structurer() as structurer, running_images() as images:
            settings = GatewaySettings(
                gateway_host="127.0.0.1",
                gateway_port=0,
                structurer_target=f"127.0.0.1:{structurer.port}",
                image_target=f"127.0.0.1:{images.port}",
                access_log=False,
                events_keepalive_s=0.5,
                **self._settings,  # type: ignore[arg-type]
            )
            sock = bind(settings)
            config = uvicorn.Config(create_app(settings), log_config=None, lifespan="on")
            server = uvicorn.Server(config)
            serving = asyncio.create_task(server.serve(sockets=[sock]))
            self.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
            self._ready.set()
            await self._stop.wait()
            server.should_exit = True
            await serving


def schemathesis_run(
    gateway: LiveGateway, *options: str, max_examples: int, cwd: Path
) -> subprocess.CompletedProcess[str]:
    """schemathesis's own command against ``gateway``: every operation of its document, the
    real job and image named by the hooks (tests/fuzz/openapi_hooks.py)."""
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "schemathesis.cli",
            "run",
            f"{gateway.url}/openapi.json",
            f"--max-examples={max_examples}",
            "--request-timeout=30",
            "--workers=1",
            "--seed=23",
            "--suppress-health-check=all",
            f"--include-path-regex={JOB_ROUTES}",
            # A request valid by the schema may still be refused for the job's state or content
            # (a section the structurer cannot refine, an image with nothing to draw, a patch
            # whose result is no case study): every other check stays on.
            # DELETE cancels a job; the job, cancelled, stays readable (docs/jobs.md).
            "--exclude-checks=positive_data_acceptance,use_after_free",
            *options,
        ],
        cwd=cwd,
        env={
            **os.environ,
            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
            "SCHEMATHESIS_HOOKS": "tests.fuzz.openapi_hooks",
            "CASECRAFT_FUZZ_JOB_ID": gateway.job_id,
            "CASECRAFT_FUZZ_IMAGE_SHA256": gateway.image_sha256,
        },
        capture_output=True,
        text=True,
        timeout=600,
    )
