"""The image provider chain: retries honouring retry-after, fallback, attempt timeouts, cooldown,
and failures isolated per job through a real image server; keys never leak."""

from __future__ import annotations

import hashlib
import io
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import grpc
import pytest
from PIL import Image

from casecraft.cooldown import Cooldown
from casecraft.errors import AllProvidersFailed
from casecraft.retry import RetryPolicy
from casecraft.v1 import case_study_pb2, image_pb2, image_pb2_grpc
from image_service import server as image_server
from image_service.providers.chain import ImageChain
from image_service.providers.registry import build_chain, resilient
from image_service.settings import ImageSettings
from tests.fakes.openai_images import FakeOpenAIImages
from tests.fakes.openrouter_images import (
    GARBAGE,
    HANG,
    NO_IMAGES,
    FakeOpenRouter,
    error_object,
    status,
)

OPENROUTER_KEY = "sk-or-v1-chain-test-0123456789"
OPENAI_KEY = "sk-proj-chain-test-0123456789"


@dataclass
class Fakes:
    openrouter: FakeOpenRouter
    openai: FakeOpenAIImages

    def settings(self, **overrides: object) -> ImageSettings:
        values: dict[str, object] = {
            "port": 0,
            "shutdown_grace_s": 1,
            "providers": "openrouter,openai",
            "openrouter_api_key": OPENROUTER_KEY,
            "openrouter_base_url": self.openrouter.base_url,
            "openai_api_key": OPENAI_KEY,
            "openai_base_url": self.openai.base_url,
            "retry_max_attempts": 2,
            "retry_base_delay_s": 0.5,
            "cooldown_failures": 100,
        }
        values.update(overrides)
        return ImageSettings(**values)  # type: ignore[arg-type]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def fakes() -> AsyncIterator[Fakes]:
    openrouter = FakeOpenRouter(api_key=OPENROUTER_KEY)
    openai = FakeOpenAIImages(api_key=OPENAI_KEY)
    async with openrouter.running(), openai.running():
        yield Fakes(openrouter, openai)


@pytest.fixture
def sleeps() -> list[float]:
    return []


def chain_for(
    settings: ImageSettings, sleeps: list[float], clock: Clock | None = None
) -> ImageChain:
    return resilient(build_chain(settings), settings, sleep=_record(sleeps), clock=clock)


def _record(sleeps: list[float]) -> Callable[[float], Awaitable[None]]:
    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    return sleep


def hero_job(job_id: str = "hero", **fields: object) -> image_pb2.ImageJob:
    data = image_pb2.HeroData(client_name="Acme Freight", title="Dispatch time cut by 67%")
    return image_pb2.ImageJob(job_id=job_id, hero=data, **fields)  # type: ignore[arg-type]


async def test_a_rate_limit_is_retried_after_the_wait_the_provider_asked_for(
    fakes: Fakes, sleeps: list[float]
) -> None:
    fakes.openrouter.faults.script(status(429, retry_after="1.5"))
    chained = await chain_for(fakes.settings(), sleeps).generate(hero_job())
    assert (chained.provider, chained.attempts) == ("openrouter", 2)
    assert sleeps == [1.5]
    assert len(fakes.openrouter.requests) == 2 and fakes.openai.requests == []


async def test_retry_after_ms_wins_over_the_backoff(fakes: Fakes, sleeps: list[float]) -> None:
    fakes.openrouter.faults.script(status(503, retry_after_ms="250"))
    chained = await chain_for(fakes.settings(providers="openrouter"), sleeps).generate(hero_job())
    assert chained.attempts == 2 and sleeps == [0.25]


async def test_a_server_error_without_retry_after_backs_off(
    fakes: Fakes, sleeps: list[float]
) -> None:
    fakes.openai.faults.script(status(500))
    chained = await chain_for(fakes.settings(providers="openai"), sleeps).generate(hero_job())
    assert chained.attempts == 2
    [wait] = sleeps
    assert 0.5 <= wait <= 1.0  # base 0.5 s plus up to 0.5 s of jitter


