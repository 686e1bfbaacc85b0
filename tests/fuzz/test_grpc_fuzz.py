"""Both gRPC services fuzzed from the outside: random bytes and random well-formed messages.

Whatever arrives, a call ends with OK or a status that tells the caller what to fix
(INVALID_ARGUMENT, FAILED_PRECONDITION, RESOURCE_EXHAUSTED, ...), never UNKNOWN or INTERNAL; the
server keeps answering; and no task of a call outlives it. The services run the embedded local
providers, in a thread of their own, so hypothesis drives plain blocking calls.
"""

from __future__ import annotations

import asyncio
import functools
import threading
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from typing import Any, TypeVar

import grpc
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from casecraft.grpc_server import RunningServer
from casecraft.v1 import case_study_pb2, image_pb2, structurer_pb2
from image_service import server as image_server
from image_service.settings import ImageSettings
from structurer_service import server as structurer_server
from structurer_service.settings import StructurerSettings

T = TypeVar("T")
# What a caller can act on. UNKNOWN and INTERNAL would mean the service failed on its own.
ACCEPTABLE = {
    grpc.StatusCode.OK,
    grpc.StatusCode.INVALID_ARGUMENT,
    grpc.StatusCode.FAILED_PRECONDITION,
    grpc.StatusCode.RESOURCE_EXHAUSTED,
    grpc.StatusCode.OUT_OF_RANGE,
}
FUZZ = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    database=None,
)
TIMEOUT_S = 30.0


