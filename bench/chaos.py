"""Chaos: a few hundred background jobs at once while the providers misbehave and a service dies.

The real gateway, structurer and image service run as child processes (bench/serve.py's ``Fleet``),
their providers pointed at the loopback fakes of Anthropic, OpenRouter and OpenAI Images
(tests/fakes), which answer at random with 429 (and retry-after), 529, a stream cut mid-way, an
error event inside the stream, an answer that breaks the schema, or no answer at all; OpenRouter is
down for a while, and one service process (structurer or image service) is killed with SIGKILL
mid-run and started again on its port. Some clients cancel their job (DELETE) on the way.

With ``--redis`` the jobs live in Redis (REDIS_URL or 127.0.0.1:6379, under a key prefix of the
run's own) behind two gateways, each client posting to one of them and moving to the other when its
gateway does not answer; ``--kill gateway`` then kills one gateway mid-run: the jobs it was running
are noticed through their leases and end ``failed``, never left running.

Every job is posted with ``Prefer: respond-async`` and followed on its event stream to the end,
then read once more. The run checks what the design promises:

- every accepted job ends ``done``, ``failed`` or ``cancelled``: none ``lost`` (404) or ``stuck``
  (still running when the run's deadline passes);
- every event stream is whole: ids 1, 2, 3 ... without a gap or a repeat, ending with the terminal
  event that matches the job's final status;
- every ``done`` answer is valid: the CaseStudyResponse schema, its case study the CaseStudy schema.

    python -m bench.chaos                   # 300 jobs, the structurer killed
    python -m bench.chaos --jobs 500 --kill images --json
    python -m bench.chaos --redis --kill gateway

It stops by itself (``--deadline-s``) and sends traffic only to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import random
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx
from pydantic import ValidationError
from starlette.requests import ClientDisconnect

from bench.serve import (
    ANTHROPIC_KEY,
    OPENAI_KEY,
    Fleet,
    case_study_answer,
    example_notes,
    forget_redis,
)
from casecraft import casestudy_schema
from gateway.schemas import CaseStudyResponse
from tests.fakes import faults as llm
from tests.fakes import openrouter_images as img
from tests.fakes.anthropic import FakeAnthropic
from tests.fakes.openai_images import FakeOpenAIImages
from tests.fakes.openrouter_images import FakeOpenRouter
from tests.fakes.server import serve_in_thread

TERMINAL = ("done", "failed", "cancelled")
REDIS_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
# With Redis, a job whose gateway died is noticed once its lease lapses: short, for a short run.
LEASE_S = 2


class _QuietClientsGone(logging.Filter):
    """The fakes' server logs a request whose client vanished (a killed service's) as an error;
    here that is the point of the run."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], ClientDisconnect))


logging.getLogger("uvicorn.error").addFilter(_QuietClientsGone())
# The fakes keep writing a stream for a moment after its reader was killed; asyncio says so
# ("socket.send() raised exception.") once per write.
logging.getLogger("asyncio").setLevel(logging.ERROR)
OPENROUTER_KEY = "sk-or-v1-fake-key-0000"

# What the fake model does with a call, and how often (weights): mostly answers, and every
# fault the issue names.
LLM_FAULTS: Sequence[tuple[str, float, Callable[[], llm.Behaviour]]] = (
    ("ok", 60, llm.ok),
    ("429 retry-after", 8, lambda: llm.status(429, retry_after_ms="50")),
    ("529 overloaded", 8, lambda: llm.status(529)),
    ("stream cut", 7, lambda: llm.drop(after_chunks=4)),
    ("error in stream", 4, lambda: llm.stream_error(after_chunks=2)),
    ("invalid output", 7, llm.invalid),
    ("stream ends early", 3, lambda: llm.truncated(after_chunks=5)),
    ("hangs", 3, llm.hang),
)
IMAGE_FAULTS: Sequence[tuple[str, float, Callable[[], img.Reply]]] = (
    ("ok", 70, lambda: img.OK),
    ("429 retry-after", 8, lambda: img.status(429, retry_after="0.05")),
    ("503", 6, lambda: img.status(503)),
    ("not an image", 5, lambda: img.GARBAGE),
    ("no image", 5, lambda: img.NO_IMAGES),
    ("declares 9000x9000", 3, lambda: img.BOMB),
)


T = TypeVar("T")