async def test_an_answer_without_an_image_falls_back_to_the_next_provider(
    fakes: Fakes, sleeps: list[float]
) -> None:
    fakes.openrouter.faults.script(NO_IMAGES)
    chained = await chain_for(fakes.settings(), sleeps).generate(hero_job())
    assert (chained.provider, chained.attempts) == ("openai", 2)
    assert chained.image.model == "gpt-image-2"
    assert len(fakes.openrouter.requests) == 1 and sleeps == []


async def test_an_error_object_is_retried_by_its_code_then_falls_back(
    fakes: Fakes, sleeps: list[float]
) -> None:
    fakes.openrouter.faults.script(error_object(502), error_object(502))
    chained = await chain_for(fakes.settings(), sleeps).generate(hero_job())
    assert (chained.provider, chained.attempts) == ("openai", 3)
    assert len(fakes.openrouter.requests) == 2 and len(sleeps) == 1


async def test_a_garbage_image_falls_back(fakes: Fakes, sleeps: list[float]) -> None:
    fakes.openrouter.faults.script(GARBAGE)
    chained = await chain_for(fakes.settings(), sleeps).generate(hero_job())
    assert chained.provider == "openai"
    assert Image.open(io.BytesIO(chained.image.data)).format == "PNG"


async def test_a_hung_provider_is_cut_off_by_the_attempt_timeout(
    fakes: Fakes, sleeps: list[float]
) -> None:
    fakes.openrouter.faults.script(HANG, HANG)
    settings = fakes.settings()
    chain = ImageChain(
        build_chain(settings),
        policy=RetryPolicy(max_attempts=2, sleep=_record(sleeps)),
        cooldown=Cooldown(failure_threshold=100),
        attempt_timeout_s={"openrouter": 0.05, "openai": 10.0},
    )
    chained = await chain.generate(hero_job())
    assert (chained.provider, chained.attempts) == ("openai", 3)
    assert len(fakes.openrouter.requests) == 2 and len(sleeps) == 1  # a timeout is retried


async def test_cooldown_skips_a_failing_provider_until_it_has_rested(
    fakes: Fakes, sleeps: list[float]
) -> None:
    clock = Clock()
    settings = fakes.settings(retry_max_attempts=1, cooldown_failures=2, cooldown_s=30)
    chain = chain_for(settings, sleeps, clock)
    fakes.openrouter.faults.script(status(500), status(500))

    for job_id in ("first", "second"):
        assert (await chain.generate(hero_job(job_id))).provider == "openai"
    assert len(fakes.openrouter.requests) == 2

    skipped = await chain.generate(hero_job("third"))
    assert (skipped.provider, skipped.attempts) == ("openai", 1)
    assert len(fakes.openrouter.requests) == 2  # not called while cooling down

    clock.now += 31
    back = await chain.generate(hero_job("fourth"))
    assert (back.provider, back.attempts) == ("openrouter", 1)
    assert len(fakes.openrouter.requests) == 3


async def test_every_provider_down_names_each_one(fakes: Fakes, sleeps: list[float]) -> None:
    fakes.openrouter.faults.script(status(400, "Invalid model"))
    fakes.openai.faults.script(NO_IMAGES)
    with pytest.raises(AllProvidersFailed) as caught:
        await chain_for(fakes.settings(), sleeps).generate(hero_job())
    message = str(caught.value)
    assert "openrouter: HTTP 400" in message and "Invalid model" in message
    assert "openai: answered without an image" in message
    assert caught.value.attempts == 2  # type: ignore[attr-defined]


