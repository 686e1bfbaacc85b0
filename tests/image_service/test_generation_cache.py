"""The generation cache and in-flight coalescing, counted on the loopback OpenRouter fake; each
test runs on the memory backend and on the real Redis (a random key prefix per test)."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from pydantic import SecretStr

from casecraft.byte_cache import MemoryCache
from casecraft.redis_store import HEALTH_NAME, RedisLink, RedisUnavailable, connect
from casecraft.v1 import image_pb2, image_pb2_grpc
from image_service import server as image_server
from image_service.coalescing import RedisLocks
from image_service.generation_cache import GenerationCache, _decode, _encode, generation_key
from image_service.image_check import ImageLimits
from image_service.providers import GeneratedImage
from image_service.providers.chain import ChainedImage
from image_service.providers.openrouter import OpenRouterImages
from image_service.providers.registry import resilient
from image_service.servicer import ImageServicer
from image_service.settings import ImageSettings
from tests.conftest import running_images
from tests.fakes.openrouter_images import FakeOpenRouter, photo_sized
from tests.fakes.server import closed_port
from tests.support.providers import RecordingImages
from tests.support.redis import delete_prefix, private_redis, random_prefix, shared_redis

KEY = "sk-or-v1-test-0123456789abcdef"


@pytest.fixture
async def fake() -> AsyncIterator[FakeOpenRouter]:
    fake = FakeOpenRouter(api_key=KEY)
    async with fake.running():
        yield fake


@pytest.fixture(params=["memory", "redis"])
async def backend(request: pytest.FixtureRequest) -> AsyncIterator[dict[str, Any]]:
    """The image service's settings for the cache's backend."""
    if request.param == "memory":
        yield {}
        return
    url, prefix = await shared_redis(), random_prefix()
    yield {"redis_url": url, "redis_prefix": prefix}
    await delete_prefix(url, prefix)


def provider(fake: FakeOpenRouter) -> OpenRouterImages:
    return OpenRouterImages(
        api_key=SecretStr(KEY),
        base_url=fake.base_url,
        model="google/gemini-3.1-flash-image-preview",
        fast_model="google/gemini-2.5-flash-image",
        limits=ImageLimits(max_bytes=5_000_000, max_pixels=4096 * 4096),
        timeout_s=10,
    )


def hero(job_id: str = "hero", title: str = "How Acme cut dispatch time", **fields: Any) -> Any:
    data = image_pb2.HeroData(client_name="Acme", industry="Logistics", title=title)
    return image_pb2.ImageJob(job_id=job_id, hero=data, **fields)


def one(job: image_pb2.ImageJob) -> Iterator[image_pb2.ImageJobs]:
    return iter([image_pb2.ImageJobs(jobs=[job])])


async def generate(port: int, *jobs: image_pb2.ImageJob) -> list[image_pb2.ImageResult]:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        stub = image_pb2_grpc.ImageGeneratorStub(channel)
        call = stub.Generate(iter([image_pb2.ImageJobs(jobs=list(jobs))]))
        return [r async for m in call for r in m.results]


async def test_a_repeated_job_is_served_from_the_cache_without_a_provider_call(
    fake: FakeOpenRouter, backend: dict[str, Any]
) -> None:
    async with running_images(provider(fake), **backend) as server:
        [first] = await generate(server.port, hero())
        [again] = await generate(server.port, hero(job_id="another id", timeout_ms=30_000))
        [other] = await generate(server.port, hero(title="A different title"))
        [fast] = await generate(server.port, hero(options=image_pb2.ImageOptions(fast=True)))
    assert len(fake.requests) == 3  # first, other title, fast: the repeat called nobody
    assert first.status == again.status == image_pb2.IMAGE_STATUS_OK
    assert (first.cache_hit, first.attempts) == (False, 1)
    assert (again.cache_hit, again.attempts) == (True, 0)
    # Served without a provider call: no slot was waited for.
    assert [s.name for s in again.spans if s.name.startswith("image.")] == ["image.generate"]
    assert again.image == first.image and again.sha256 == first.sha256
    assert again.sha256 == hashlib.sha256(again.image).hexdigest()
    assert (again.provider, again.model) == (first.provider, first.model)
    assert again.job_id == "another id"
    assert not other.cache_hit and other.image != first.image
    assert not fast.cache_hit and fast.model == "google/gemini-2.5-flash-image"


async def test_the_reference_image_is_part_of_the_key(
    fake: FakeOpenRouter, backend: dict[str, Any]
) -> None:
    from tests.support.providers import png

    logo, other_logo = png(colour=(200, 0, 0)), png(colour=(0, 200, 0))
    async with running_images(provider(fake), **backend) as server:
        for reference in (logo, logo, other_logo):
            await generate(
                server.port, hero(reference_image=reference, reference_media_type="image/png")
            )
    assert len(fake.requests) == 2


async def test_bypass_cache_makes_a_new_image_and_replaces_the_cached_one(
    fake: FakeOpenRouter, backend: dict[str, Any]
) -> None:
    async with running_images(provider(fake), **backend) as server:
        await generate(server.port, hero())
        [fresh] = await generate(server.port, hero(bypass_cache=True))
        [after] = await generate(server.port, hero())
    assert len(fake.requests) == 2
    assert (fresh.cache_hit, fresh.attempts) == (False, 1)
    assert after.cache_hit and after.sha256 == fresh.sha256


async def test_a_cache_only_job_answers_from_the_cache_and_never_calls_a_provider(
    fake: FakeOpenRouter, backend: dict[str, Any]
) -> None:
    async with running_images(provider(fake), **backend) as server:
        [before] = await generate(server.port, hero(cache_only=True))
        [made] = await generate(server.port, hero())
        [after] = await generate(server.port, hero(job_id="asked", cache_only=True))
    assert len(fake.requests) == 1  # the plain job's: asking the cache calls nobody
    assert before.status == image_pb2.IMAGE_STATUS_NOT_CACHED and not before.image
    assert not before.error  # not a failure: the image is simply not there
    assert after.status == image_pb2.IMAGE_STATUS_OK and after.cache_hit
    assert after.job_id == "asked" and after.sha256 == made.sha256  # cache_only is not keyed


async def test_a_cache_only_job_with_the_cache_off_is_not_cached(fake: FakeOpenRouter) -> None:
    async with running_images(provider(fake), cache="off") as server:
        await generate(server.port, hero())
        [asked] = await generate(server.port, hero(cache_only=True))
    assert asked.status == image_pb2.IMAGE_STATUS_NOT_CACHED
    assert len(fake.requests) == 1


async def test_results_finished_together_come_in_one_message(fake: FakeOpenRouter) -> None:
    titles = ("One", "Two", "Three")
    async with running_images(provider(fake)) as server:
        await generate(server.port, *(hero(t, title=t) for t in titles))
        async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
            stub = image_pb2_grpc.ImageGeneratorStub(channel)
            jobs = image_pb2.ImageJobs(jobs=[hero(f"again {t}", title=t) for t in titles])
            messages = [m async for m in stub.Generate(iter([jobs]))]
    # Three cache hits answer within one turn of the service's loop: one message carries them.
    assert [[r.job_id for r in m.results] for m in messages] == [[f"again {t}" for t in titles]]
    assert all(r.cache_hit for r in messages[0].results)


async def test_large_results_finished_together_are_split_to_stay_under_the_limit(
    fake: FakeOpenRouter,
) -> None:
    fake.faults.default = photo_sized(600 * 1024)
    titles = ("One", "Two", "Three")
    async with running_images(provider(fake)) as server:
        await generate(server.port, *(hero(t, title=t) for t in titles))
        async with grpc.aio.insecure_channel(
            f"127.0.0.1:{server.port}", options=[("grpc.max_receive_message_length", 2**20)]
        ) as channel:
            stub = image_pb2_grpc.ImageGeneratorStub(channel)
            jobs = image_pb2.ImageJobs(jobs=[hero(f"again {t}", title=t) for t in titles])
            messages = [m async for m in stub.Generate(iter([jobs]))]
    # Two of these images would pass a 1 MiB limit (the smallest either end may set, here the
    # reader's): each travels alone.
    assert [len(m.results) for m in messages] == [1, 1, 1]
    assert all(r.cache_hit and len(r.image) > 500_000 for m in messages for r in m.results)


async def test_cache_off_calls_the_provider_for_every_job(fake: FakeOpenRouter) -> None:
    async with running_images(provider(fake), cache="off") as server:
        results = [(await generate(server.port, hero()))[0] for _ in range(2)]
        both = await generate(server.port, hero("a"), hero("b"))
    assert len(fake.requests) == 4
    assert not any(r.cache_hit for r in [*results, *both])


async def test_identical_jobs_in_flight_share_one_call_and_a_leaver_does_not_cancel_it(
    fake: FakeOpenRouter, backend: dict[str, Any]
) -> None:
    fake.faults.gate = asyncio.Event()
    settings = ImageSettings(**backend)
    link = RedisLink(connect(settings.redis_url)) if settings.redis_url else None
    cache = image_server.generation_cache(settings, link)
    assert cache is not None
    chain = resilient([provider(fake)], settings)
    servicer = ImageServicer(chain, concurrency=3, job_timeout_s=30, cache=cache)
    key = generation_key(hero(), chain.next_provider())
    try:
        leaver = asyncio.ensure_future(servicer.run_job(hero("leaver")))
        await fake.faults.arrivals.get()  # the first job's call is at the provider
        stayers = [asyncio.ensure_future(servicer.run_job(hero(f"job-{n}"))) for n in range(20)]
        async with asyncio.timeout(10):
            await cache.until_waiting(key, 21)  # every job has joined the call in flight
        leaver.cancel()  # as a gRPC call's jobs are when its caller cancels
        with pytest.raises(asyncio.CancelledError):
            await leaver
        fake.faults.gate.set()
        results = await asyncio.gather(*stayers)
        later = await servicer.run_job(hero("later"))
    finally:
        if link is not None:
            await link.aclose()
    assert len(fake.requests) == 1
    assert all(r.status == image_pb2.IMAGE_STATUS_OK and r.cache_hit for r in results)
    assert len({r.sha256 for r in results}) == 1
    assert {r.attempts for r in results} == {0}
    assert later.cache_hit  # the shared image was cached


async def test_the_last_job_to_leave_a_shared_call_cancels_it_and_a_later_job_calls_afresh(
    backend: dict[str, Any],
) -> None:
    images = RecordingImages(hold=True)
    settings = ImageSettings(**backend)
    link = RedisLink(connect(settings.redis_url)) if settings.redis_url else None
    cache = image_server.generation_cache(settings, link)
    assert cache is not None
    servicer = ImageServicer(
        resilient([images], settings), concurrency=3, job_timeout_s=30, cache=cache
    )
    try:
        first = asyncio.ensure_future(servicer.run_job(hero("first")))
        second = asyncio.ensure_future(servicer.run_job(hero("second")))
        await images.started.get()  # one call at the provider for both jobs
        async with asyncio.timeout(10):
            await cache.until_waiting(generation_key(hero(), images), 2)
        first.cancel()
        second.cancel()  # as a cancelled job's calls are: nobody waits for the image now
        await images.cancelled.wait()
        images.release.set()
        later = await servicer.run_job(hero("later"))
    finally:
        if link is not None:
            await link.aclose()
    # One call for the two cancelled jobs (whichever reached the cache first made it; over Redis
    # either can), then one for the later job: the cancelled call's image was never cached.
    calls = [job.job_id for job in images.jobs]
    assert len(calls) == 2 and calls[0] in {"first", "second"} and calls[1] == "later"
    assert later.status == image_pb2.IMAGE_STATUS_OK and not later.cache_hit


async def test_a_service_stopped_mid_call_ends_the_shared_call_and_gives_its_lock_back(
    fake: FakeOpenRouter,
) -> None:
    url, prefix = await shared_redis(), random_prefix()
    fake.faults.gate = asyncio.Event()  # the provider never answers
    try:
        server = await image_server.start(
            ImageSettings(port=0, redis_url=url, redis_prefix=prefix), provider(fake)
        )
        caller = asyncio.ensure_future(generate(server.port, hero()))
        await fake.faults.arrivals.get()  # the shared call holds the key's lock
        lock = f"{prefix}image:lock:{generation_key(hero(), provider(fake))}"
        client = connect(url)
        try:
            assert await client.exists(lock)
            await server.stop(None)
            # The call was ended, not left to outlive the service: its lock is free at once
            # for another replica, not after the lock's TTL.
            assert not await client.exists(lock)
        finally:
            await client.aclose()
        with pytest.raises(grpc.aio.AioRpcError):
            await caller
    finally:
        await delete_prefix(url, prefix)


@asynccontextmanager
async def image_replicas(
    fake: FakeOpenRouter, count: int
) -> AsyncIterator[tuple[list[Any], list[ImageServicer]]]:
    """``count`` image services on the shared Redis (a fresh prefix): their generation caches
    and servicers."""
    url, prefix = await shared_redis(), random_prefix()
    settings = ImageSettings(redis_url=url, redis_prefix=prefix)
    links = [RedisLink(connect(url)) for _ in range(count)]
    caches = [image_server.generation_cache(settings, link) for link in links]
    try:
        yield (
            caches,
            [
                ImageServicer(
                    resilient([provider(fake)], settings),
                    concurrency=3,
                    job_timeout_s=30,
                    cache=cache,
                )
                for cache in caches
            ],
        )
    finally:
        for link in links:
            await link.aclose()
        await delete_prefix(url, prefix)


async def test_two_image_services_on_one_redis_make_a_shared_image_once(
    fake: FakeOpenRouter,
) -> None:
    fake.faults.gate = asyncio.Event()
    key = generation_key(hero(), provider(fake))
    async with image_replicas(fake, 2) as (caches, servicers):
        making = asyncio.ensure_future(servicers[0].run_job(hero("one")))
        await fake.faults.arrivals.get()  # the first replica holds the key and is making it
        waiting = asyncio.ensure_future(servicers[1].run_job(hero("two")))
        async with asyncio.timeout(10):
            await caches[1].until_waiting(key, 1)  # type: ignore[union-attr]
        fake.faults.gate.set()
        made, shared = await making, await waiting
    assert len(fake.requests) == 1
    assert (made.cache_hit, shared.cache_hit) == (False, True)
    assert shared.sha256 == made.sha256 and shared.attempts == 0


async def test_a_maker_whose_jobs_all_left_hands_the_image_to_one_waiting_replica(
    fake: FakeOpenRouter,
) -> None:
    fake.faults.gate = asyncio.Event()
    key = generation_key(hero(), provider(fake))
    async with image_replicas(fake, 3) as (caches, servicers):
        making = asyncio.ensure_future(servicers[0].run_job(hero("one")))
        await fake.faults.arrivals.get()  # the first replica holds the key and is making it
        waiting = [
            asyncio.ensure_future(s.run_job(hero(f"w{n}"))) for n, s in enumerate(servicers[1:])
        ]
        async with asyncio.timeout(10):
            for cache in caches[1:]:
                await cache.until_waiting(key, 1)  # type: ignore[union-attr]
        making.cancel()  # the maker's only job leaves: it gives the key up unmade
        await fake.faults.arrivals.get()  # one waiting replica took the key and calls the provider
        fake.faults.gate.set()
        results = await asyncio.gather(*waiting)
    assert len(fake.requests) == 2  # the abandoned call and one more, not one per waiter
    assert all(r.status == image_pb2.IMAGE_STATUS_OK for r in results)
    assert sorted(r.cache_hit for r in results) == [False, True]
    assert len({r.sha256 for r in results}) == 1


class SetThenStall:
    """A Redis link whose commands reach Redis and whose replies never come back, as when a
    cancellation lands between a command's send and its reply."""

    def __init__(self, link: RedisLink) -> None:
        self.client = link.client
        self.sent = asyncio.Event()
        self._link = link

    async def run(self, command: Any, default: Any) -> Any:
        if self.sent.is_set():  # the release, once the stalled command was cancelled
            return await self._link.run(command, default)
        await command(self.client)
        self.sent.set()
        await asyncio.Event().wait()