def draw_faults(
    table: Sequence[tuple[str, float, Callable[[], T]]], rng: random.Random, n: int
) -> tuple[list[T], Counter[str]]:
    """``n`` behaviours drawn from ``table`` by weight, and how many of each were drawn."""
    names = rng.choices(range(len(table)), weights=[w for _, w, _ in table], k=n)
    drawn = Counter(table[i][0] for i in names)
    return [table[i][2]() for i in names], drawn


@dataclass
class Followed:
    """What a client saw of one job."""

    job_id: str
    home: int = 0  # the gateway its client posted to (by index)
    events: list[tuple[int, str, dict[str, Any]]] = field(default_factory=list)
    reconnects: int = 0
    final: dict[str, Any] | None = None
    final_status: int = 0


@dataclass
class Tally:
    jobs: int
    accepted: int = 0
    refused: Counter[int] = field(default_factory=Counter)
    followed: list[Followed] = field(default_factory=list)
    ended: int = 0
    # The chaos starts once this many jobs have ended (the rest are running or queued).
    kill_after: int = 1
    ended_enough: asyncio.Event = field(default_factory=asyncio.Event)
    cancels_sent: int = 0


def stream_gap(events: list[tuple[int, str, dict[str, Any]]]) -> str | None:
    """Why a job's event stream is not whole, or None: ids must run 1, 2, 3 ... and the last
    event, and only the last, must be terminal."""
    ids = [event_id for event_id, _, _ in events]
    if ids != list(range(1, len(ids) + 1)):
        return f"ids {ids[:3]}...{ids[-3:]} are not 1..{len(ids)}"
    kinds = [kind for _, kind, _ in events]
    if not kinds or kinds[-1] not in TERMINAL:
        return f"ends with {kinds[-1:] or 'nothing'}, not done, failed or cancelled"
    if any(kind in TERMINAL for kind in kinds[:-1]):
        return "a terminal event before the last one"
    return None


def answer_errors(answer: dict[str, Any]) -> list[str]:
    """Why a done job's answer is not valid: the CaseStudyResponse schema, then the CaseStudy
    schema for its case study."""
    try:
        CaseStudyResponse.model_validate(answer)
    except ValidationError as exc:
        return [str(error["loc"]) + ": " + error["msg"] for error in exc.errors()]
    _, errors = casestudy_schema.validate(answer["case_study"])
    return errors


async def follow(
    client: httpx.AsyncClient, gateways: Gateways, followed: Followed, deadline: float
) -> None:
    """Read the job's events to its terminal event, reconnecting with Last-Event-ID after a cut
    (to the next gateway, when there are several)."""
    loop = asyncio.get_running_loop()
    while loop.time() < deadline:
        headers = {"Last-Event-ID": str(followed.events[-1][0])} if followed.events else {}
        url = gateways.url(followed.home + followed.reconnects)
        try:
            async with client.stream(
                "GET", f"{url}/v1/case-studies/{followed.job_id}/events", headers=headers
            ) as response:
                if response.status_code == 204:
                    return  # the last event seen was the end
                if response.status_code != 200:
                    followed.final_status = response.status_code
                    return
                await _read_events(response, followed)
                if followed.events and followed.events[-1][1] in TERMINAL:
                    return
        except httpx.TransportError:
            pass
        followed.reconnects += 1
        await asyncio.sleep(0.2)


async def _read_events(response: httpx.Response, followed: Followed) -> None:
    event_id, kind, data = 0, "message", ""
    async for line in response.aiter_lines():
        if line.startswith(":"):
            continue
        if not line:
            if data:
                followed.events.append((event_id, kind, json.loads(data)))
            event_id, kind, data = 0, "message", ""
            continue
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "id":
            event_id = int(value)
        elif name == "event":
            kind = value
        elif name == "data":
            data = f"{data}\n{value}" if data else value


@dataclass(frozen=True)
class Gateways:
    """The gateways' base URLs; a client's requests go to its own, then to the next."""

    urls: Sequence[str]

    def url(self, n: int) -> str:
        return self.urls[n % len(self.urls)]

    async def call(
        self, client: httpx.AsyncClient, home: int, method: str, path: str, **kwargs: Any
    ) -> httpx.Response:
        """One request, made again after a connection error (a kept-alive connection the
        server closed as the request went out, or a gateway that died) on the next gateway;
        every request the run makes may be repeated."""
        for attempt in range(8):
            try:
                return await client.request(method, self.url(home + attempt) + path, **kwargs)
            except httpx.TransportError:
                await asyncio.sleep(0.25)
        return await client.request(method, self.url(home) + path, **kwargs)


