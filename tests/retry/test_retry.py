"""The shared retry loop: retry-after, backoff, fallback, attempt timeouts, cancellation."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from casecraft.cooldown import Cooldown
from casecraft.errors import AllProvidersFailed, ProviderError
from casecraft.http_errors import error_from_http
from casecraft.retry import AttemptRecord, RetryPolicy, run_chain
from tests.fakes.clock import Sleeps
from tests.retry.scripted import scripted


def rate_limited(provider: str, headers: dict[str, str]) -> ProviderError:
    body = {"type": "error", "error": {"type": "rate_limit_error", "message": "slow down"}}
    return error_from_http(provider, 429, headers, body)


async def test_retry_after_from_the_header_is_the_wait() -> None:
    sleeps = Sleeps()
    call, calls = scripted(rate_limited("a", {"retry-after-ms": "1234"}), "done")
    records: list[AttemptRecord] = []
    result = await run_chain(
        [("a", call)],
        policy=RetryPolicy(sleep=sleeps),
        cooldown=Cooldown(),
        attempt_timeout_s=5,
        on_attempt=records.append,
    )
    assert result.value == "done" and result.provider == "a" and result.attempts == 2
    assert sleeps.waits == [1.234]
    assert [r.wait_s for r in records] == [1.234, None]
    assert records[0].error is not None and records[0].error.status == 429
    assert calls[0] == 2


async def test_backoff_grows_and_stays_within_bounds() -> None:
    sleeps = Sleeps()
    failures = [error_from_http("a", 503, {}, b"") for _ in range(3)]
    call, _ = scripted(*failures, "ok")
    policy = RetryPolicy(max_attempts=4, base_delay_s=0.1, max_delay_s=0.35, sleep=sleeps)
    await run_chain([("a", call)], policy=policy, cooldown=Cooldown(), attempt_timeout_s=5)
    assert len(sleeps.waits) == 3
    assert 0.1 <= sleeps.waits[0] <= 0.2
    assert 0.2 <= sleeps.waits[1] <= 0.3
    assert sleeps.waits[2] <= 0.35


async def test_other_4xx_falls_back_without_retrying() -> None:
    sleeps = Sleeps()
    first, first_calls = scripted(error_from_http("a", 400, {}, b'{"error":{"message":"no"}}'))
    second, _ = scripted("from b")
    result = await run_chain(
        [("a", first), ("b", second)],
        policy=RetryPolicy(sleep=sleeps),
        cooldown=Cooldown(),
        attempt_timeout_s=5,
    )
    assert (result.value, result.provider, result.attempts) == ("from b", "b", 2)
    assert first_calls[0] == 1 and sleeps.waits == []
    assert [f.status for f in result.failures] == [400]


async def test_a_long_retry_after_falls_back_at_once() -> None:
    sleeps = Sleeps()
    first, _ = scripted(rate_limited("a", {"retry-after": "600"}))
    second, _ = scripted("b")
    result = await run_chain(
        [("a", first), ("b", second)],
        policy=RetryPolicy(sleep=sleeps, retry_after_max_s=30),
        cooldown=Cooldown(),
        attempt_timeout_s=5,
    )
    assert result.provider == "b" and sleeps.waits == []


async def test_a_hung_attempt_is_cut_off_and_the_next_provider_used() -> None:
    never = asyncio.Event()

    async def hang() -> str:
        await never.wait()
        return "never"

    second, _ = scripted("b")
    result = await run_chain(
        [("slow", hang), ("b", second)],
        policy=RetryPolicy(max_attempts=1),
        cooldown=Cooldown(),
        attempt_timeout_s={"slow": 0.02, "b": 5},
    )
    assert result.provider == "b"
    assert "no answer within 0.02s" in str(result.failures[0])
    assert result.failures[0].retryable


async def test_every_provider_down_lists_each_failure() -> None:
    sleeps = Sleeps()
    a, _ = scripted(*(error_from_http("a", 529, {}, b"") for _ in range(2)))
    b, _ = scripted(httpx.ConnectError("refused"), httpx.ConnectError("refused"))
    with pytest.raises(AllProvidersFailed) as caught:
        await run_chain(
            [("a", a), ("b", b)],
            policy=RetryPolicy(max_attempts=2, base_delay_s=0.001, sleep=sleeps),
            cooldown=Cooldown(),
            attempt_timeout_s=5,
        )
    assert len(caught.value.failures) == 2
    assert "HTTP 529" in caught.value.failures[0]
    assert "ConnectError" in caught.value.failures[1]


async def test_cancellation_is_not_swallowed() -> None:
    started = asyncio.Event()

    async def hang() -> str:
        started.set()
        await asyncio.Event().wait()
        return "never"

    task = asyncio.create_task(
        run_chain([("a", hang)], policy=RetryPolicy(), cooldown=Cooldown(), attempt_timeout_s=60)
    )
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