async def test_a_lock_taken_as_its_caller_is_cancelled_is_given_back() -> None:
    url, prefix = await shared_redis(), random_prefix()
    link = RedisLink(connect(url))
    stalling = SetThenStall(link)
    locks = RedisLocks(stalling, prefix=prefix, lock_ttl_s=120, wait_s=120)  # type: ignore[arg-type]
    try:
        acquiring = asyncio.ensure_future(locks.acquire("k"))
        await stalling.sent.wait()
        held_then = await link.client.exists(f"{prefix}lock:k")
        acquiring.cancel()
        with pytest.raises(asyncio.CancelledError):
            await acquiring
        held_after = await link.client.exists(f"{prefix}lock:k")
    finally:
        await link.aclose()
        await delete_prefix(url, prefix)
    assert (held_then, held_after) == (1, 0)


class SwallowsCancellation:
    """Locks whose claim loses a cancellation, as asyncio.wait_for on Python 3.11 can when the
    cancellation comes as its command completes."""

    def __init__(self) -> None:
        self.claimed = asyncio.Event()
        self.released: list[str] = []

    async def claim(self, key: str, read: Any) -> tuple[None, str]:
        self.claimed.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            pass
        return None, "token"

    async def release(self, key: str, token: str, *, outcome: str) -> None:
        self.released.append(outcome)


