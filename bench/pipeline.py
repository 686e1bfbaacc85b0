"""An 87 s LLM step then three 14 s images, replayed at 1:100 through HTTP -> gateway -> gRPC.

Three ways to run it: sequential, gather and early fan-out. The LLM streams for 870 ms at a steady
token rate with the image fields in its first third; each image takes 140 ms. The structurer, the image services and one gateway per mode run as separate
processes (bench/serve.py); requests go one at a time, the modes interleaved round by round so that
a noisy machine slows them alike:

- sequential: early fan-out off, image concurrency 1 (the old pipeline: LLM, then image after image);
- gather: early fan-out off, image concurrency 3 (images gathered after the LLM);
- early: early fan-out on, image concurrency 3 (each image starts when its fields are ready).

The LLM (``--llm``): ``fake-anthropic`` (default) runs the real structurer process with its
``anthropic`` provider (the official SDK) against the loopback fake Anthropic server
(tests/fakes/anthropic.py), which streams a fixed case study, image fields first, as
``input_json_delta`` chunks at a steady token rate set so the stream lasts ``--llm-ms``;
``timed`` uses the bench structurer of bench/serve.py instead (drafts on an exact schedule).

The LLM step alone (``t_llm_ms``) is a direct StructureStream call to the same structurer process,
timed from the call to the final case study; ``direct_first_group_ms`` from the call to its first
field group.

Time to first visual: the early mode once more through the job API, a POST with
``Accept: text/event-stream`` that starts a job and streams its events on the same connection:
``first_field_ms`` to the first ``field_group`` event, ``first_image_ms`` to the first ``image``
event, ``first_image_over_llm`` the latter over ``t_llm_ms``.

Prints a table; ``--json`` prints one JSON object.

    python -m bench.pipeline [--requests 20] [--llm-ms 870] [--image-ms 140] [--llm timed] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from contextlib import ExitStack
from typing import Any

import grpc
import httpx
from google.protobuf import json_format
from httpx_sse import aconnect_sse

from bench.measure import percentile
from bench.serve import ANTHROPIC_KEY, CASE_STUDY, Fleet, case_study_answer, example_notes
from casecraft.v1 import structurer_pb2, structurer_pb2_grpc
from tests.fakes.anthropic import FakeAnthropic
from tests.fakes.faults import Pace
from tests.fakes.server import serve_in_thread

MODES = ("sequential", "gather", "early")
WARMUP_ROUNDS = 2
LLM_SOURCES = {
    "fake-anthropic": "structurer_service (anthropic provider, official SDK) -> loopback fake "
    "Anthropic (tests/fakes/anthropic.py) streaming at a steady token rate",
    "timed": "bench timed structurer (bench/serve.py): drafts at a steady rate, final at --llm-ms",
}


def fake_anthropic_pace(llm_ms: float) -> Pace:
    """The token rate at which the fake streams the bench case study in ``llm_ms``."""
    chars = len(json.dumps(json_format.MessageToDict(CASE_STUDY, preserving_proto_field_name=True)))
    return Pace(tokens_per_s=chars / 4.0 / (llm_ms / 1000), chars_per_token=4.0)


def start_fleet(
    fleet: Fleet, stack: ExitStack, llm: str, llm_ms: float, image_ms: float
) -> tuple[int, dict[str, str], FakeAnthropic | None]:
    fake = None
    if llm == "fake-anthropic":
        fake = FakeAnthropic(answer=case_study_answer, pace=fake_anthropic_pace(llm_ms))
        base_url = stack.enter_context(serve_in_thread(fake.app))
        structurer = fleet.real_structurer(
            "structurer",
            {
                "CASECRAFT_STRUCTURER_PROVIDERS": "anthropic",
                "ANTHROPIC_BASE_URL": base_url,
                "ANTHROPIC_API_KEY": ANTHROPIC_KEY,
            },
        )
    else:
        structurer = fleet.structurer("structurer", llm_ms=llm_ms)
    one_at_a_time = fleet.images("images-c1", image_ms=image_ms, concurrency=1)
    three_at_a_time = fleet.images("images-c3", image_ms=image_ms, concurrency=3)
    gateways = {
        "sequential": fleet.gateway(
            "gateway-sequential", structurer=structurer, images=one_at_a_time, early_fanout=False
        ),
        "gather": fleet.gateway(
            "gateway-gather", structurer=structurer, images=three_at_a_time, early_fanout=False
        ),
        "early": fleet.gateway(
            "gateway-early", structurer=structurer, images=three_at_a_time, early_fanout=True
        ),
    }
    return structurer, gateways, fake


async def calibrate(
    fake: FakeAnthropic, stub: structurer_pb2_grpc.StructurerStub, notes: str, llm_ms: float
) -> None:
    """Speed the fake's token rate up by the per-chunk overhead, so the LLM step lasts ``llm_ms``."""
    base_rate = fake_anthropic_pace(llm_ms).tokens_per_s or 1.0
    for _ in range(3):
        measured = await structure_alone(stub, notes)
        if abs(measured - llm_ms) < 0.01 * llm_ms:
            return
        sleeping = llm_ms * base_rate / (fake.pace.tokens_per_s or base_rate)
        wanted = max(sleeping - (measured - llm_ms), 0.2 * llm_ms)
        rate = base_rate * llm_ms / wanted
        fake.pace = Pace(tokens_per_s=rate, chars_per_token=4.0)


