"""Load on the real stack: 1000 case studies in flight, and the cost of the gateway and both hops.

Every service is its own process (bench/serve.py), as is the gateway; this process is the load
client, sending only to 127.0.0.1 with aiohttp on uvloop, one keep-alive connection per request in
flight. A load client that shares the machine should take as little of it as it can, hence the
lightest well-kept client (docs/performance.md compares it with httpx). Two parts:

1. In flight: N case studies (default 1000) sent at once with production latencies (an 87 s LLM
   step streamed, then 14 s per image; ``--scale`` shrinks both). The image service's concurrency is raised to 1024,
   its maximum, so the image provider is not the bottleneck (early fan-out spreads each case study's
   three jobs over the LLM's first third). Reports whether all complete, p50/p99 against the ideal
   (the LLM step alone: nothing can finish before its structuring does), each process's peak RSS.
2. Instant providers (structurer and images answer at once): the latency the gateway and both hops
   add, one request at a time; case studies per second with 50 in flight; CPU ms per case study of
   each process (from /proc/<pid>/stat).

Prints a table; ``--json`` prints one JSON object.

    python -m bench.load [--inflight 1000] [--scale 1.0] [--sequential 300] [--throughput 3000]
                         [--tracing-cost [--sample-ratio 0.1] [--rounds 3]]
                         [--providers instant|wire] [--json]

``--providers wire`` runs part 2 with the production providers instead (the anthropic provider
and the openai image provider, official SDKs, stream folding and image checks included) against
answers the test fakes made once and bench/wire_fakes.py replays: the work a case study costs the
services when real models answer, without the cost of a model on the same machine.

``--inflight 0`` skips part 1. ``--tracing-cost`` runs the throughput four times more: tracing off
(OTEL_SDK_DISABLED=true), on without an exporter (every span recorded for the timing report and
the metrics), on with an OTLP exporter sending every trace to a loopback receiver
(bench/otlp_sink.py), and on exporting a share of the traces (``--sample-ratio``, default 0.1,
through OTEL_TRACES_SAMPLER=parentbased_traceidratio; every span is still recorded, for the
timing report). Each of ``--rounds`` rounds (default 3) runs every mode once, in reversed order
every other round, and works each cost out against its own round's tracing-off run; a figure is
the median over the rounds. It reports ``tracing_cost_ratio`` (1 - exported/off),
``tracing_recorded_cost_ratio``, ``tracing_sampled_cost_ratio``, and
``tracing_services_cpu_cost_ratio``: the share of the three services' own CPU per case study that
tracing with export takes (1 - off/exported), which the load client and the stand-ins for the
providers and the collector do not dilute.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import orjson

from bench.measure import cpu_seconds, peak_rss_mib, percentile
from bench.serve import Fleet, example_notes
from casecraft import eventloop

LLM_MS = 87_000.0
IMAGE_MS = 14_000.0
IMAGE_CONCURRENCY = 1024
JSON = {"content-type": "application/json"}
SERVICES = ("gateway", "structurer", "images")


async def post(session: aiohttp.ClientSession, url: str, notes: str) -> float | None:
    """One case study's latency in ms, or None unless it came back whole (200, three ok images)."""
    began = time.perf_counter()
    try:
        async with session.post(
            f"{url}/v1/case-studies", data=orjson.dumps({"notes": notes}), headers=JSON
        ) as response:
            body = await response.read()
    except (aiohttp.ClientError, TimeoutError):
        return None
    elapsed = (time.perf_counter() - began) * 1000
    if response.status != 200:
        return None
    images = orjson.loads(body)["images"]
    if len(images) != 3 or any(image["status"] != "ok" for image in images):
        return None
    return elapsed


@asynccontextmanager
async def session(connections: int, timeout_s: float) -> AsyncIterator[aiohttp.ClientSession]:
    """One client session of up to ``connections`` keep-alive connections."""
    connector = aiohttp.TCPConnector(limit=connections, limit_per_host=connections)
    timeout = aiohttp.ClientTimeout(total=timeout_s)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as client:
        yield client