async def test_a_cancellation_a_lower_layer_lost_still_keeps_the_provider_from_being_called() -> (
    None
):
    locks, made = SwallowsCancellation(), []
    cache = GenerationCache(MemoryCache(1_000_000), locks=locks)  # type: ignore[arg-type]

    async def make() -> ChainedImage:
        made.append(1)
        raise AssertionError("the provider was called for an image nobody wants")

    serving = asyncio.ensure_future(cache.serve("k", make))
    await locks.claimed.wait()
    serving.cancel()
    with pytest.raises(asyncio.CancelledError):
        await serving
    await asyncio.sleep(0)  # the shared call's task runs to its end
    assert made == [] and locks.released == ["abandoned"]


async def test_redis_lost_and_back_the_cache_misses_meanwhile_and_recovers(
    fake: FakeOpenRouter,
) -> None:
    transitions: list[bool] = []

    async def heard(available: bool) -> None:
        transitions.append(available)

    async with private_redis() as redis_server:
        link = RedisLink(connect(redis_server.url), retry_s=0, on_change=heard)
        settings = ImageSettings(redis_url=redis_server.url, redis_prefix=random_prefix())
        servicer = ImageServicer(
            resilient([provider(fake)], settings),
            concurrency=3,
            job_timeout_s=30,
            cache=image_server.generation_cache(settings, link),
        )
        try:
            assert not (await servicer.run_job(hero())).cache_hit
            assert (await servicer.run_job(hero())).cache_hit
            await redis_server.stop()
            down = [await servicer.run_job(hero()) for _ in range(2)]
            await redis_server.start()  # empty: nothing of before survives
            back = [await servicer.run_job(hero()) for _ in range(2)]
        finally:
            await link.aclose()
    assert [r.status for r in down] == [image_pb2.IMAGE_STATUS_OK] * 2
    assert [r.cache_hit for r in down] == [False, False]
    assert [r.cache_hit for r in back] == [False, True]
    assert len(fake.requests) == 4
    assert transitions == [False, True]


