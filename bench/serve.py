"""Real service processes with bench-only providers, and a launcher for a fleet of them.

A bench process is the real structurer or image service (the same ``start`` and
``serve_until_signalled`` as in production) with a provider that keeps a schedule instead of
calling a model:

- the timed structurer writes a fixed case study at a steady token rate: the image fields (headline,
  metrics, phases) in the first third of ``--delay-ms``, the prose in the rest, the final answer at
  ``--delay-ms``; with 0 ms it is instant;
- the timed image provider waits ``--delay-ms`` and returns a small real PNG; 0 ms is instant.

    python -m bench.serve structurer --delay-ms 870
    python -m bench.serve images --delay-ms 140

Each prints the services' JSON "serving" line with its port. ``Fleet`` starts them, and gateways
(``python -m gateway``) in front of them, as child processes, the way production runs them.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import redis
from google.protobuf import json_format
from PIL import Image

from casecraft import eventloop
from casecraft.grpc_server import serve_until_signalled
from casecraft.jsonlog import configure_logging
from casecraft.launcher import START_TIMEOUT_S, Stack
from casecraft.v1 import case_study_pb2, image_pb2, structurer_pb2
from image_service import server as image_server
from image_service.providers import GeneratedImage
from image_service.settings import ImageSettings
from structurer_service import server as structurer_server
from structurer_service.providers import Draft, Structured
from structurer_service.settings import StructurerSettings

ROOT = Path(__file__).resolve().parent.parent
# The keys the replayed providers (bench/wire_fakes.py) expect: fakes' keys, never real ones.
ANTHROPIC_KEY = "sk-ant-fake-key-0000"
OPENAI_KEY = "sk-proj-fake-key-0000"
EXAMPLES = sorted((ROOT / "examples").glob("*.md"))

# Where each field group ends, as a share of the tokens the LLM writes: the image fields come first.
GROUP_ENDS = (("headline", 0.10), ("metrics", 0.20), ("phases", 0.30), ("narrative", 1.0))

CASE_STUDY = case_study_pb2.CaseStudy(
    client_name="Harbor Freightways",
    industry="Logistics",
    title="How Harbor Freightways cut dispatch time by 67%",
    subtitle="A live load board and auto-assignment across six terminals in twelve weeks",
    metrics=[
        case_study_pb2.Metric(
            label="Avg dispatch time",
            before="94 min",
            after="31 min",
            improvement="67% faster",
            before_value=94,
            after_value=31,
            unit="min",
            change_percent=-67.0,
            lower_is_better=True,
        ),
        case_study_pb2.Metric(
            label="Empty miles",
            before="18%",
            after="11%",
            improvement="7 points fewer",
            before_value=18,
            after_value=11,
            unit="%",
            change_percent=-38.9,
            lower_is_better=True,
        ),
        case_study_pb2.Metric(
            label="Missed pickup windows",
            before="62/week",
            after="9/week",
            improvement="85% fewer",
            before_value=62,
            after_value=9,
            unit="/week",
            change_percent=-85.5,
            lower_is_better=True,
        ),
    ],
    phases=[
        case_study_pb2.Phase(
            name="Discovery", period="Weeks 1-2", description="Shadowed 3 terminals."
        ),
        case_study_pb2.Phase(name="Build", period="Weeks 3-6", description="Load board and rules."),
        case_study_pb2.Phase(name="Pilot", period="Weeks 7-9", description="Dayton and Columbus."),
        case_study_pb2.Phase(name="Rollout", period="Weeks 10-12", description="Four terminals."),
    ],
    challenge="Dispatch ran on whiteboards and phone calls; every load was re-keyed by hand. " * 10,
    solution="A live load board fed from the TMS and auto-assignment for standard loads. " * 10,
    results="Dispatch is a queue everyone can see; the night shift runs on its own. " * 10,
    quote=case_study_pb2.Quote(
        text="We stopped firefighting and started planning.", author="M. Okafor", role="COO"
    ),
)
_FIELDS = json_format.MessageToDict(CASE_STUDY, preserving_proto_field_name=True)
_GROUP_OF = {
    "client_name": 0, "industry": 0, "title": 0, "subtitle": 0, "metrics": 1, "phases": 2,
    "challenge": 3, "solution": 3, "results": 3, "quote": 3,
}  # fmt: skip


async def case_study_answer(notes: str) -> dict[str, object]:
    """The tool input a fake model answers with, whatever the notes: ``CASE_STUDY`` as JSON."""
    return json_format.MessageToDict(CASE_STUDY, preserving_proto_field_name=True)


def draft_at(share: float) -> dict[str, object]:
    """The case study as written after ``share`` of the tokens: whole fields, then growing prose."""
    fields: dict[str, object] = {}
    for key, value in _FIELDS.items():
        group = _GROUP_OF[key]
        begins = GROUP_ENDS[group - 1][1] if group else 0.0
        if share <= begins:
            break
        if not isinstance(value, str):
            fields[key] = value
        else:
            written = (share - begins) / (GROUP_ENDS[group][1] - begins)
            fields[key] = value[: max(1, int(len(value) * written))]
    return fields


class TimedStructurer:
    """Writes ``CASE_STUDY`` in ``chunks`` drafts spread evenly over ``delay_ms``."""

    name = "bench-timed"

    def __init__(self, delay_ms: float, chunks: int = 30) -> None:
        self.delay_s = delay_ms / 1000
        self.chunks = chunks
        self._drafts = [draft_at(k / chunks) for k in range(1, chunks)]

    async def structure(self, notes: str, *, fast: bool) -> AsyncIterator[Draft | Structured]:
        loop = asyncio.get_running_loop()
        began = loop.time()
        for k, fields in enumerate(self._drafts, start=1):
            if self.delay_s:
                await asyncio.sleep(began + self.delay_s * k / self.chunks - loop.time())
            yield Draft(fields)
        if self.delay_s:
            await asyncio.sleep(began + self.delay_s - loop.time())
        usage = structurer_pb2.Usage(
            provider=self.name, model=f"timed-{self.delay_s * 1000:g}ms", attempts=1
        )
        yield Structured(CASE_STUDY, usage)


def small_png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 32), (30, 90, 200)).save(buffer, format="PNG")
    return buffer.getvalue()


class TimedImages:
    """Takes ``delay_ms`` per image, like a remote image model, and returns a small real PNG."""

    name = "bench-timed"

    def __init__(self, delay_ms: float) -> None:
        self.delay_s = delay_ms / 1000
        self.png = small_png()

    async def generate(self, job: image_pb2.ImageJob) -> GeneratedImage:
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        return GeneratedImage(self.png, "image/png", 64, 32, f"timed-{self.delay_s * 1000:g}ms")


async def serve(role: str, delay_ms: float, chunks: int) -> None:
    if role == "structurer":
        structurer_settings = StructurerSettings()
        configure_logging("structurer_service", structurer_settings.log_level)
        provider = TimedStructurer(delay_ms, chunks)
        running = await structurer_server.start(structurer_settings, provider)
        await serve_until_signalled(running, "structurer_service")
    else:
        image_settings = ImageSettings()
        configure_logging("image_service", image_settings.log_level)
        running = await image_server.start(image_settings, TimedImages(delay_ms))  # type: ignore[arg-type]
        await serve_until_signalled(running, "image_service")


class Fleet(Stack):
    """Bench services and gateways as child processes on loopback ports; stops them all on exit."""

    def __init__(self, env: dict[str, str] | None = None) -> None:
        env = {
            **os.environ,
            # The benches measure the work itself: a repeated request must not be a cache hit.
            # bench/cache.py measures the caches and turns them on.
            "CASECRAFT_STRUCTURER_CACHE": "off",
            "CASECRAFT_IMAGE_CACHE": "off",
            **(env or {}),
            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        }
        super().__init__(env=env)
        self.pids: dict[str, int] = {}

    def __enter__(self) -> Fleet:
        return self  # each bench starts the processes it needs

    def _bench(self, name: str, role: str, delay_ms: float, extra: dict[str, str]) -> int:
        env = {"CASECRAFT_BENCH_ROLE": role, "CASECRAFT_BENCH_DELAY_MS": str(delay_ms), **extra}
        port = self._spawn(name, "bench.serve", env)
        self.pids[name] = self.children[-1].process.pid
        return port

    def kill_and_restart(self, name: str, port_variable: str, port: int) -> float:
        """SIGKILL the named child (no drain, as a crash), start it again listening on ``port``
        (``port_variable`` names the setting) and wait until it serves; returns the seconds it
        was down."""
        child = next(child for child in self.children if child.name == name)
        assert child.process is not None
        began = time.monotonic()
        child.process.kill()
        child.process.wait()
        child.env = {**child.env, port_variable: str(port)}
        with self._lock:
            self._launch(child)
        child.port.result(timeout=START_TIMEOUT_S)
        assert child.process is not None
        self.pids[name] = child.process.pid
        return time.monotonic() - began

    def otlp_sink(self, name: str) -> str:
        """A loopback OTLP/gRPC receiver (bench/otlp_sink.py); processes started after it export
        their traces and metrics to it. Returns its endpoint."""
        port = self._spawn(name, "bench.otlp_sink", {})
        self.pids[name] = self.children[-1].process.pid
        endpoint = f"http://127.0.0.1:{port}"
        self._env["OTEL_EXPORTER_OTLP_ENDPOINT"] = endpoint
        return endpoint

    def structurer(self, name: str, *, llm_ms: float, chunks: int = 30) -> int:
        return self._bench(
            name,
            "structurer",
            llm_ms,
            {
                "CASECRAFT_BENCH_CHUNKS": str(chunks),
                "CASECRAFT_STRUCTURER_HOST": "127.0.0.1",
                "CASECRAFT_STRUCTURER_PORT": "0",
            },
        )

    def real_structurer(self, name: str, env: dict[str, str]) -> int:
        """The production structurer process with its configured providers (``env`` sets them)."""
        extra = {"CASECRAFT_STRUCTURER_HOST": "127.0.0.1", "CASECRAFT_STRUCTURER_PORT": "0", **env}
        port = self._spawn(name, "structurer_service", extra)
        self.pids[name] = self.children[-1].process.pid
        return port

    def wire_fakes(self, name: str) -> dict[str, str]:
        """Anthropic and OpenAI Images answers replayed on loopback (bench/wire_fakes.py); returns
        the environment that points the real providers at them."""
        port = self._spawn(name, "bench.wire_fakes", {})
        self.pids[name] = self.children[-1].process.pid
        base = f"http://127.0.0.1:{port}"
        return {
            "ANTHROPIC_BASE_URL": base,
            "ANTHROPIC_API_KEY": ANTHROPIC_KEY,
            "OPENAI_BASE_URL": f"{base}/v1",
            "OPENAI_API_KEY": OPENAI_KEY,
        }

    def real_images(self, name: str, env: dict[str, str]) -> int:
        """The production image service with its configured providers (``env`` sets them)."""
        extra = {"CASECRAFT_IMAGE_HOST": "127.0.0.1", "CASECRAFT_IMAGE_PORT": "0", **env}
        port = self._spawn(name, "image_service", extra)
        self.pids[name] = self.children[-1].process.pid
        return port

    def images(self, name: str, *, image_ms: float, concurrency: int = 3) -> int:
        return self._bench(
            name,
            "images",
            image_ms,
            {
                "CASECRAFT_IMAGE_HOST": "127.0.0.1",
                "CASECRAFT_IMAGE_PORT": "0",
                "CASECRAFT_IMAGE_CONCURRENCY": str(concurrency),
            },
        )

    def floor(self, sizes: list[int]) -> str:
        """Start bench/floor.py's three processes (messages of ``sizes``: the
        structurer's event, each image, the answer); returns the floor gateway's URL."""
        env = {"CASECRAFT_FLOOR_BYTES": ",".join(map(str, sizes))}
        structurer = self._spawn(
            "floor-structurer", "bench.floor", {**env, "CASECRAFT_FLOOR_ROLE": "structurer"}
        )
        images = self._spawn(
            "floor-images", "bench.floor", {**env, "CASECRAFT_FLOOR_ROLE": "images"}
        )
        port = self._spawn(
            "floor-gateway",
            "bench.floor",
            {
                **env,
                "CASECRAFT_FLOOR_ROLE": "gateway",
                "CASECRAFT_STRUCTURER_TARGET": f"127.0.0.1:{structurer}",
                "CASECRAFT_IMAGE_TARGET": f"127.0.0.1:{images}",
            },
        )
        return f"http://127.0.0.1:{port}"

    def gateway(
        self,
        name: str,
        *,
        structurer: int,
        images: int,
        early_fanout: bool = True,
        env: dict[str, str] | None = None,
    ) -> str:
        port = self._spawn(
            name,
            "gateway",
            {
                "CASECRAFT_GATEWAY_HOST": "127.0.0.1",
                "CASECRAFT_GATEWAY_PORT": "0",
                "CASECRAFT_STRUCTURER_TARGET": f"127.0.0.1:{structurer}",
                "CASECRAFT_IMAGE_TARGET": f"127.0.0.1:{images}",
                "CASECRAFT_EARLY_FANOUT": str(early_fanout).lower(),
                **(env or {}),
            },
        )
        self.pids[name] = self.children[-1].process.pid
        return f"http://127.0.0.1:{port}"


def forget_redis(url: str, prefix: str) -> None:
    """Delete the keys a bench run left in Redis under ``prefix`` (else they wait for their
    TTL)."""
    client = redis.Redis.from_url(url)
    try:
        keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
        for start in range(0, len(keys), 1000):
            client.delete(*keys[start : start + 1000])
    finally:
        client.close()


def example_notes() -> list[str]:
    """The local example notes, used as request bodies."""
    return [path.read_text(encoding="utf-8") for path in EXAMPLES] or [
        "Client: Acme. 94 -> 31 min."
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "role",
        nargs="?",
        choices=["structurer", "images"],
        default=os.environ.get("CASECRAFT_BENCH_ROLE"),
    )
    parser.add_argument(
        "--delay-ms", type=float, default=float(os.environ.get("CASECRAFT_BENCH_DELAY_MS", "0"))
    )
    parser.add_argument(
        "--chunks",
        type=int,
        default=int(os.environ.get("CASECRAFT_BENCH_CHUNKS", "30")),
        help="drafts the structurer streams (a steady token rate)",
    )
    args = parser.parse_args()
    if args.role is None:
        parser.error("name a role: structurer or images")
    try:
        eventloop.run(serve(args.role, args.delay_ms, args.chunks))
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