async def in_flight(url: str, n: int, llm_ms: float) -> dict[str, Any]:
    notes = example_notes()
    async with session(n, timeout_s=llm_ms / 1000 * 3 + 60) as client:
        await post(client, url, notes[0])
        began = time.perf_counter()
        results = await asyncio.gather(
            *(post(client, url, notes[k % len(notes)]) for k in range(n))
        )
        wall_ms = (time.perf_counter() - began) * 1000
    latencies = [r for r in results if r is not None]
    return {
        "inflight_n": n,
        "inflight_completed": len(latencies),
        "inflight_all_completed": len(latencies) == n,
        "inflight_p50_ms": percentile(latencies, 50),
        "inflight_p99_ms": percentile(latencies, 99),
        "inflight_max_ms": max(latencies, default=float("nan")),
        "inflight_wall_ms": wall_ms,
    }


def run_in_flight(n: int, llm_ms: float, image_ms: float) -> dict[str, Any]:
    with Fleet() as fleet:
        structurer = fleet.structurer("structurer", llm_ms=llm_ms)
        images = fleet.images("images", image_ms=image_ms, concurrency=IMAGE_CONCURRENCY)
        url = fleet.gateway("gateway", structurer=structurer, images=images)
        figures = eventloop.run(in_flight(url, n, llm_ms))
        peaks = {name: peak_rss_mib(pid) for name, pid in fleet.pids.items()}
    figures["inflight_ideal_ms"] = llm_ms
    figures["inflight_p50_over_ideal"] = figures["inflight_p50_ms"] / llm_ms
    figures["inflight_p99_over_ideal"] = figures["inflight_p99_ms"] / llm_ms
    figures["peak_rss_mib"] = peaks
    return figures


async def instant(
    url: str, pids: dict[str, int], sequential: int, throughput: int, concurrency: int
) -> dict[str, Any]:
    notes = example_notes()
    async with session(concurrency, timeout_s=60) as client:
        floor = []
        for _ in range(50):  # warm up, and the HTTP round trip alone
            began = time.perf_counter()
            async with client.get(f"{url}/healthz") as health:
                await health.read()
                health.raise_for_status()
            floor.append((time.perf_counter() - began) * 1000)
            await post(client, url, notes[0])
        one_at_a_time = [await post(client, url, notes[k % len(notes)]) for k in range(sequential)]
        latencies = [r for r in one_at_a_time if r is not None]

        queue: asyncio.Queue[int] = asyncio.Queue()
        for k in range(throughput):
            queue.put_nowait(k)
        completed = 0

        async def worker() -> None:
            nonlocal completed
            while not queue.empty():
                k = queue.get_nowait()
                if await post(client, url, notes[k % len(notes)]) is not None:
                    completed += 1

        cpu_before = {name: cpu_seconds(pid) for name, pid in pids.items()}
        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        wall_s = time.perf_counter() - began
        cpu_after = {name: cpu_seconds(pid) for name, pid in pids.items()}
    cpu_ms = {
        name: (cpu_after[name] - cpu_before[name]) * 1000 / max(completed, 1) for name in pids
    }
    return {
        "http_floor_p50_ms": percentile(floor, 50),
        "sequential_requests": sequential,
        "sequential_completed": len(latencies),
        "added_p50_ms": percentile(latencies, 50),
        "added_p99_ms": percentile(latencies, 99),
        "throughput_concurrency": concurrency,
        "throughput_requests": throughput,
        "throughput_completed": completed,
        "throughput_per_s": completed / wall_s,
        "cpu_ms_per_case_study": cpu_ms,
    }


