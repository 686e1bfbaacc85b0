"""The image service's fan-out: one service-wide sliding window, per-job timeouts, isolation."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import grpc
import pytest

from casecraft.v1 import image_pb2, image_pb2_grpc
from image_service.providers import GeneratedImage
from tests.conftest import running_images
from tests.support.providers import next_result


class GatedProvider:
    """Holds every job until the test releases it by job id; records how many run at once."""

    name = "gated"

    def __init__(self) -> None:
        self.gates: dict[str, asyncio.Event] = {}
        self.started: asyncio.Queue[str] = asyncio.Queue()
        self.running = 0
        self.peak = 0

    def gate(self, job_id: str) -> asyncio.Event:
        return self.gates.setdefault(job_id, asyncio.Event())

    async def generate(self, job: image_pb2.ImageJob) -> GeneratedImage:
        self.running += 1
        self.peak = max(self.peak, self.running)
        self.started.put_nowait(job.job_id)
        try:
            await self.gate(job.job_id).wait()
            if job.prompt == "fail":
                raise RuntimeError("the provider refused this job")
            return GeneratedImage(b"\x89PNG-" + job.job_id.encode(), "image/png", 10, 10, "gate-1")
        finally:
            self.running -= 1


def hero_job(job_id: str, **fields: object) -> image_pb2.ImageJob:
    return image_pb2.ImageJob(job_id=job_id, hero=image_pb2.HeroData(title=job_id), **fields)  # type: ignore[arg-type]


def each(*jobs: image_pb2.ImageJob) -> Iterator[image_pb2.ImageJobs]:
    """The jobs as a call's requests, one job per message."""
    return iter([image_pb2.ImageJobs(jobs=[job]) for job in jobs])


async def jobs_from(
    queue: asyncio.Queue[image_pb2.ImageJob | None],
) -> AsyncIterator[image_pb2.ImageJobs]:
    while (job := await queue.get()) is not None:
        yield image_pb2.ImageJobs(jobs=[job])


async def test_limit_is_shared_by_concurrent_calls_and_slots_slide() -> None:
    provider = GatedProvider()
    async with running_images(provider, concurrency=2) as server:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
            stub = image_pb2_grpc.ImageGeneratorStub(channel)
            first = stub.Generate(each(hero_job("a1"), hero_job("a2")))
            second = stub.Generate(each(hero_job("b1"), hero_job("b2")))
            read_first = asyncio.create_task(_collect(first))
            read_second = asyncio.create_task(_collect(second))
            started = {await provider.started.get(), await provider.started.get()}
            assert provider.running == 2 and provider.started.empty()
            # Releasing one job frees one slot at once (a sliding window, not a chunk of two).
            finished = started.pop()
            provider.gate(finished).set()
            await provider.started.get()  # the third job takes the freed slot
            assert provider.running == 2
            for job_id in ("a1", "a2", "b1", "b2"):
                provider.gate(job_id).set()
            results = await read_first + await read_second
    assert provider.peak == 2
    assert sorted(r.job_id for r in results) == ["a1", "a2", "b1", "b2"]
    assert all(r.status == image_pb2.IMAGE_STATUS_OK for r in results)


async def _collect(call: grpc.aio.StreamStreamCall) -> list[image_pb2.ImageResult]:
    return [r async for m in call for r in m.results]


async def test_results_arrive_as_each_job_finishes_and_a_failure_fails_only_its_job() -> None:
    provider = GatedProvider()
    async with running_images(provider, concurrency=3) as server:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
            call = image_pb2_grpc.ImageGeneratorStub(channel).Generate(
                each(hero_job("slow"), hero_job("broken", prompt="fail"), hero_job("fast"))
            )
            for _ in range(3):
                await provider.started.get()
            provider.gate("fast").set()
            assert (await next_result(call)).job_id == "fast"
            provider.gate("broken").set()
            broken = await next_result(call)
            assert broken.job_id == "broken"
            assert broken.status == image_pb2.IMAGE_STATUS_FAILED
            assert "refused" in broken.error
            provider.gate("slow").set()
            slow = await next_result(call)
            assert slow.status == image_pb2.IMAGE_STATUS_OK and slow.image.endswith(b"slow")
            assert await call.read() is grpc.aio.EOF


