"""Gateways and image services sharing one Redis against one of each keeping everything in memory.

Every service is its own process with instant providers (bench/serve.py), so what is measured is
the gateways, the image services and their stores. The image services' generation cache is on, as
it is by default. Three set-ups, one after another:

1. one gateway and one image service, everything in memory (the default);
2. the same two on Redis (the gateway's jobs, events and images; the image cache and its locks):
   the same requests, so the difference is what Redis adds;
3. two gateways and two image services on one Redis (each gateway with its own image service),
   the load spread over both gateways.

For each: latency one request at a time (p50, p99), and case studies per second with 50 in flight.
Then what one case study holds in Redis (``MEMORY USAGE`` of its keys), for the memory budget in
docs/redis.md. The bench's images are tiny; a real one adds its PNG's size.

    python -m bench.shared_redis [--sequential 200] [--throughput 2000] [--concurrency 50]
                                 [--redis redis://127.0.0.1:6379] [--json]

Uses the Redis at ``--redis`` (default REDIS_URL or 127.0.0.1:6379) under a key prefix of its own,
removed afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import time
import uuid
from typing import Any

import redis

from bench.load import post, session
from bench.measure import percentile
from bench.serve import Fleet, example_notes, forget_redis
from casecraft import eventloop

IMAGE_CONCURRENCY = 1024


async def drive(
    urls: list[str], sequential: int, throughput: int, concurrency: int
) -> dict[str, Any]:
    notes = example_notes()
    targets = itertools.cycle(urls)
    async with session(concurrency, timeout_s=60) as client:
        for url in urls:  # warm up every gateway
            for _ in range(20):
                await post(client, url, notes[0])
        one_at_a_time = [
            await post(client, next(targets), notes[k % len(notes)]) for k in range(sequential)
        ]
        latencies = [r for r in one_at_a_time if r is not None]
        remaining = iter(range(throughput))
        completed = 0

        async def worker() -> None:
            nonlocal completed
            for k in remaining:
                if await post(client, next(targets), notes[k % len(notes)]) is not None:
                    completed += 1

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        wall_s = time.perf_counter() - began
    return {
        "p50_ms": percentile(latencies, 50),
        "p99_ms": percentile(latencies, 99),
        "sequential_failed": sequential - len(latencies),
        "per_s": completed / wall_s,
        "throughput_failed": throughput - completed,
    }


def run_setup(
    gateways: int, redis_url: str | None, prefix: str, args: argparse.Namespace
) -> dict[str, Any]:
    shared = {
        "CASECRAFT_IMAGE_CACHE": "on",
        **({"REDIS_URL": redis_url, "CASECRAFT_IMAGE_REDIS_PREFIX": prefix} if redis_url else {}),
    }
    env = {"CASECRAFT_REDIS_PREFIX": prefix} if redis_url else {}
    # The byte and job limits are the memory store's guard; here every job is kept.
    env |= {"CASECRAFT_MAX_JOBS": "1000000", "CASECRAFT_ACCESS_LOG": "false"}
    with Fleet(shared) as fleet:
        structurer = fleet.structurer("structurer", llm_ms=0)
        urls = []
        for n in range(gateways):
            images = fleet.images(f"images{n}", image_ms=0, concurrency=IMAGE_CONCURRENCY)
            urls.append(fleet.gateway(f"gateway{n}", structurer=structurer, images=images, env=env))
        return eventloop.run(drive(urls, args.sequential, args.throughput, args.concurrency))


def footprint(client: redis.Redis, prefix: str) -> dict[str, float]:
    """Bytes Redis holds per case study, by kind of key."""
    sums: dict[str, int] = {}
    counts: dict[str, int] = {}
    for key in client.scan_iter(match=f"{prefix}*", count=1000):
        kind = key.decode().removeprefix(prefix).partition(":")[0]
        sums[kind] = sums.get(kind, 0) + int(client.memory_usage(key, samples=0) or 0)
        counts[kind] = counts.get(kind, 0) + 1
    jobs = max(counts.get("job", 0), 1)
    return {
        "jobs_kept": counts.get("job", 0),
        "record_bytes_per_job": sums.get("job", 0) / jobs,
        "events_bytes_per_job": sums.get("events", 0) / jobs,
        "idem_lease_index_bytes_per_job": sum(
            sums.get(k, 0) for k in ("idem", "lease", "jobs", "finished", "sizes", "bytes")
        )
        / jobs,
        "image_bytes_each": sums.get("img", 0) / max(counts.get("img", 0), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sequential", type=int, default=200)
    parser.add_argument("--throughput", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--redis", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379"))
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    prefix = f"casecraft-bench:{uuid.uuid4().hex}:"
    client = redis.Redis.from_url(args.redis)
    try:
        figures = {
            "memory_1_gateway": run_setup(1, None, prefix, args),
            "redis_1_gateway": run_setup(1, args.redis, prefix + "one:", args),
            "redis_2_gateways": run_setup(2, args.redis, prefix + "two:", args),
            "redis_footprint": footprint(client, prefix + "two:"),
        }
    finally:
        client.close()
        forget_redis(args.redis, prefix)
    memory, one = figures["memory_1_gateway"], figures["redis_1_gateway"]
    figures["redis_added_p50_ms"] = one["p50_ms"] - memory["p50_ms"]
    figures["two_redis_over_one_memory_throughput"] = (
        figures["redis_2_gateways"]["per_s"] / memory["per_s"]
    )
    if args.json:
        print(json.dumps(figures))
        return
    print(f"{'set-up':<20}{'p50 ms':>9}{'p99 ms':>9}{'per s (50 in flight)':>22}{'failed':>8}")
    for name in ("memory_1_gateway", "redis_1_gateway", "redis_2_gateways"):
        f = figures[name]
        failed = f["sequential_failed"] + f["throughput_failed"]
        print(f"{name:<20}{f['p50_ms']:>9.2f}{f['p99_ms']:>9.2f}{f['per_s']:>22.1f}{failed:>8}")
    print(f"Redis adds per request (p50, one gateway): {figures['redis_added_p50_ms']:.2f} ms")
    ratio = figures["two_redis_over_one_memory_throughput"]
    print(f"two gateways on Redis / one in memory, throughput: {ratio:.2f}")
    print("Redis footprint:", json.dumps(figures["redis_footprint"]))


if __name__ == "__main__":
    main()