class Background:
    """A service started in an event loop of its own thread; calls are made from the test."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()

    def run(self, coro: Awaitable[T]) -> T:
        future: Future[T] = asyncio.run_coroutine_threadsafe(coro, self.loop)  # type: ignore[arg-type]
        return future.result(timeout=TIMEOUT_S)

    def pending_tasks(self) -> list[str]:
        async def names() -> list[str]:
            current = asyncio.current_task()
            return sorted(
                repr(task.get_coro()).split(" at ")[0]
                for task in asyncio.all_tasks()
                if task is not current and not task.done()
            )

        return self.run(names())

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join()
        self.loop.close()


@contextmanager
def serving(start: Callable[[], Awaitable[RunningServer]]) -> Iterator[tuple[Background, str]]:
    background = Background()
    running = background.run(start())
    try:
        yield background, f"127.0.0.1:{running.port}"
    finally:
        background.run(running.server.stop(None))
        background.close()


@pytest.fixture(scope="module")
def structurer() -> Iterator[tuple[Background, str]]:
    settings_ = StructurerSettings(port=0, shutdown_grace_s=1)
    with serving(lambda: structurer_server.start(settings_)) as served:
        yield served


@pytest.fixture(scope="module")
def images() -> Iterator[tuple[Background, str]]:
    settings_ = ImageSettings(port=0, shutdown_grace_s=1)
    with serving(lambda: image_server.start(settings_)) as served:
        yield served


def identity(data: bytes) -> bytes:
    return data


def code_of(call: Callable[[], Any]) -> grpc.StatusCode:
    try:
        call()
    except grpc.RpcError as error:
        return error.code()  # type: ignore[no-any-return]
    return grpc.StatusCode.OK


def assert_fine(code: grpc.StatusCode, what: object) -> None:
    assert code in ACCEPTABLE, f"{code} for {what!r}"


# ---- strategies ----------------------------------------------------------------------------------

text = st.text(max_size=300) | st.sampled_from(["", " ", "\x00", "\u200b", "🚚" * 50, "a" * 5_000])
numbers = st.floats(allow_nan=True, allow_infinity=True) | st.sampled_from([0.0, -1.0, 1e308])
metric = st.builds(
    case_study_pb2.Metric,
    label=text,
    before=text,
    after=text,
    improvement=text,
    before_value=numbers,
    after_value=numbers,
    unit=text,
)
phase = st.builds(case_study_pb2.Phase, name=text, period=text, description=text)
case_study = st.builds(
    case_study_pb2.CaseStudy,
    client_name=text,
    industry=text,
    title=text,
    subtitle=text,
    metrics=st.lists(metric, max_size=6),
    phases=st.lists(phase, max_size=6),
    challenge=text,
    solution=text,
    results=text,
)
options = st.builds(
    image_pb2.ImageOptions,
    width=st.integers(0, 2**32 - 1),
    height=st.integers(0, 2**32 - 1),
    fast=st.booleans(),
)
data = st.one_of(
    st.builds(
        lambda d: {"hero": d},
        st.builds(image_pb2.HeroData, client_name=text, industry=text, title=text, subtitle=text),
    ),
    st.builds(
        lambda d: {"metrics": d},
        st.builds(image_pb2.MetricsData, client_name=text, metrics=st.lists(metric, max_size=8)),
    ),
    st.builds(
        lambda d: {"timeline": d},
        st.builds(image_pb2.TimelineData, client_name=text, phases=st.lists(phase, max_size=8)),
    ),
    st.just({}),
)
job = st.builds(
    lambda job_id, d, prompt, ref, media, opts, timeout: image_pb2.ImageJob(
        job_id=job_id,
        prompt=prompt,
        reference_image=ref,
        reference_media_type=media,
        options=opts,
        timeout_ms=timeout,
        **d,
    ),
    st.text(max_size=40),
    data,
    text,
    st.binary(max_size=64) | st.just(b"\x89PNG\r\n\x1a\n" + b"\x00" * 30),
    st.sampled_from(["", "image/png", "image/jpeg", "text/html", "x" * 300]),
    options,
    st.integers(0, 2**32 - 1),
)


# ---- the structurer ------------------------------------------------------------------------------


@FUZZ
@given(raw=st.binary(max_size=2_000))
def test_structurer_random_bytes(structurer: tuple[Background, str], raw: bytes) -> None:
    _, target = structurer
    with grpc.insecure_channel(target) as channel:
        for method in ("Structure", "Refine"):
            call = channel.unary_unary(
                f"/casecraft.v1.Structurer/{method}",
                request_serializer=identity,
                response_deserializer=identity,
            )
            assert_fine(code_of(functools.partial(call, raw, timeout=TIMEOUT_S)), (method, raw))
        stream = channel.unary_stream(
            "/casecraft.v1.Structurer/StructureStream",
            request_serializer=identity,
            response_deserializer=identity,
        )
        assert_fine(code_of(lambda: list(stream(raw, timeout=TIMEOUT_S))), ("stream", raw))


@FUZZ
@given(notes=st.text(max_size=3_000), fast=st.booleans())
def test_structurer_random_notes(
    structurer: tuple[Background, str], notes: str, fast: bool
) -> None:
    _, target = structurer
    request = structurer_pb2.StructureRequest(
        notes=notes, options=structurer_pb2.StructureOptions(fast=fast)
    )
    with grpc.insecure_channel(target) as channel:
        call = channel.unary_unary(
            "/casecraft.v1.Structurer/Structure",
            request_serializer=structurer_pb2.StructureRequest.SerializeToString,
            response_deserializer=structurer_pb2.StructureResponse.FromString,
        )
        assert_fine(code_of(lambda: call(request, timeout=TIMEOUT_S)), notes[:200])


@FUZZ
@given(
    study=case_study,
    section=st.text(max_size=20) | st.sampled_from(["title", "quote"]),
    instruction=text,
)
def test_structurer_random_refinements(
    structurer: tuple[Background, str],
    study: case_study_pb2.CaseStudy,
    section: str,
    instruction: str,
) -> None:
    _, target = structurer
    request = structurer_pb2.RefineRequest(
        case_study=study, section=section, instruction=instruction
    )
    with grpc.insecure_channel(target) as channel:
        call = channel.unary_unary(
            "/casecraft.v1.Structurer/Refine",
            request_serializer=structurer_pb2.RefineRequest.SerializeToString,
            response_deserializer=structurer_pb2.RefineResponse.FromString,
        )
        assert_fine(code_of(lambda: call(request, timeout=TIMEOUT_S)), (section, instruction[:50]))


# ---- the image service ---------------------------------------------------------------------------


@FUZZ
@given(messages=st.lists(st.binary(max_size=1_000), min_size=1, max_size=4))
def test_images_random_bytes(images: tuple[Background, str], messages: list[bytes]) -> None:
    _, target = images
    with grpc.insecure_channel(target) as channel:
        call = channel.stream_stream(
            "/casecraft.v1.ImageGenerator/Generate",
            request_serializer=identity,
            response_deserializer=identity,
        )
        assert_fine(code_of(lambda: list(call(iter(messages), timeout=TIMEOUT_S))), messages)


@FUZZ
@given(batches=st.lists(st.lists(job, max_size=4), min_size=1, max_size=3))
def test_images_random_jobs(
    images: tuple[Background, str], batches: list[list[image_pb2.ImageJob]]
) -> None:
    _, target = images
    requests = [image_pb2.ImageJobs(jobs=batch) for batch in batches]
    with grpc.insecure_channel(
        target, options=[("grpc.max_receive_message_length", 64 * 2**20)]
    ) as channel:
        call = channel.stream_stream(
            "/casecraft.v1.ImageGenerator/Generate",
            request_serializer=image_pb2.ImageJobs.SerializeToString,
            response_deserializer=image_pb2.ImageResults.FromString,
        )
        results: list[image_pb2.ImageResult] = []

        def run() -> None:
            for message in call(iter(requests), timeout=TIMEOUT_S):
                results.extend(message.results)

        assert_fine(code_of(run), batches)
    for result in results:
        assert result.status != image_pb2.IMAGE_STATUS_UNSPECIFIED
        if result.status == image_pb2.IMAGE_STATUS_OK:
            assert result.image and result.sha256


def test_no_task_of_a_call_outlives_it(
    structurer: tuple[Background, str], images: tuple[Background, str]
) -> None:
    """After the fuzzing above (module-scoped servers), each loop holds only grpc's own serving
    tasks (compiled coroutines): none of the servicers' or providers' tasks outlived its call."""
    for background, target in (structurer, images):
        with grpc.insecure_channel(target) as channel:
            health = channel.unary_unary(
                "/grpc.health.v1.Health/Check",
                request_serializer=identity,
                response_deserializer=identity,
            )
            health(b"", timeout=TIMEOUT_S)
        ours = [name for name in background.pending_tasks() if "cython" not in name]
        assert ours == [], "tasks of finished calls still pending"