async def structure_alone(
    stub: structurer_pb2_grpc.StructurerStub, notes: str, first_group: list[float] | None = None
) -> float:
    """Milliseconds to the final case study; appends those to the first field group."""
    began = time.perf_counter()
    async for event in stub.StructureStream(structurer_pb2.StructureRequest(notes=notes)):
        if event.field_groups and first_group is not None and len(first_group) == 0:
            first_group.append((time.perf_counter() - began) * 1000)
        if event.HasField("final"):
            return (time.perf_counter() - began) * 1000
    raise RuntimeError("the structurer ended its stream without a case study")


async def first_visual(client: httpx.AsyncClient, url: str, notes: str) -> tuple[float, float]:
    """Milliseconds from the POST to the first field_group and to the first image event."""
    began = time.perf_counter()
    first: dict[str, float] = {}
    headers = {"Accept": "text/event-stream"}
    async with aconnect_sse(
        client, "POST", f"{url}/v1/case-studies", json={"notes": notes}, headers=headers
    ) as source:
        async for sse in source.aiter_sse():
            first.setdefault(sse.event, (time.perf_counter() - began) * 1000)
            if sse.event == "failed":
                raise RuntimeError(f"the job failed: {sse.data}")
    if "field_group" not in first or "image" not in first:
        raise RuntimeError(f"the job's events held no field group or image: {sorted(first)}")
    return first["field_group"], first["image"]


async def case_study(client: httpx.AsyncClient, url: str, notes: str) -> float:
    began = time.perf_counter()
    response = await client.post(f"{url}/v1/case-studies", json={"notes": notes})
    elapsed = (time.perf_counter() - began) * 1000
    response.raise_for_status()
    images = response.json()["images"]
    if len(images) != 3 or any(image["status"] != "ok" for image in images):
        raise RuntimeError(f"expected three ok images, got {images}")
    return elapsed


async def measure(
    structurer: int,
    gateways: dict[str, str],
    requests: int,
    fake: FakeAnthropic | None = None,
    llm_ms: float = 870,
) -> dict[str, list[float]]:
    notes = example_notes()
    samples: dict[str, list[float]] = {
        "llm": [],
        **{mode: [] for mode in MODES},
        "direct_first_group": [],
        "first_field": [],
        "first_image": [],
    }
    async with (
        grpc.aio.insecure_channel(f"127.0.0.1:{structurer}") as channel,
        httpx.AsyncClient(timeout=60) as client,
    ):
        stub = structurer_pb2_grpc.StructurerStub(channel)
        if fake is not None:
            await calibrate(fake, stub, notes[0], llm_ms)
        for round_ in range(WARMUP_ROUNDS + requests):
            text = notes[round_ % len(notes)]
            first_group: list[float] = []
            figures = {"llm": await structure_alone(stub, text, first_group)}
            figures["direct_first_group"] = first_group[0]
            for mode in MODES:
                figures[mode] = await case_study(client, gateways[mode], text)
            figures["first_field"], figures["first_image"] = await first_visual(
                client, gateways["early"], text
            )
            if round_ >= WARMUP_ROUNDS:
                for name, value in figures.items():
                    samples[name].append(value)
    return samples