async def test_readiness_reports_a_lost_redis_while_jobs_still_succeed(
    fake: FakeOpenRouter,
) -> None:
    async with private_redis() as redis_server:
        async with (
            running_images(provider(fake), redis_url=redis_server.url) as server,
            grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel,
        ):
            health = health_pb2_grpc.HealthStub(channel)
            request = health_pb2.HealthCheckRequest(service=HEALTH_NAME)
            assert (await health.Check(request)).status == health_pb2.HealthCheckResponse.SERVING
            await redis_server.stop()
            [result] = await generate(server.port, hero())
            assert result.status == image_pb2.IMAGE_STATUS_OK
            status = (await health.Check(request)).status
            assert status == health_pb2.HealthCheckResponse.NOT_SERVING
            overall = await health.Check(health_pb2.HealthCheckRequest(service=""))
            assert overall.status == health_pb2.HealthCheckResponse.SERVING


async def test_an_unreachable_redis_at_start_stops_the_service_with_one_line() -> None:
    url = f"redis://:s3cret@127.0.0.1:{closed_port()}/0"
    with pytest.raises(RedisUnavailable) as stopped:
        await image_server.start(ImageSettings(port=0, redis_url=url))
    message = str(stopped.value)
    assert "REDIS_URL" in message and "\n" not in message and "s3cret" not in message