async def one_job(
    client: httpx.AsyncClient,
    gateways: Gateways,
    home: int,
    tally: Tally,
    notes: str,
    rng: random.Random,
    cancel_share: float,
    deadline: float,
) -> None:
    # A retried POST with the same Idempotency-Key is the same job: a connection the gateway
    # closed as the request went out costs nothing.
    headers = {"Prefer": "respond-async", "Idempotency-Key": uuid.uuid4().hex}
    response = await gateways.call(
        client, home, "POST", "/v1/case-studies", json={"notes": notes}, headers=headers
    )
    if response.status_code != 202:
        tally.refused[response.status_code] += 1
        return
    tally.accepted += 1
    followed = Followed(response.json()["id"], home)
    tally.followed.append(followed)
    canceller = None
    if rng.random() < cancel_share:
        canceller = asyncio.create_task(_cancel_later(client, gateways, followed, rng.random()))
        tally.cancels_sent += 1
    await follow(client, gateways, followed, deadline)
    if canceller is not None:
        await canceller
    got = await gateways.call(client, home, "GET", f"/v1/case-studies/{followed.job_id}")
    followed.final_status = got.status_code
    if got.status_code == 200:
        followed.final = got.json()
    tally.ended += 1
    if tally.ended >= tally.kill_after:
        tally.ended_enough.set()


async def _cancel_later(
    client: httpx.AsyncClient, gateways: Gateways, followed: Followed, delay_s: float
) -> None:
    await asyncio.sleep(delay_s)
    # 409 when it ended first: fine.
    await gateways.call(client, followed.home, "DELETE", f"/v1/case-studies/{followed.job_id}")


# What --kill names: the process's name in the fleet, and the setting that gives its port.
KILLABLE = {
    "structurer": ("structurer_service", "CASECRAFT_STRUCTURER_PORT"),
    "images": ("image_service", "CASECRAFT_IMAGE_PORT"),
    "gateway": ("gateway0", "CASECRAFT_GATEWAY_PORT"),
}


@dataclass
class Chaos:
    """The mid-run events: OpenRouter down for a while, one process killed and restarted."""

    fleet: Fleet
    openrouter: FakeOpenRouter
    kill: str
    ports: dict[str, int]
    outage_s: float = 3.0
    happened: dict[str, Any] = field(default_factory=dict)

    async def run(self, tally: Tally) -> None:
        await tally.ended_enough.wait()
        self.openrouter.faults.default = img.status(503, "the fake is down for a while")
        began = time.monotonic()
        if self.kill != "none":
            name, variable = KILLABLE[self.kill]
            down_s = await asyncio.to_thread(
                self.fleet.kill_and_restart, name, variable, self.ports[self.kill]
            )
            self.happened["killed"] = {"service": name, "down_s": round(down_s, 2)}
        await asyncio.sleep(max(0.0, self.outage_s - (time.monotonic() - began)))
        self.openrouter.faults.default = img.OK
        self.happened["openrouter_down_s"] = round(time.monotonic() - began, 2)


async def drive(
    gateways: Gateways,
    jobs: int,
    rng: random.Random,
    chaos: Chaos,
    *,
    cancel_share: float,
    deadline_s: float,
    kill_after: int,
) -> tuple[Tally, float]:
    notes = example_notes()
    tally = Tally(jobs, kill_after=kill_after)
    limits = httpx.Limits(max_connections=2 * jobs + 16, max_keepalive_connections=2 * jobs + 16)
    timeout = httpx.Timeout(30.0, read=30.0)
    began = time.monotonic()
    async with httpx.AsyncClient(limits=limits, timeout=timeout) as client:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + deadline_s
        mischief = asyncio.create_task(chaos.run(tally))
        clients = [
            one_job(client, gateways, n, tally, notes[n % len(notes)], rng, cancel_share, deadline)
            for n in range(jobs)
        ]
        try:
            await asyncio.wait_for(asyncio.gather(*clients), timeout=deadline_s + 30)
        except TimeoutError:
            pass  # the jobs still running are counted as stuck below
        if not tally.ended_enough.is_set():
            mischief.cancel()
        await asyncio.gather(mischief, return_exceptions=True)  # a restart under way finishes
        wall_s = time.monotonic() - began
        for followed in tally.followed:
            if followed.final_status == 0:  # its client gave up: ask where the job is now
                path = f"/v1/case-studies/{followed.job_id}"
                got = await gateways.call(client, followed.home, "GET", path)
                followed.final_status = got.status_code
                followed.final = got.json() if got.status_code == 200 else None
    return tally, wall_s


