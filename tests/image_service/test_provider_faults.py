"""The HTTP image providers under faults, through the chain, against the loopback fakes: what is
retried, what falls back, what each failure says, and that keys never show."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from pydantic import SecretStr

from casecraft.cooldown import Cooldown
from casecraft.errors import AllProvidersFailed
from casecraft.retry import RetryPolicy
from casecraft.v1 import image_pb2
from image_service.image_check import ImageLimits
from image_service.providers import ImageProvider
from image_service.providers.chain import ImageChain
from image_service.providers.openai_images import OpenAIImages
from image_service.providers.openrouter import OpenRouterImages
from tests.fakes.clock import Sleeps
from tests.fakes.openai_images import FakeOpenAIImages
from tests.fakes.openrouter_images import BAD_BASE64, HUGE, FakeOpenRouter, status
from tests.fakes.server import closed_port
from tests.support.spans import attempt_errors, step_span

# Keys come in any shape; these two look like none of the well-known prefixes.
OPENROUTER_KEY = "AIzaFaultsOpenRouter0123456789abcdef"
OPENAI_KEY = "proj_FaultsOpenAI0123456789abcdefghij"
LIMITS = ImageLimits(max_bytes=2_000_000, max_pixels=4096 * 4096)


@dataclass
class Fakes:
    openrouter: FakeOpenRouter
    openai: FakeOpenAIImages


@pytest.fixture
async def fakes() -> AsyncIterator[Fakes]:
    openrouter = FakeOpenRouter(api_key=OPENROUTER_KEY)
    openai = FakeOpenAIImages(api_key=OPENAI_KEY)
    async with openrouter.running(), openai.running():
        yield Fakes(openrouter, openai)


def openrouter(base_url: str, key: str = OPENROUTER_KEY) -> OpenRouterImages:
    return OpenRouterImages(
        api_key=SecretStr(key),
        base_url=base_url,
        model="google/gemini-3.1-flash-image-preview",
        fast_model="google/gemini-2.5-flash-image",
        limits=LIMITS,
        timeout_s=10,
    )


def openai(base_url: str, key: str = OPENAI_KEY) -> OpenAIImages:
    return OpenAIImages(
        api_key=SecretStr(key),
        base_url=base_url,
        model="gpt-image-2",
        fast_model="gpt-image-1-mini",
        limits=LIMITS,
        timeout_s=10,
    )


def chain(*providers: ImageProvider, sleeps: Sleeps, attempts: int = 2) -> ImageChain:
    return ImageChain(
        providers,
        policy=RetryPolicy(max_attempts=attempts, sleep=sleeps),
        cooldown=Cooldown(failure_threshold=100),
        attempt_timeout_s=10,
    )


def hero() -> image_pb2.ImageJob:
    data = image_pb2.HeroData(client_name="Acme Freight", title="Dispatch time cut by 67%")
    return image_pb2.ImageJob(job_id="hero", hero=data)


async def fallback_error(fakes: Fakes) -> str:
    """Generate with OpenRouter then OpenAI, once each, after a fault was scripted on OpenRouter:
    OpenAI answers without a wait, and this is OpenRouter's failed attempt's error."""
    sleeps = Sleeps()
    images = chain(
        openrouter(fakes.openrouter.base_url), openai(fakes.openai.base_url), sleeps=sleeps
    )
    with step_span("image.generate") as spans:
        chained = await images.generate(hero())
    assert (chained.provider, chained.attempts) == ("openai", 2) and sleeps.waits == []
    [failed, _] = attempt_errors(spans[-1])
    return failed


async def test_a_key_quoted_back_in_a_401_stays_out_of_errors_logs_and_spans(
    fakes: Fakes, caplog: pytest.LogCaptureFixture
) -> None:
    """OpenAI's 401 quotes the key it received; a key without a well-known prefix is still masked."""
    caplog.set_level(logging.DEBUG)
    wrong = "proj_WrongKeyFaults0123456789abcdefgh"
    sleeps = Sleeps()
    with step_span("image.generate") as spans, pytest.raises(AllProvidersFailed) as caught:
        await chain(openai(fakes.openai.base_url, wrong), sleeps=sleeps).generate(hero())
    assert len(fakes.openai.requests) == 1 and sleeps.waits == []
    message = str(caught.value)
    assert "HTTP 401" in message and "Incorrect API key provided" in message
    assert "check the API key for openai" in message
    seen = [message, *(r.getMessage() + repr(vars(r)) for r in caplog.records)]
    for span in spans:
        seen.append(repr(dict(span.attributes or {})))
        seen += [repr(dict(event.attributes or {})) for event in span.events]
    assert any("Incorrect API key provided" in text for text in seen[1:])
    assert not [text for text in seen if wrong[5:] in text]