def run_throughput(
    sequential: int,
    throughput: int,
    concurrency: int,
    *,
    tracing: str = "default",
    providers: str = "instant",
) -> dict[str, Any]:
    """Latency one at a time, throughput and CPU per case study. ``tracing`` is "default" (as
    configured: spans, no exporter unless the environment names one), "off" (OTEL_SDK_DISABLED),
    "exported" (to a loopback OTLP receiver, which the services' exporters send every span and
    metric to) or "sampled:R" (exported likewise, but only a share R of the traces: every span is
    still recorded). ``providers`` is "instant" (bench providers in the services: no provider work at
    all) or "wire" (the production anthropic and openai providers, official SDKs and all, against
    answers replayed on loopback by bench/wire_fakes.py)."""
    env = {"OTEL_SDK_DISABLED": "true"} if tracing == "off" else {}
    if tracing.startswith("sampled:"):
        env = {
            "OTEL_TRACES_SAMPLER": "parentbased_traceidratio",
            "OTEL_TRACES_SAMPLER_ARG": tracing.removeprefix("sampled:"),
        }
    with Fleet(env) as fleet:
        if tracing != "default" and tracing != "off":
            fleet.otlp_sink("otlp_sink")
        if providers == "wire":
            remote = fleet.wire_fakes("providers")
            structurer = fleet.real_structurer(
                "structurer", {"CASECRAFT_STRUCTURER_PROVIDERS": "anthropic", **remote}
            )
            images = fleet.real_images(
                "images",
                {
                    "CASECRAFT_IMAGE_PROVIDERS": "openai",
                    "CASECRAFT_IMAGE_CONCURRENCY": str(IMAGE_CONCURRENCY),
                    **remote,
                },
            )
        else:
            structurer = fleet.structurer("structurer", llm_ms=0)
            images = fleet.images("images", image_ms=0, concurrency=IMAGE_CONCURRENCY)
        url = fleet.gateway("gateway", structurer=structurer, images=images)
        pids = {**fleet.pids, "load_client": os.getpid()}
        return eventloop.run(instant(url, pids, sequential, throughput, concurrency))


