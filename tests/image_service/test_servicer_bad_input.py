"""ImageGenerator.Generate against callers that are not the gateway: bad messages, limits, cancels."""

from __future__ import annotations

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from casecraft.v1 import image_pb2, image_pb2_grpc
from image_service.servicer import MAX_JOBS_PER_CALL
from tests.conftest import running_images
from tests.support.providers import RecordingImages, next_result

GENERATE = "/casecraft.v1.ImageGenerator/Generate"


def hero_job(job_id: str) -> image_pb2.ImageJob:
    return image_pb2.ImageJob(job_id=job_id, hero=image_pb2.HeroData(title=job_id))


def message(*jobs: image_pb2.ImageJob) -> image_pb2.ImageJobs:
    return image_pb2.ImageJobs(jobs=jobs)


def started(provider: RecordingImages) -> list[str]:
    return [job.job_id for job in provider.jobs]


async def test_jobs_accepted_before_a_malformed_one_finish_then_the_call_is_invalid() -> None:
    provider = RecordingImages(hold=True)
    async with running_images(provider) as server:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
            call = image_pb2_grpc.ImageGeneratorStub(channel).Generate()
            await call.write(message(hero_job("accepted")))
            await provider.started.get()
            await call.write(message(image_pb2.ImageJob(job_id="no-data")))
            await call.write(message(hero_job("after-the-error")))
            provider.release.set()
            result = await next_result(call)
            with pytest.raises(grpc.aio.AioRpcError) as error:
                await call.read()
    assert isinstance(result, image_pb2.ImageResult)
    assert result.job_id == "accepted" and result.status == image_pb2.IMAGE_STATUS_OK
    assert error.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    details = error.value.details() or ""
    assert "job 'no-data': data" in details and "no job of that message" in details
    assert started(provider) == ["accepted"]


@pytest.mark.parametrize(
    ("jobs", "names"),
    [
        ((hero_job("a"), hero_job("a")), "used twice"),
        ((hero_job("a"), image_pb2.ImageJob(job_id="b")), "job 'b': data"),
    ],
    ids=["duplicate-id", "no-data"],
)
async def test_a_message_with_a_malformed_job_runs_none_of_its_jobs(
    jobs: tuple[image_pb2.ImageJob, ...], names: str
) -> None:
    provider = RecordingImages()
    async with running_images(provider) as server:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
            call = image_pb2_grpc.ImageGeneratorStub(channel).Generate(iter([message(*jobs)]))
            with pytest.raises(grpc.aio.AioRpcError) as error:
                [r async for m in call for r in m.results]
    assert error.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert names in (error.value.details() or "")
    assert started(provider) == []


@pytest.mark.parametrize(
    "unparsable",
    [
        b"\x0a\x05\x0a\x03\xff\xfe\xfd",  # jobs { job_id: <bytes that are not UTF-8> }
        b"\xff\xff\xff",  # not protobuf at all
    ],
    ids=["not-utf8", "not-protobuf"],
)
async def test_an_unparsable_message_is_invalid_argument_not_a_quiet_end_of_input(
    unparsable: bytes,
) -> None:
    provider = RecordingImages()
    async with running_images(provider) as server:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
            generate = channel.stream_stream(
                GENERATE, response_deserializer=image_pb2.ImageResults.FromString
            )
            first = message(hero_job("a")).SerializeToString()
            last = message(hero_job("b")).SerializeToString()
            call = generate(iter([first, unparsable, last]))
            results = []
            with pytest.raises(grpc.aio.AioRpcError) as error:
                async for m in call:
                    results.extend(m.results)
    assert [r.job_id for r in results] == ["a"]
    assert error.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert "message 2: not a valid casecraft.v1.ImageJobs" in (error.value.details() or "")
    assert started(provider) == ["a"]


async def test_a_call_accepts_a_bounded_number_of_jobs() -> None:
    provider = RecordingImages()
    first = message(*(hero_job(f"a{n}") for n in range(MAX_JOBS_PER_CALL - 1)))
    over = message(hero_job("b1"), hero_job("b2"))
    async with running_images(provider) as server:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
            call = image_pb2_grpc.ImageGeneratorStub(channel).Generate(iter([first, over]))
            results = []
            with pytest.raises(grpc.aio.AioRpcError) as error:
                async for m in call:
                    results.extend(m.results)
    assert len(results) == MAX_JOBS_PER_CALL - 1
    assert all(r.status == image_pb2.IMAGE_STATUS_OK for r in results)
    assert error.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert f"at most {MAX_JOBS_PER_CALL}" in (error.value.details() or "")
    assert not {"b1", "b2"} & set(started(provider))


async def test_empty_messages_and_an_immediate_half_close_end_the_call_cleanly() -> None:
    async with running_images(RecordingImages()) as server:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
            stub = image_pb2_grpc.ImageGeneratorStub(channel)
            nothing = stub.Generate(iter([]))
            assert [m async for m in nothing] == []
            assert await nothing.code() is grpc.StatusCode.OK
            empty_then_one = stub.Generate(iter([message(), message(hero_job("a"))]))
            assert [r.job_id async for m in empty_then_one for r in m.results] == ["a"]


async def test_a_client_cancelling_mid_stream_cancels_its_jobs() -> None:
    provider = RecordingImages(hold=True)
    async with running_images(provider) as server:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
            call = image_pb2_grpc.ImageGeneratorStub(channel).Generate()
            await call.write(message(hero_job("a")))
            await provider.started.get()
            call.cancel()
            await provider.cancelled.wait()
    assert started(provider) == ["a"]


async def test_health_and_reflection_answer_after_bad_input() -> None:
    async with running_images(RecordingImages()) as server:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
            call = image_pb2_grpc.ImageGeneratorStub(channel).Generate(
                iter([message(image_pb2.ImageJob())])
            )
            with pytest.raises(grpc.aio.AioRpcError):
                [r async for m in call for r in m.results]
            health = await health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service="casecraft.v1.ImageGenerator")
            )
            reflection = reflection_pb2_grpc.ServerReflectionStub(channel)
            listing = reflection.ServerReflectionInfo(
                iter([reflection_pb2.ServerReflectionRequest(list_services="")])
            )
            listed = [s.name async for r in listing for s in r.list_services_response.service]
    assert health.status == health_pb2.HealthCheckResponse.SERVING
    assert "casecraft.v1.ImageGenerator" in listed
