"""The caches through HTTP -> gateway -> gRPC: a repeated request, and identical requests at once.

The real structurer (its ``anthropic`` provider, the official SDK) talks to the loopback fake Claude
(tests/fakes/anthropic.py, streaming for ``--llm-ms``) and the real image service (its
``openrouter`` provider) to the loopback fake OpenRouter (tests/fakes/openrouter_images.py); both
fakes run in this process, so every upstream call is counted where it arrives. The fake Claude
names the client after the notes, so each scenario's images are its own.

- repeated: one request, then ``--requests`` more with the same notes, one at a time: the whole
  request's p50/p99 through the gateway, and the LLM and image calls the repeats made (bar: 0).
  The client is bench/load.py's (aiohttp on uvloop), after a warm-up of ``--warmup`` repeats.
  The repeats go in blocks of ``--block``, each block followed by as many requests to the
  transport floor (bench/floor.py: the same hops and message sizes with nothing behind them), so
  the repeat's p50 over the floor's is a ratio measured in the same minutes, which a shared
  machine's speed changes far less than either figure.
- at once: one request alone, then ``--burst`` identical requests at the same moment (new notes)
  against an image provider taking ``--image-ms``: image calls per component (bar: 1 each), LLM
  calls (the burst's against the lone request's: an answer whose figures the notes do not hold
  gets one re-ask, docs/trust.md), and the burst's p99 against the request alone.

Both run on the memory backend and on Redis (``REDIS_URL`` or 127.0.0.1:6379, a random key prefix).
The fake draws images of a few kilobytes; ``--image-kb`` makes each about that size instead (a
generated photograph is a megabyte or two, and a repeat moves every byte of it again).

    python -m bench.cache [--requests 200] [--block 20] [--warmup 20] [--burst 50] [--llm-ms 870]
                          [--image-ms 1000] [--image-kb 0] [--backend memory|redis|both] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
import uuid
from collections import Counter
from collections.abc import Callable
from contextlib import ExitStack
from typing import Any

import aiohttp
import orjson

from bench.load import JSON, session
from bench.measure import percentile
from bench.pipeline import fake_anthropic_pace
from bench.serve import ANTHROPIC_KEY, Fleet, case_study_answer, forget_redis
from casecraft import eventloop
from tests.fakes.anthropic import FakeAnthropic
from tests.fakes.openrouter_images import FakeOpenRouter, photo_sized
from tests.fakes.server import serve_in_thread

OPENROUTER_KEY = "sk-or-v1-bench-key-0000"
REDIS_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"


async def named_answer(notes: str) -> dict[str, object]:
    """The bench case study, its client named by the notes' first line (so its images too)."""
    answer = await case_study_answer(notes)
    answer["client_name"] = notes.splitlines()[0].removeprefix("Client: ")
    return answer


def notes_for(name: str) -> str:
    return f"Client: {name}\nDispatch time went from 94 min to 31 min over twelve weeks."


def start(
    stack: ExitStack, backend: str, llm_ms: float, image_ms: float, image_kb: int = 0
) -> tuple[str, FakeAnthropic, FakeOpenRouter, Fleet]:
    claude = FakeAnthropic(answer=named_answer, pace=fake_anthropic_pace(llm_ms))
    images = FakeOpenRouter(api_key=OPENROUTER_KEY, latency_s=image_ms / 1000)
    if image_kb:
        images.faults.default = photo_sized(image_kb * 1024)
    claude_url = stack.enter_context(serve_in_thread(claude.app))
    images_url = stack.enter_context(serve_in_thread(images.app))
    shared: dict[str, str] = {}
    if backend == "redis":
        prefix = f"casecraft-bench:{uuid.uuid4().hex[:8]}:"
        stack.callback(forget_redis, REDIS_URL, prefix)
        shared = {
            "REDIS_URL": REDIS_URL,
            "CASECRAFT_STRUCTURER_REDIS_PREFIX": prefix,
            "CASECRAFT_IMAGE_REDIS_PREFIX": prefix,
        }
    fleet = stack.enter_context(Fleet())
    structurer = fleet.real_structurer(
        "structurer",
        {
            **shared,
            "CASECRAFT_STRUCTURER_CACHE": "on",
            "CASECRAFT_STRUCTURER_PROVIDERS": "anthropic",
            "ANTHROPIC_BASE_URL": claude_url,
            "ANTHROPIC_API_KEY": ANTHROPIC_KEY,
        },
    )
    image_service = fleet.real_images(
        "images",
        {
            **shared,
            "CASECRAFT_IMAGE_CACHE": "on",
            "CASECRAFT_IMAGE_PROVIDERS": "openrouter",
            "OPENROUTER_BASE_URL": f"{images_url}/api/v1",
            "OPENROUTER_API_KEY": OPENROUTER_KEY,
        },
    )
    gateway = fleet.gateway("gateway", structurer=structurer, images=image_service)
    return gateway, claude, images, fleet