async def test_a_403_is_not_retried_falls_back_and_says_to_check_the_key(
    fakes: Fakes,
) -> None:
    fakes.openrouter.faults.script(status(403, "This model is not available to your key"))
    failed = await fallback_error(fakes)
    assert "HTTP 403" in failed and "not available to your key" in failed
    assert "check the API key for openrouter" in failed


async def test_a_key_read_with_a_trailing_newline_is_sent_without_it(fakes: Fakes) -> None:
    """A key read from a file often ends in a newline, which no HTTP header can carry."""
    sleeps = Sleeps()
    provider = openrouter(fakes.openrouter.base_url, OPENROUTER_KEY + "\n")
    chained = await chain(provider, sleeps=sleeps).generate(hero())
    assert (chained.provider, chained.attempts) == ("openrouter", 1)
    [request] = fakes.openrouter.requests
    assert request.headers["authorization"] == f"Bearer {OPENROUTER_KEY}"


@pytest.mark.parametrize("make", [openrouter, openai])
def test_a_key_no_header_can_carry_is_refused_at_start_up_without_showing_it(
    make: object,
) -> None:
    broken = "AIzaFaults\r\nInjected0123456789abcdef"
    with pytest.raises(ValueError, match="check the key") as caught:
        make("http://127.0.0.1:9/v1", broken)  # type: ignore[operator]
    assert "Injected0123456789abcdef" not in str(caught.value)


async def test_invalid_base64_falls_back_to_the_next_provider(fakes: Fakes) -> None:
    fakes.openrouter.faults.script(BAD_BASE64)
    failed = await fallback_error(fakes)
    assert "not valid base64" in failed


@pytest.mark.parametrize("first", ["openrouter", "openai"])
async def test_an_endless_answer_is_refused_partway_and_the_next_provider_used(
    fakes: Fakes, first: str
) -> None:
    """A chunked answer (no content-length) far over the limit: read no further than the limit."""
    providers: list[ImageProvider] = [
        openrouter(fakes.openrouter.base_url),
        openai(fakes.openai.base_url),
    ]
    if first == "openai":
        providers.reverse()
    (fakes.openrouter if first == "openrouter" else fakes.openai).faults.script(HUGE)
    sleeps = Sleeps()
    with step_span("image.generate") as spans:
        chained = await chain(*providers, sleeps=sleeps).generate(hero())
    assert chained.provider != first and chained.attempts == 2 and sleeps.waits == []
    [failed, _] = attempt_errors(spans[-1])
    assert "refused unread" in failed


async def test_a_refused_connection_is_retried_and_the_error_names_the_host() -> None:
    port = closed_port()
    sleeps = Sleeps()
    with pytest.raises(AllProvidersFailed) as caught:
        await chain(openai(f"http://127.0.0.1:{port}/v1"), sleeps=sleeps).generate(hero())
    assert len(sleeps.waits) == 1
    message = str(caught.value)
    assert f"127.0.0.1:{port}" in message and "ConnectError" in message


async def test_retry_after_as_an_http_date_is_the_wait(fakes: Fakes) -> None:
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=5), usegmt=True)
    fakes.openai.faults.script(status(503, "Overloaded", retry_after=when))
    sleeps = Sleeps()
    chained = await chain(openai(fakes.openai.base_url), sleeps=sleeps).generate(hero())
    assert chained.attempts == 2
    [wait] = sleeps.waits
    assert 3.5 < wait <= 5.0  # the date has whole seconds; the answer took a moment


async def test_a_retry_after_beyond_the_cap_falls_back_at_once_and_says_when(
    fakes: Fakes,
) -> None:
    fakes.openrouter.faults.script(status(429, "Rate limit exceeded", retry_after="3600"))
    failed = await fallback_error(fakes)
    assert "HTTP 429" in failed and "retry after 3600s" in failed
