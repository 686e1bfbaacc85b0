"""What tracing costs per request, counted in instructions rather than timed.

This machine's speed drifts by more than the differences worth measuring, so this bench counts
instead: valgrind's callgrind counts the instructions a process executes, the same count for the
same work whatever else the machine does. The structurer, the image service and the gateway run in
one process (instant bench providers, the gateway app called through httpx's ASGI transport), once
with a warm-up only and once with ``--requests`` more; the difference over the requests is one
request's count. It does this with tracing off (OTEL_SDK_DISABLED), on without an exporter (every
span recorded for the timing report and the metrics), and on exporting every trace and the
metrics over OTLP/gRPC to bench/otlp_sink.py (callgrind counts every thread; the exporter's batches
left at exit are flushed, so every span's export is counted).

    python -m bench.instructions [--requests 200] [--providers instant|wire] [--json]

``--providers wire`` runs the production providers instead (anthropic and openai, against the
answers bench/wire_fakes.py replays in a process of its own, which callgrind does not count), with
10 warm-up requests; ``--requests 20`` is plenty there, each request being ~40 times the work.

Needs valgrind (Debian's package); takes about four minutes (wire, 20 requests: about fifteen).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
WARM_UP = {"instant": 100, "wire": 10}
MODES = ("off", "on", "exported")


async def _serve(requests: int, providers: str) -> None:
    """The three services in this process; the warm-up requests, then ``requests`` more. With
    "wire" providers each service builds its providers from the environment, as in production."""
    import httpx

    from bench.serve import TimedImages, TimedStructurer, example_notes
    from gateway.app import create_app
    from gateway.settings import GatewaySettings
    from image_service import server as image_server
    from image_service.settings import ImageSettings
    from structurer_service import server as structurer_server
    from structurer_service.settings import StructurerSettings

    wire = providers == "wire"
    structurer = await structurer_server.start(
        StructurerSettings(port=0, metrics_port=0), None if wire else TimedStructurer(0)
    )
    images = await image_server.start(
        ImageSettings(port=0, metrics_port=0, concurrency=1024),
        None if wire else TimedImages(0),  # type: ignore[arg-type]
    )
    app = create_app(
        GatewaySettings(
            structurer_target=f"127.0.0.1:{structurer.port}",
            image_target=f"127.0.0.1:{images.port}",
        )
    )
    notes = example_notes()
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
                for k in range(WARM_UP[providers] + requests):
                    response = await client.post(
                        "/v1/case-studies", json={"notes": notes[k % len(notes)]}
                    )
                    response.raise_for_status()
                    if wire:  # a provider that failed would be cheap work: count only whole ones
                        assert all(i["status"] == "ok" for i in response.json()["images"])
    finally:
        await structurer.server.stop(None)
        await images.server.stop(None)


def _count(requests: int, env: dict[str, str], providers: str = "instant") -> int:
    """Instructions of one whole process that serves the warm-up + ``requests`` requests."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "callgrind.out"
        subprocess.run(
            [
                "valgrind",
                "--tool=callgrind",
                f"--callgrind-out-file={out}",
                sys.executable,
                "-m",
                "bench.instructions",
                "--inner",
                str(requests),
                "--providers",
                providers,
            ],
            env={**os.environ, "PYTHONHASHSEED": "0", "PYTHONPATH": str(ROOT), **env},
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        totals = re.search(r"^totals:\s+(\d+)", out.read_text(), re.MULTILINE)
        assert totals, "callgrind wrote no totals"
        return int(totals.group(1))


def run(requests: int = 200, providers: str = "instant") -> dict[str, Any]:
    if shutil.which("valgrind") is None:
        raise SystemExit("bench.instructions needs valgrind (apt-get install valgrind)")
    from bench.serve import Fleet

    figures: dict[str, Any] = {"requests": requests, "providers": providers}
    with Fleet() as fleet:
        remote: dict[str, str] = {}
        if providers == "wire":
            remote = {
                **fleet.wire_fakes("providers"),
                "CASECRAFT_STRUCTURER_PROVIDERS": "anthropic",
                "CASECRAFT_IMAGE_PROVIDERS": "openai",
            }
        envs = {
            "off": {"OTEL_SDK_DISABLED": "true", **remote},
            "on": remote,
            "exported": {"OTEL_EXPORTER_OTLP_ENDPOINT": fleet.otlp_sink("otlp_sink"), **remote},
        }
        for mode in MODES:
            counts = [_count(n, envs[mode], providers) for n in (requests, 0)]
            per_request = (counts[0] - counts[1]) / requests
            figures[f"tracing_{mode}_minstr_per_request"] = round(per_request / 1e6, 3)
    off = figures["tracing_off_minstr_per_request"]
    for mode in ("on", "exported"):
        figures[f"tracing_{mode}_over_off"] = round(
            figures[f"tracing_{mode}_minstr_per_request"] / off, 3
        )
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--inner", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--providers", choices=["instant", "wire"], default="instant")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.inner is not None:
        import logging

        logging.disable(logging.CRITICAL)
        from casecraft import eventloop

        eventloop.run(_serve(args.inner, args.providers))
        return
    figures = run(args.requests, args.providers)
    if args.json:
        print(json.dumps(figures))
        return
    print(f"{'tracing':<8} {'M instructions / request':>26}")
    for mode in MODES:
        print(f"{mode:<8} {figures[f'tracing_{mode}_minstr_per_request']:>26.3f}")
    print(f"on / off: {figures['tracing_on_over_off']:.3f}")
    print(f"exported / off: {figures['tracing_exported_over_off']:.3f}")


if __name__ == "__main__":
    main()
