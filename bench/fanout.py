"""17 image jobs of varied length at concurrency 3: our sliding window against fixed chunks.

The jobs run through a real image service (gRPC on loopback) whose provider waits each job's
duration. Prints makespans and ratios; ``--json`` prints one JSON object instead.

    python -m bench.fanout [--scale 1.0] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import heapq
import json
import time

import grpc

from casecraft.v1 import image_pb2, image_pb2_grpc
from image_service.providers import GeneratedImage
from image_service.server import start
from image_service.settings import ImageSettings

# 17 jobs as durations in ms: a realistic spread, from short bullets to long charts.
DURATIONS_MS = [140, 60, 220, 90, 180, 40, 300, 120, 70, 260, 110, 150, 50, 200, 80, 130, 170]
CONCURRENCY = 3


class TimedProvider:
    """Stands in for a remote image model: each job takes the time its prompt names."""

    name = "timed"

    async def generate(self, job: image_pb2.ImageJob) -> GeneratedImage:
        await asyncio.sleep(float(job.prompt) / 1000)
        return GeneratedImage(b"\x89PNG", "image/png", 1, 1, "timed")


def list_schedule(durations: list[float], workers: int) -> float:
    """Makespan when each job, in order, starts on the first free worker (the window's optimum)."""
    free = [0.0] * workers
    for duration in durations:
        heapq.heappush(free, heapq.heappop(free) + duration)
    return max(free)


def chunked(durations: list[float], size: int) -> float:
    return sum(max(durations[i : i + size]) for i in range(0, len(durations), size))


def jobs(durations: list[float], prefix: str) -> list[image_pb2.ImageJobs]:
    """The jobs as a call's requests, one per message, as a gateway sends jobs ready one by one."""
    return [
        image_pb2.ImageJobs(
            jobs=[
                image_pb2.ImageJob(
                    job_id=f"{prefix}{n}", hero=image_pb2.HeroData(title=str(n)), prompt=f"{d:.3f}"
                )
            ]
        )
        for n, d in enumerate(durations)
    ]


async def run(scale: float) -> dict[str, float]:
    durations = [d * scale for d in DURATIONS_MS]
    settings = ImageSettings(port=0, concurrency=CONCURRENCY)
    server = await start(settings, TimedProvider())
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
            stub = image_pb2_grpc.ImageGeneratorStub(channel)
            [_ async for _ in stub.Generate(iter(jobs([1.0], "warm")))]
            began = time.perf_counter()
            window = [r async for m in stub.Generate(iter(jobs(durations, "w"))) for r in m.results]
            window_ms = (time.perf_counter() - began) * 1000
            began = time.perf_counter()
            for start_at in range(0, len(durations), CONCURRENCY):
                chunk = durations[start_at : start_at + CONCURRENCY]
                [_ async for _ in stub.Generate(iter(jobs(chunk, f"c{start_at}-")))]
            chunks_ms = (time.perf_counter() - began) * 1000
    finally:
        await server.server.stop(None)
    assert len(window) == len(durations)
    optimum = list_schedule(durations, CONCURRENCY)
    return {
        "jobs": len(durations),
        "concurrency": CONCURRENCY,
        "work_ms": sum(durations),
        "optimum_ms": optimum,
        "lower_bound_ms": max(sum(durations) / CONCURRENCY, max(durations)),
        "window_ms": window_ms,
        "chunks_ms": chunks_ms,
        "chunks_model_ms": chunked(durations, CONCURRENCY),
        "window_over_optimum": window_ms / optimum,
        "chunks_over_window": chunks_ms / window_ms,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every duration")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    figures = asyncio.run(run(args.scale))
    if args.json:
        print(json.dumps(figures))
        return
    print(
        f"{figures['jobs']} jobs, concurrency {figures['concurrency']}, {figures['work_ms']:.0f} ms of work"
    )
    print(f"{'schedule':<28}{'makespan ms':>12}")
    print(f"{'optimum for this order':<28}{figures['optimum_ms']:>12.1f}")
    print(f"{'sliding window (measured)':<28}{figures['window_ms']:>12.1f}")
    print(f"{'fixed chunks of 3 (measured)':<28}{figures['chunks_ms']:>12.1f}")
    print(f"{'fixed chunks of 3 (model)':<28}{figures['chunks_model_ms']:>12.1f}")
    print(f"window / optimum: {figures['window_over_optimum']:.3f}")
    print(f"chunks / window:  {figures['chunks_over_window']:.3f}")


if __name__ == "__main__":
    main()