def report(
    tally: Tally, chaos: Chaos, wall_s: float, faults: dict[str, Counter[str]]
) -> dict[str, Any]:
    statuses: Counter[str] = Counter()
    gaps: list[str] = []
    invalid: list[str] = []
    problems: Counter[str] = Counter()
    images: Counter[str] = Counter()
    lost = stuck = 0
    for followed in tally.followed:
        if followed.final_status == 404 or followed.final is None:
            lost += 1
            continue
        status = followed.final["status"]
        statuses[status] += 1
        if status not in TERMINAL:
            stuck += 1
            continue
        gap = stream_gap(followed.events)
        if gap is None and followed.events[-1][1] != status:
            gap = f"the stream ended {followed.events[-1][1]}, the job is {status}"
        if gap is not None:
            gaps.append(f"{followed.job_id}: {gap}")
        if status == "done":
            errors = answer_errors(followed.final)
            if errors:
                invalid.append(f"{followed.job_id}: {errors[0]}")
            images.update(image["status"] for image in followed.final["images"])
        if status == "failed":
            problem = followed.final.get("problem") or {}
            problems[f"{problem.get('status')} {problem.get('title')}"] += 1
    return {
        "jobs": tally.jobs,
        "accepted": tally.accepted,
        "refused": dict(tally.refused),
        "done": statuses["done"],
        "failed": statuses["failed"],
        "cancelled": statuses["cancelled"],
        "lost": lost,
        "stuck": stuck,
        "stream_gaps": len(gaps),
        "invalid_answers": len(invalid),
        "reconnects": sum(f.reconnects for f in tally.followed),
        "events": sum(len(f.events) for f in tally.followed),
        "cancels_sent": tally.cancels_sent,
        "failed_because": dict(problems),
        "images": dict(images),
        "faults_scripted": {name: dict(drawn) for name, drawn in faults.items()},
        **chaos.happened,
        "wall_s": round(wall_s, 2),
        "examples": {"stream_gaps": gaps[:5], "invalid_answers": invalid[:5]},
    }


def _service_env(
    anthropic: str, openrouter: str, openai: str
) -> tuple[dict[str, str], dict[str, str]]:
    # Short timeouts and backoffs so that hangs and retries play out within seconds; a cooldown
    # that rests a failing provider briefly, as the real one does for longer.
    chain = {
        "ATTEMPT_TIMEOUT_S": "3",
        "RETRY_MAX_ATTEMPTS": "4",
        "RETRY_BASE_DELAY_S": "0.05",
        "RETRY_MAX_DELAY_S": "0.5",
        "COOLDOWN_FAILURES": "20",
        "COOLDOWN_S": "1",
    }
    structurer = {
        **{f"CASECRAFT_STRUCTURER_{k}": v for k, v in chain.items()},
        "CASECRAFT_STRUCTURER_PROVIDERS": "anthropic",
        "CASECRAFT_STRUCTURER_READ_TIMEOUT_S": "2",
        "ANTHROPIC_BASE_URL": anthropic,
        "ANTHROPIC_API_KEY": ANTHROPIC_KEY,
    }
    images = {
        **{f"CASECRAFT_IMAGE_{k}": v for k, v in chain.items()},
        "CASECRAFT_IMAGE_RETRY_MAX_ATTEMPTS": "2",
        "CASECRAFT_IMAGE_PROVIDERS": "openrouter,openai,local",
        "CASECRAFT_IMAGE_CONCURRENCY": "16",
        "OPENROUTER_BASE_URL": f"{openrouter}/api/v1",
        "OPENROUTER_API_KEY": OPENROUTER_KEY,
        "OPENAI_BASE_URL": f"{openai}/v1",
        "OPENAI_API_KEY": OPENAI_KEY,
    }
    return structurer, images