async def post(client: aiohttp.ClientSession, url: str, notes: str) -> tuple[float, bytes]:
    """POST the notes; the milliseconds until the whole answer was in, and the answer."""
    began = time.perf_counter()
    async with client.post(
        f"{url}/v1/case-studies", data=orjson.dumps({"notes": notes}), headers=JSON
    ) as response:
        body = await response.read()
    elapsed = (time.perf_counter() - began) * 1000
    if response.status != 200:
        raise RuntimeError(f"expected 200, got {response.status}: {body[:200]!r}")
    return elapsed, body


async def one(client: aiohttp.ClientSession, url: str, notes: str) -> tuple[float, dict[str, Any]]:
    elapsed, body = await post(client, url, notes)
    answer = orjson.loads(body)
    if [image["status"] for image in answer["images"]] != ["ok"] * 3:
        raise RuntimeError(f"expected three ok images, got {answer['images']}")
    return elapsed, answer


def image_calls(fake: FakeOpenRouter, since: int) -> dict[str, int]:
    """Calls to the image provider per component (read from the prompt the service wrote)."""
    counts: Counter[str] = Counter()
    for request in fake.requests[since:]:
        prompt = json.dumps(request.json).lower()
        component = next(
            (name for name in ("timeline", "metrics", "hero") if name in prompt), "other"
        )
        counts[component] += 1
    return dict(counts)


async def message_sizes(client: aiohttp.ClientSession, url: str, notes: str) -> list[int]:
    """The sizes bench/floor.py sends: the case study (as the structurer's event), each image,
    and the whole answer, read off one repeat."""
    body = (await post(client, url, notes))[1]
    answer = orjson.loads(body)
    images = []
    for image in answer["images"]:
        async with client.get(f"{url}{image['url']}") as response:
            images.append(len(await response.read()))
    return [len(orjson.dumps(answer["case_study"])), *images, len(body)]


async def measure(
    url: str,
    claude: FakeAnthropic,
    images: FakeOpenRouter,
    requests: int,
    burst: int,
    warmup: int,
    floor: Callable[[list[int]], str],
    block: int = 20,
) -> dict[str, Any]:
    run = uuid.uuid4().hex[:8]
    figures: dict[str, Any] = {}
    async with session(burst + 1, timeout_s=300) as client:
        repeated = notes_for(f"Repeated {run}")
        first_ms, _ = await one(client, url, repeated)
        floor_url = floor(await message_sizes(client, url, repeated))
        for _ in range(warmup):
            await one(client, url, repeated)
            await post(client, floor_url, repeated)
        llm_before, images_before = len(claude.requests), len(images.requests)
        samples, answers, floors = [], [], []
        while len(samples) < requests:
            # Back to back within a block (as a client repeating a request sends them), blocks
            # of the floor between: both see the same minutes of a shared machine.
            for _ in range(min(block, requests - len(samples))):
                elapsed, answer = await one(client, url, repeated)
                samples.append(elapsed)
                answers.append(answer)
            for _ in range(block):
                floors.append((await post(client, floor_url, repeated))[0])
        figures["repeated"] = {
            "first_ms": first_ms,
            "p50_ms": percentile(samples, 50),
            "p99_ms": percentile(samples, 99),
            "floor_p50_ms": percentile(floors, 50),
            "over_floor": percentile(samples, 50) / percentile(floors, 50),
            "llm_calls": len(claude.requests) - llm_before,
            "image_calls": len(images.requests) - images_before,
            "structuring_hits": sum(a["cache"]["structuring"] == "hit" for a in answers),
            "image_hits": sum(i["cache_hit"] for a in answers for i in a["images"]),
        }

        if not burst:
            return figures
        llm_before = len(claude.requests)
        alone_ms, _ = await one(client, url, notes_for(f"Alone {run}"))
        llm_alone = len(claude.requests) - llm_before
        llm_before, images_before = len(claude.requests), len(images.requests)
        together = notes_for(f"Together {run}")
        results = await asyncio.gather(*(one(client, url, together) for _ in range(burst)))
        times = [elapsed for elapsed, _ in results]
        figures["at_once"] = {
            "requests": burst,
            "alone_ms": alone_ms,
            "p50_ms": percentile(times, 50),
            "p99_ms": percentile(times, 99),
            "p99_over_alone": percentile(times, 99) / alone_ms,
            "image_calls_per_component": image_calls(images, images_before),
            "llm_calls": len(claude.requests) - llm_before,
            "llm_calls_alone": llm_alone,
        }
    return figures