async def test_jobs_sent_in_one_message_all_run_at_once() -> None:
    provider = GatedProvider()
    async with running_images(provider, concurrency=3) as server:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
            together = image_pb2.ImageJobs(jobs=[hero_job("x"), hero_job("y"), hero_job("z")])
            call = image_pb2_grpc.ImageGeneratorStub(channel).Generate(iter([together]))
            started = {await provider.started.get() for _ in range(3)}
            assert started == {"x", "y", "z"} and provider.running == 3
            for job_id in started:
                provider.gate(job_id).set()
            results = await _collect(call)
    assert sorted(r.job_id for r in results) == ["x", "y", "z"]
    assert all(r.status == image_pb2.IMAGE_STATUS_OK for r in results)


async def test_a_job_over_its_timeout_times_out_alone() -> None:
    provider = GatedProvider()
    async with running_images(provider) as server:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
            call = image_pb2_grpc.ImageGeneratorStub(channel).Generate(
                each(hero_job("stuck", timeout_ms=50), hero_job("fine"))
            )
            await provider.started.get()
            await provider.started.get()
            stuck = await next_result(call)  # never released: only its own timeout ends it
            assert stuck.job_id == "stuck"
            assert stuck.status == image_pb2.IMAGE_STATUS_TIMED_OUT
            assert "timed out" in stuck.error
            provider.gate("fine").set()
            fine = await next_result(call)
            assert fine.status == image_pb2.IMAGE_STATUS_OK


async def test_jobs_sent_later_on_an_open_stream_start_when_sent() -> None:
    provider = GatedProvider()
    queue: asyncio.Queue[image_pb2.ImageJob | None] = asyncio.Queue()
    async with running_images(provider) as server:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
            call = image_pb2_grpc.ImageGeneratorStub(channel).Generate(jobs_from(queue))
            queue.put_nowait(hero_job("early"))
            assert await provider.started.get() == "early"
            provider.gate("early").set()
            assert (await next_result(call)).job_id == "early"
            queue.put_nowait(hero_job("late"))
            assert await provider.started.get() == "late"
            provider.gate("late").set()
            queue.put_nowait(None)
            assert (await next_result(call)).job_id == "late"
            assert await call.read() is grpc.aio.EOF


@pytest.mark.parametrize(
    ("job", "names"),
    [
        (image_pb2.ImageJob(job_id="x"), "data"),
        (image_pb2.ImageJob(hero=image_pb2.HeroData(title="t")), "job_id"),
        (image_pb2.ImageJob(job_id="m", metrics=image_pb2.MetricsData()), "metrics.metrics"),
        (image_pb2.ImageJob(job_id="t", timeline=image_pb2.TimelineData()), "timeline.phases"),
        (hero_job("w", options=image_pb2.ImageOptions(width=10)), "options.width"),
        (
            hero_job("r", reference_image=b"GIF89a", reference_media_type="image/gif"),
            "reference_media_type",
        ),
        (
            hero_job("p", reference_image=b"not a png", reference_media_type="image/png"),
            "reference_image",
        ),
        (hero_job("c", cache_only=True, bypass_cache=True), "cache_only and bypass_cache"),
    ],
)
async def test_a_malformed_job_is_invalid_argument_naming_the_field(
    job: image_pb2.ImageJob, names: str
) -> None:
    async with running_images(GatedProvider()) as server:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
            call = image_pb2_grpc.ImageGeneratorStub(channel).Generate(each(job))
            with pytest.raises(grpc.aio.AioRpcError) as error:
                await _collect(call)
    assert error.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert names in (error.value.details() or "")


async def test_duplicate_job_ids_are_rejected() -> None:
    provider = GatedProvider()
    provider.gate("same").set()
    async with running_images(provider) as server:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
            call = image_pb2_grpc.ImageGeneratorStub(channel).Generate(
                each(hero_job("same"), hero_job("same"))
            )
            with pytest.raises(grpc.aio.AioRpcError) as error:
                await _collect(call)
    assert error.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert "used twice" in (error.value.details() or "")