def tracing_cost(
    throughput: int,
    concurrency: int,
    sample_ratio: float,
    rounds: int = 3,
    providers: str = "instant",
) -> dict[str, Any]:
    """Throughput with tracing off (OTEL_SDK_DISABLED), on without an exporter, on with an OTLP
    exporter sending every trace, and on with the exporter sending a share ``sample_ratio`` of
    them; the share of throughput each costs: 1 - on/off.

    A shared machine's speed drifts by more than the difference being measured, so no mode gets
    one stretch of it to itself: each round runs every mode once, the order reversed every other
    round (off first, then off last), and each cost is worked out within its round, against that
    round's tracing-off run. A figure is the median over the rounds."""
    modes = {
        "off": "off",
        "recorded": "default",
        "exported": "exported",
        "sampled": f"sampled:{sample_ratio}",
    }
    runs: dict[str, list[dict[str, Any]]] = {mode: [] for mode in modes}
    for round_ in range(rounds):
        order = list(modes) if round_ % 2 == 0 else list(reversed(modes))
        for mode in order:
            runs[mode].append(
                run_throughput(
                    20, throughput, concurrency, tracing=modes[mode], providers=providers
                )
            )
    figures: dict[str, Any] = {
        "tracing_rounds": rounds,
        "tracing_sample_ratio": sample_ratio,
        "tracing_providers": providers,
    }
    services_cpu: dict[str, list[float]] = {}
    for mode, results in runs.items():
        ranked = sorted(results, key=lambda r: r["throughput_per_s"])
        middle = ranked[len(ranked) // 2]
        figures[f"tracing_{mode}_per_s"] = middle["throughput_per_s"]
        figures[f"tracing_{mode}_rounds_per_s"] = [r["throughput_per_s"] for r in results]
        figures[f"tracing_{mode}_added_p50_ms"] = statistics.median(
            r["added_p50_ms"] for r in results
        )
        figures[f"tracing_{mode}_cpu_ms_per_case_study"] = middle["cpu_ms_per_case_study"]
        services_cpu[mode] = [
            sum(r["cpu_ms_per_case_study"][name] for name in SERVICES) for r in results
        ]
        figures[f"tracing_{mode}_services_cpu_ms"] = statistics.median(services_cpu[mode])
    off = figures["tracing_off_rounds_per_s"]
    for mode, key in (
        ("exported", "tracing_cost_ratio"),
        ("sampled", "tracing_sampled_cost_ratio"),
        ("recorded", "tracing_recorded_cost_ratio"),
    ):
        costs = [
            1 - on / base
            for on, base in zip(figures[f"tracing_{mode}_rounds_per_s"], off, strict=True)
        ]
        figures[f"{key}_rounds"] = costs
        figures[key] = statistics.median(costs)
    # The same cost read from the services' own CPU time, which the load client and the
    # stand-ins for the providers and the collector do not dilute.
    cpu_costs = [
        1 - o / e for o, e in zip(services_cpu["off"], services_cpu["exported"], strict=True)
    ]
    figures["tracing_services_cpu_cost_ratio_rounds"] = cpu_costs
    figures["tracing_services_cpu_cost_ratio"] = statistics.median(cpu_costs)
    return figures


def run(
    inflight: int = 1000,
    scale: float = 1.0,
    sequential: int = 300,
    throughput: int = 3000,
    concurrency: int = 50,
    *,
    with_tracing_cost: bool = False,
    sample_ratio: float = 0.1,
    rounds: int = 3,
    providers: str = "instant",
) -> dict[str, Any]:
    figures: dict[str, Any] = {
        "llm_ms": LLM_MS * scale,
        "image_ms": IMAGE_MS * scale,
        "image_concurrency": IMAGE_CONCURRENCY,
    }
    figures["providers"] = providers
    figures.update(run_throughput(sequential, throughput, concurrency, providers=providers))
    if with_tracing_cost:
        figures.update(tracing_cost(throughput, concurrency, sample_ratio, rounds, providers))
    if inflight <= 0:
        return figures
    figures.update(run_in_flight(inflight, LLM_MS * scale, IMAGE_MS * scale))
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inflight", type=int, default=1000, help="case studies sent at once")
    parser.add_argument("--scale", type=float, default=1.0, help="multiply both latencies")
    parser.add_argument(
        "--sequential", type=int, default=300, help="instant requests, one at a time"
    )
    parser.add_argument(
        "--throughput", type=int, default=3000, help="instant requests, 50 in flight"
    )
    parser.add_argument("--concurrency", type=int, default=50, help="in flight for the throughput")
    parser.add_argument(
        "--tracing-cost",
        action="store_true",
        help="also run the throughput with tracing off and with an OTLP exporter, and compare",
    )
    parser.add_argument(
        "--sample-ratio",
        type=float,
        default=0.1,
        help="with --tracing-cost: the share of traces the sampled run exports",
    )
    parser.add_argument(
        "--rounds", type=int, default=3, help="with --tracing-cost: turns each mode takes"
    )
    parser.add_argument(
        "--providers",
        choices=["instant", "wire"],
        default="instant",
        help="for the throughput parts: bench providers that answer at once (no provider work), "
        "or the production anthropic and openai providers against replayed answers",
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    figures = run(
        args.inflight,
        args.scale,
        args.sequential,
        args.throughput,
        args.concurrency,
        with_tracing_cost=args.tracing_cost,
        sample_ratio=args.sample_ratio,
        rounds=args.rounds,
        providers=args.providers,
    )
    if args.json:
        print(json.dumps(figures))
    else:
        show(figures)


def show(f: dict[str, Any]) -> None:
    if f["providers"] == "wire":
        print(
            "production providers (anthropic and openai, official SDKs) against answers replayed"
            " on loopback (bench/wire_fakes.py)"
        )
    else:
        print("instant providers (structurer and images answer at once)")
    instant = f["providers"] == "instant"  # the bars below are set for instant providers
    print(f"  HTTP round trip alone (GET /healthz) p50  {f['http_floor_p50_ms']:8.2f} ms")
    print(
        f"  added latency, one at a time   p50  {f['added_p50_ms']:8.2f} ms"
        + ("   (bar <= 5)" if instant else "")
    )
    print(
        f"                                 p99  {f['added_p99_ms']:8.2f} ms"
        + ("   (bar <= 12)" if instant else "")
    )
    print(
        f"  {f['throughput_concurrency']} in flight: {f['throughput_per_s']:8.1f} case studies/s"
        + ("   (bar >= 300)" if instant else "")
    )
    print(
        "  CPU ms per case study: "
        + ", ".join(f"{k} {v:.2f}" for k, v in f["cpu_ms_per_case_study"].items())
    )
    if "tracing_cost_ratio" in f:
        print(
            f"  tracing, {f['tracing_rounds']} rounds (every mode once a round), case studies/s:"
            + "".join(
                f" {mode} " + "/".join(f"{v:.0f}" for v in f[f"tracing_{mode}_rounds_per_s"])
                for mode in ("off", "recorded", "exported", "sampled")
            )
        )
        print(
            f"  tracing off {f['tracing_off_per_s']:.1f}/s, on with an OTLP exporter"
            f" {f['tracing_exported_per_s']:.1f}/s: costs {f['tracing_cost_ratio']:.1%}"
            " of throughput (median of the rounds' own costs: "
            + ", ".join(f"{c:.1%}" for c in f["tracing_cost_ratio_rounds"])
            + (
                ")   (bar <= 10%)"
                if f["tracing_providers"] == "wire"
                else ")   (no provider work: the bar is judged with --providers wire)"
            )
        )
        print(
            f"  on, recorded but not exported {f['tracing_recorded_per_s']:.1f}/s:"
            f" costs {f['tracing_recorded_cost_ratio']:.1%}"
        )
        print(
            f"  exporting {f['tracing_sample_ratio']:.0%} of traces (all still recorded)"
            f" {f['tracing_sampled_per_s']:.1f}/s: costs {f['tracing_sampled_cost_ratio']:.1%}"
        )
        print(
            "  the services' CPU per case study (median of the rounds), tracing off"
            f" {f['tracing_off_services_cpu_ms']:.2f} ms, exported"
            f" {f['tracing_exported_services_cpu_ms']:.2f} ms: tracing takes"
            f" {f['tracing_services_cpu_cost_ratio']:.1%} of it (rounds: "
            + ", ".join(f"{c:.1%}" for c in f["tracing_services_cpu_cost_ratio_rounds"])
            + ")"
        )
        for mode in ("off", "recorded", "exported", "sampled"):
            cpu = f[f"tracing_{mode}_cpu_ms_per_case_study"]
            print(
                f"    CPU ms per case study, tracing {mode}: "
                + ", ".join(f"{k} {v:.2f}" for k, v in cpu.items())
            )
    if "inflight_n" not in f:
        return
    print(
        f"{f['inflight_n']} in flight, LLM {f['llm_ms']:g} ms, images {f['image_ms']:g} ms (image concurrency {IMAGE_CONCURRENCY})"
    )
    print(f"  completed {f['inflight_completed']}/{f['inflight_n']}")
    print(
        f"  p50 {f['inflight_p50_ms']:10.1f} ms  = {f['inflight_p50_over_ideal']:.3f} x ideal ({f['inflight_ideal_ms']:g} ms)"
    )
    print(
        f"  p99 {f['inflight_p99_ms']:10.1f} ms  = {f['inflight_p99_over_ideal']:.3f} x ideal   (bar <= 1.10)"
    )
    print("  peak RSS MiB: " + ", ".join(f"{k} {v:.0f}" for k, v in f["peak_rss_mib"].items()))


if __name__ == "__main__":
    main()