def run(
    jobs: int = 300,
    *,
    seed: int = 23,
    kill: str = "structurer",
    cancel_share: float = 0.05,
    deadline_s: float = 180.0,
    kill_after: int | None = None,
    redis_url: str | None = None,
) -> dict[str, Any]:
    """Start the fakes and the services, run the jobs through the chaos, return the report.
    The chaos begins once ``kill_after`` jobs have ended (default: a third of them). With
    ``redis_url``, two gateways keep their jobs in that Redis."""
    if kill == "gateway" and redis_url is None:
        raise ValueError("a killed gateway's jobs are noticed by another gateway through Redis")
    rng = random.Random(seed)
    anthropic = FakeAnthropic(answer=case_study_answer, seed=seed)
    openrouter = FakeOpenRouter(api_key=OPENROUTER_KEY)
    openai = FakeOpenAIImages(api_key=OPENAI_KEY)
    # More faults than calls the run makes: once a fake's script runs out it answers normally.
    llm_script, llm_drawn = draw_faults(LLM_FAULTS, rng, 2 * jobs)
    anthropic.script(*llm_script)
    faults = {"anthropic": llm_drawn}
    for name, fake in (("openrouter", openrouter), ("openai", openai)):
        script, faults[name] = draw_faults(IMAGE_FAULTS, rng, 2 * jobs)
        fake.faults.script(*script)
    gateway_env = {
        # Every job is admitted (queued behind the gateway's ceiling) rather than refused.
        "CASECRAFT_MAX_QUEUED": str(jobs),
        "CASECRAFT_EVENTS_KEEPALIVE_S": "2",
        "CASECRAFT_ACCESS_LOG": "false",
    }
    with ExitStack() as running:
        if redis_url is not None:
            prefix = f"casecraft-chaos:{uuid.uuid4().hex[:8]}:"
            running.callback(forget_redis, redis_url, prefix)
            gateway_env |= {
                "REDIS_URL": redis_url,
                "CASECRAFT_REDIS_PREFIX": prefix,
                "CASECRAFT_JOB_LEASE_S": str(LEASE_S),
            }
        urls = [
            running.enter_context(serve_in_thread(f.app)) for f in (anthropic, openrouter, openai)
        ]
        fleet = running.enter_context(Fleet(gateway_env))
        structurer_env, images_env = _service_env(*urls)
        ports = {
            "structurer": fleet.real_structurer("structurer_service", structurer_env),
            "images": fleet.real_images("image_service", images_env),
        }
        urls = [
            fleet.gateway(f"gateway{n}", structurer=ports["structurer"], images=ports["images"])
            for n in range(1 if redis_url is None else 2)
        ]
        ports["gateway"] = int(urls[0].rpartition(":")[2])
        chaos = Chaos(fleet, openrouter, kill, ports)
        tally, wall_s = asyncio.run(
            drive(
                Gateways(urls),
                jobs,
                rng,
                chaos,
                cancel_share=cancel_share,
                deadline_s=deadline_s,
                kill_after=max(1, jobs // 3) if kill_after is None else kill_after,
            )
        )
    figures = report(tally, chaos, wall_s, faults)
    figures["gateways"] = len(urls)
    figures["jobs_in"] = "redis" if redis_url is not None else "memory"
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=300)
    parser.add_argument("--seed", type=int, default=23)
    parser.add_argument("--kill", choices=[*KILLABLE, "none"], default="structurer")
    parser.add_argument(
        "--redis",
        action="store_true",
        help="jobs in Redis (REDIS_URL or 127.0.0.1:6379) behind two gateways",
    )
    parser.add_argument("--cancel-share", type=float, default=0.05)
    parser.add_argument("--deadline-s", type=float, default=180.0)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    if args.kill == "gateway" and not args.redis:
        parser.error("--kill gateway needs --redis: another gateway notices its jobs through Redis")
    figures = run(
        args.jobs,
        seed=args.seed,
        kill=args.kill,
        cancel_share=args.cancel_share,
        deadline_s=args.deadline_s,
        redis_url=REDIS_URL if args.redis else None,
    )
    if args.json:
        print(json.dumps(figures))
    else:
        for key, value in figures.items():
            print(f"{key:>18}: {value}")
    whole = figures["lost"] == figures["stuck"] == figures["stream_gaps"] == 0
    raise SystemExit(0 if whole and figures["invalid_answers"] == 0 else 1)


if __name__ == "__main__":
    main()