async def test_one_component_down_everywhere_fails_alone_through_the_server(
    fakes: Fakes, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    for fake in (fakes.openrouter, fakes.openai):
        fake.faults.when_prompt_has("metrics dashboard", status(503, "Overloaded"))
    settings = fakes.settings(retry_base_delay_s=0.001, retry_max_delay_s=0.002)
    running = await image_server.start(settings)
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            stub = image_pb2_grpc.ImageGeneratorStub(channel)
            results = {
                r.job_id: r
                async for m in stub.Generate(iter([image_pb2.ImageJobs(jobs=_three_jobs())]))
                for r in m.results
            }
    finally:
        await running.server.stop(None)

    metrics = results["metrics"]
    assert metrics.status == image_pb2.IMAGE_STATUS_FAILED
    assert "openrouter: HTTP 503" in metrics.error and "openai: HTTP 503" in metrics.error
    assert metrics.attempts == 4 and not metrics.image
    for job_id in ("hero", "timeline"):
        result = results[job_id]
        assert result.status == image_pb2.IMAGE_STATUS_OK, result.error
        assert (result.provider, result.model, result.attempts) == (
            "openrouter",
            "google/gemini-3.1-flash-image-preview",
            1,
        )
        assert result.sha256 == hashlib.sha256(result.image).hexdigest()
        assert Image.open(io.BytesIO(result.image)).size == (result.width, result.height)
        generate = next(span for span in result.spans if span.name == "image.generate")
        assert generate.attributes["casecraft.component"] == job_id and not generate.error
        # The provider's HTTP call is recorded below the generation, in the same answer.
        assert any(span.parent_span_id == generate.span_id for span in result.spans)
    failed = next(span for span in metrics.spans if span.name == "image.generate")
    assert failed.error and failed.attributes["casecraft.component"] == "metrics"
    _assert_no_key_in(caplog, [r.error for r in results.values()])
    _assert_no_key_in(caplog, [str(span.attributes) for r in results.values() for span in r.spans])


async def test_keys_stay_out_of_errors_and_logs_even_when_a_provider_quotes_them(
    fakes: Fakes, caplog: pytest.LogCaptureFixture, sleeps: list[float]
) -> None:
    caplog.set_level(logging.DEBUG)
    fakes.openai.api_key = "sk-proj-another-key-the-fake-expects"  # so it quotes ours back
    fakes.openrouter.faults.script(status(500), status(500))
    with pytest.raises(AllProvidersFailed) as caught:
        await chain_for(fakes.settings(), sleeps).generate(hero_job())
    assert "Incorrect API key provided" in str(caught.value)
    _assert_no_key_in(caplog, [str(caught.value), repr(fakes.settings())])


async def test_a_provider_without_its_key_fails_at_start_up(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for variable in ("OPENROUTER_API_KEY", "OPENAI_API_KEY"):
        monkeypatch.delenv(variable, raising=False)
    with pytest.raises(ValueError, match="OPENROUTER_API_KEY is not set"):
        await image_server.start(ImageSettings(port=0, providers="local,openrouter"))
    with pytest.raises(ValueError, match="OPENAI_API_KEY is not set"):
        build_chain(ImageSettings(providers="openai", openai_api_key=" "))


def test_keys_are_read_from_the_providers_own_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENROUTER_API_KEY", OPENROUTER_KEY)
    monkeypatch.setenv("OPENROUTER_BASE_URL", "http://127.0.0.1:9/api/v1")
    monkeypatch.setenv("OPENAI_API_KEY", OPENAI_KEY)
    monkeypatch.setenv("CASECRAFT_IMAGE_PROVIDERS", "openrouter,openai,local")
    monkeypatch.setenv("CASECRAFT_IMAGE_TIMEOUT_METRICS_S", "240")
    settings = ImageSettings()
    assert [p.name for p in build_chain(settings)] == ["openrouter", "openai", "local"]
    assert settings.openrouter_base_url == "http://127.0.0.1:9/api/v1"
    assert settings.component_timeout_s("metrics") == 240
    assert settings.component_timeout_s("hero") == settings.job_timeout_s
    assert OPENROUTER_KEY not in repr(settings) and OPENAI_KEY not in str(settings)


def _three_jobs() -> list[image_pb2.ImageJob]:
    metric = case_study_pb2.Metric(label="Dispatch time", before="94 min", after="31 min")
    phase = case_study_pb2.Phase(name="Discovery", period="Weeks 1-2")
    return [
        hero_job(),
        image_pb2.ImageJob(job_id="metrics", metrics=image_pb2.MetricsData(metrics=[metric])),
        image_pb2.ImageJob(job_id="timeline", timeline=image_pb2.TimelineData(phases=[phase])),
    ]


def _assert_no_key_in(caplog: pytest.LogCaptureFixture, texts: list[str]) -> None:
    logged = [record.getMessage() + repr(vars(record)) for record in caplog.records]
    for key in (OPENROUTER_KEY, OPENAI_KEY):
        for text in [*logged, *texts]:
            assert key not in text