def run(
    requests: int,
    burst: int,
    llm_ms: float,
    image_ms: float,
    backends: list[str],
    warmup: int = 20,
    image_kb: int = 0,
    block: int = 20,
) -> dict[str, Any]:
    figures: dict[str, Any] = {"llm_ms": llm_ms, "image_ms": image_ms, "image_kb": image_kb}
    for backend in backends:
        with ExitStack() as stack:
            url, claude, images, fleet = start(stack, backend, llm_ms, image_ms, image_kb)
            figures[backend] = eventloop.run(
                measure(url, claude, images, requests, burst, warmup, fleet.floor, block)
            )
    return figures


def show(figures: dict[str, Any]) -> None:
    sized = f", images of about {figures['image_kb']} kB" if figures.get("image_kb") else ""
    print(
        f"fake Claude streaming {figures['llm_ms']:g} ms; fake OpenRouter {figures['image_ms']:g} ms"
        f"{sized}"
    )
    for backend in ("memory", "redis"):
        if backend not in figures:
            continue
        repeated, at_once = figures[backend]["repeated"], figures[backend].get("at_once")
        print(f"\n[{backend}]")
        print(
            f"repeated request: first {repeated['first_ms']:.1f} ms; repeats p50 "
            f"{repeated['p50_ms']:.2f} ms, p99 {repeated['p99_ms']:.2f} ms; upstream calls: "
            f"LLM {repeated['llm_calls']}, image {repeated['image_calls']} "
            f"(structuring hits {repeated['structuring_hits']}, image hits {repeated['image_hits']})"
        )
        print(
            f"transport floor (bench/floor.py, in blocks between the repeats'): p50 "
            f"{repeated['floor_p50_ms']:.2f} ms; the repeat takes {repeated['over_floor']:.2f}x"
        )
        if at_once is None:
            continue
        print(
            f"{at_once['requests']} identical at once: image calls per component "
            f"{at_once['image_calls_per_component']}, LLM calls {at_once['llm_calls']} "
            f"(the request alone: {at_once['llm_calls_alone']}); "
            f"p50 {at_once['p50_ms']:.0f} ms, p99 {at_once['p99_ms']:.0f} ms vs alone "
            f"{at_once['alone_ms']:.0f} ms ({at_once['p99_over_alone']:.2f}x)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200, help="repeats of one request")
    parser.add_argument(
        "--block", type=int, default=20, help="repeats (and floor requests) per block"
    )
    parser.add_argument("--warmup", type=int, default=20, help="repeats before measuring")
    parser.add_argument(
        "--burst", type=int, default=50, help="identical requests at once (0: not measured)"
    )
    parser.add_argument("--llm-ms", type=float, default=870)
    parser.add_argument("--image-ms", type=float, default=1000)
    parser.add_argument("--image-kb", type=int, default=0, help="each image about this size")
    parser.add_argument("--backend", choices=["memory", "redis", "both"], default="both")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    backends = ["memory", "redis"] if args.backend == "both" else [args.backend]
    figures = run(
        args.requests,
        args.burst,
        args.llm_ms,
        args.image_ms,
        backends,
        args.warmup,
        args.image_kb,
        args.block,
    )
    if args.json:
        print(json.dumps(figures))
    else:
        show(figures)


if __name__ == "__main__":
    main()