async def test_the_memory_cache_keeps_its_byte_budget_least_recently_used_first() -> None:
    cache = MemoryCache(max_bytes=10)
    await cache.set("a", b"1234")
    await cache.set("b", b"1234")
    assert await cache.get("a") == b"1234"  # a is now the most recently used
    await cache.set("c", b"1234")
    assert (await cache.get("b"), cache.bytes, len(cache)) == (None, 8, 2)
    await cache.set("huge", b"x" * 11)
    assert await cache.get("huge") is None and cache.bytes == 8


def test_an_image_read_from_the_cache_brings_its_sha256_along() -> None:
    """A hit is not hashed again (a megabyte or two of PNG per image): the address stored with
    the image is the one answered; an entry stored without one has it worked out."""
    image = GeneratedImage(data=b"png", media_type="image/png", width=1, height=1, model="m")
    stored = image_pb2.ImageResult.FromString(_encode(ChainedImage(image, "p", 1)))
    assert stored.sha256 == hashlib.sha256(b"png").hexdigest()
    stored.sha256 = "f" * 64
    assert _decode(stored.SerializeToString()).image.sha256 == "f" * 64
    stored.ClearField("sha256")
    assert _decode(stored.SerializeToString()).image.sha256 == hashlib.sha256(b"png").hexdigest()