def run(
    requests: int = 20, llm_ms: float = 870, image_ms: float = 140, llm: str = "fake-anthropic"
) -> dict[str, Any]:
    with ExitStack() as stack:
        fleet = stack.enter_context(Fleet())
        structurer, gateways, fake = start_fleet(fleet, stack, llm, llm_ms, image_ms)
        samples = asyncio.run(measure(structurer, gateways, requests, fake, llm_ms))
    t_llm = percentile(samples["llm"], 50)
    figures: dict[str, Any] = {
        "llm": llm,
        "llm_source": LLM_SOURCES[llm],
        "requests": requests,
        "llm_ms": llm_ms,
        "image_ms": image_ms,
        "t_llm_ms": t_llm,
        "t_llm_p95_ms": percentile(samples["llm"], 95),
    }
    for mode in MODES:
        figures[f"{mode}_p50_ms"] = percentile(samples[mode], 50)
        figures[f"{mode}_p95_ms"] = percentile(samples[mode], 95)
    figures["ideal_gather_ms"] = t_llm + image_ms
    figures["early_over_llm"] = figures["early_p50_ms"] / t_llm
    figures["gather_over_ideal"] = figures["gather_p50_ms"] / figures["ideal_gather_ms"]
    figures["sequential_over_llm"] = figures["sequential_p50_ms"] / t_llm
    figures["sequential_over_early"] = figures["sequential_p50_ms"] / figures["early_p50_ms"]
    figures["direct_first_group_ms"] = percentile(samples["direct_first_group"], 50)
    figures["first_field_ms"] = percentile(samples["first_field"], 50)
    figures["first_image_ms"] = percentile(samples["first_image"], 50)
    figures["first_image_over_llm"] = figures["first_image_ms"] / t_llm
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20, help="requests per mode")
    parser.add_argument("--llm-ms", type=float, default=870)
    parser.add_argument("--image-ms", type=float, default=140)
    parser.add_argument("--llm", choices=sorted(LLM_SOURCES), default="fake-anthropic")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    figures = run(args.requests, args.llm_ms, args.image_ms, args.llm)
    if args.json:
        print(json.dumps(figures))
    else:
        show(figures)


def show(figures: dict[str, Any]) -> None:
    print(
        f"LLM {figures['llm_ms']:g} ms streamed, images {figures['image_ms']:g} ms each, {figures['requests']} requests per mode"
    )
    print(f"LLM: {figures['llm_source']}")
    print(f"{'mode':<34}{'p50 ms':>10}{'p95 ms':>10}")
    print(
        f"{'LLM step alone (direct gRPC)':<34}{figures['t_llm_ms']:>10.1f}{figures['t_llm_p95_ms']:>10.1f}"
    )
    for mode in MODES:
        print(f"{mode:<34}{figures[f'{mode}_p50_ms']:>10.1f}{figures[f'{mode}_p95_ms']:>10.1f}")
    print(f"early / LLM alone:             {figures['early_over_llm']:.3f}   (bar <= 1.03)")
    print(f"gather / (LLM + one image):    {figures['gather_over_ideal']:.3f}   (bar <= 1.03)")
    print(f"sequential / LLM alone:        {figures['sequential_over_llm']:.3f}")
    print(f"sequential / early:            {figures['sequential_over_early']:.3f}")
    print("time to first visual (early mode, POST with Accept: text/event-stream), p50:")
    print(
        f"  first field_group event {figures['first_field_ms']:.1f} ms "
        f"(the structurer's own first group, direct: {figures['direct_first_group_ms']:.1f} ms)"
    )
    print(
        f"  first image event       {figures['first_image_ms']:.1f} ms = "
        f"{figures['first_image_over_llm']:.3f} x the LLM step   (bar <= 0.35)"
    )


if __name__ == "__main__":
    main()
