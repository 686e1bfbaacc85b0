from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from casecraft.errors import AllProvidersFailed, ProviderError
from casecraft.resilience import (
    AttemptRecord,
    Cooldown,
    RetryPolicy,
    error_from_exception,
    error_from_http,
    retry_after_s,
    run_chain,
)
from tests.fakes.clock import Clock, Sleeps


def scripted(*outcomes: object) -> tuple[Callable[[], Awaitable[str]], list[int]]:
    """A provider call that raises or returns the next outcome each time it is called."""
    queue = list(outcomes)
    calls = [0]

    async def call() -> str:
        calls[0] += 1
        outcome = queue.pop(0)
        if isinstance(outcome, BaseException):
            raise outcome
        return str(outcome)

    return call, calls


def rate_limited(provider: str, headers: dict[str, str]) -> ProviderError:
    body = {"type": "error", "error": {"type": "rate_limit_error", "message": "slow down"}}
    return error_from_http(provider, 429, headers, body)


def test_retry_after_prefers_milliseconds_then_seconds_then_date() -> None:
    assert retry_after_s({"retry-after-ms": "250", "retry-after": "9"}) == 0.25
    assert retry_after_s({"Retry-After": "3"}) == 3.0
    now = datetime(2026, 1, 1, tzinfo=UTC)
    date = format_datetime(now + timedelta(seconds=7), usegmt=True)
    assert retry_after_s({"retry-after": date}, now=now) == 7.0
    assert retry_after_s({"retry-after": "soon"}) is None
    assert retry_after_s({}) is None


@pytest.mark.parametrize(
    ("status", "retryable"),
    [
        *((status, True) for status in (408, 409, 429, 500, 503, 529)),
        *((status, False) for status in (400, 401, 403, 404, 422)),
    ],
)
def test_only_transient_statuses_are_retryable(status: int, retryable: bool) -> None:
    error = error_from_http("p", status, {"retry-after": "1"}, b'{"error":{"message":"x"}}')
    assert error.retryable is retryable
    assert error.status == status
    assert error.retry_after_s == (1.0 if retryable else None)


def test_stream_error_events_are_classified_by_type() -> None:
    overloaded = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    invalid = {"type": "error", "error": {"type": "invalid_request_error", "message": "bad"}}
    assert error_from_http("p", 200, {}, overloaded).retryable
    assert not error_from_http("p", 200, {}, invalid).retryable
    assert "Overloaded" in str(error_from_http("p", 200, {}, overloaded))


def test_messages_carry_status_and_provider_message_but_never_keys() -> None:
    body = {"error": {"message": "Incorrect API key provided: sk-ant-secret-123456789"}}
    error = error_from_http("anthropic", 401, {"x-api-key": "sk-ant-secret-123456789"}, body)
    assert "401" in str(error)
    assert "secret-123456789" not in str(error)


def test_connection_errors_and_timeouts_are_retryable() -> None:
    assert error_from_exception("p", httpx.ConnectError("refused")).retryable
    assert error_from_exception("p", httpx.ReadTimeout("slow")).retryable
    assert error_from_exception("p", httpx.RemoteProtocolError("dropped")).retryable
    assert not error_from_exception("p", ValueError("bug")).retryable


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
        policy=RetryPolicy(sleep=sleeps, max_retry_after_s=30),
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


async def test_cooldown_skips_a_failing_provider_then_brings_it_back() -> None:
    clock = Clock()
    cooldown = Cooldown(failure_threshold=2, cooldown_s=30, clock=clock)
    policy = RetryPolicy(max_attempts=1, sleep=Sleeps())
    failing = error_from_http("a", 503, {}, b"")
    a, a_calls = scripted(failing, failing, "a is back")

    async def b() -> str:
        return "b"

    for _ in range(2):
        result = await run_chain(
            [("a", a), ("b", b)], policy=policy, cooldown=cooldown, attempt_timeout_s=5
        )
        assert result.provider == "b"
    assert a_calls[0] == 2 and not cooldown.available("a")

    skipped = await run_chain(
        [("a", a), ("b", b)], policy=policy, cooldown=cooldown, attempt_timeout_s=5
    )
    assert skipped.skipped == ("a",) and a_calls[0] == 2

    clock.now += 30
    back = await run_chain(
        [("a", a), ("b", b)], policy=policy, cooldown=cooldown, attempt_timeout_s=5
    )
    assert back.value == "a is back" and cooldown.available("a")


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
