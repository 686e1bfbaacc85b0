"""The cooldown shared by every request: a failing provider rests, then exactly one call probes it
while the others keep skipping it; the probe's outcome closes or re-opens the circuit."""

from __future__ import annotations

import asyncio

import pytest

from casecraft.cooldown import Cooldown
from casecraft.errors import AllProvidersFailed, ProviderError
from casecraft.http_errors import error_from_http
from casecraft.retry import ChainResult, RetryPolicy, run_chain
from tests.fakes.clock import Clock, Sleeps
from tests.retry.scripted import scripted


async def b() -> str:
    return "b"


def failing(provider: str = "a") -> ProviderError:
    return error_from_http(provider, 503, {}, b"")


async def test_cooldown_skips_a_failing_provider_then_brings_it_back() -> None:
    clock = Clock()
    cooldown = Cooldown(failure_threshold=2, cooldown_s=30, clock=clock)
    policy = RetryPolicy(max_attempts=1, sleep=Sleeps())
    a, a_calls = scripted(failing(), failing(), "a is back")

    for _ in range(2):
        result = await run_chain(
            [("a", a), ("b", b)], policy=policy, cooldown=cooldown, attempt_timeout_s=5
        )
        assert result.provider == "b"
    assert a_calls[0] == 2 and cooldown.state("a") == "open"
    assert cooldown.remaining_s("a") == 30

    skipped = await run_chain(
        [("a", a), ("b", b)], policy=policy, cooldown=cooldown, attempt_timeout_s=5
    )
    assert skipped.skipped == ("a",) and a_calls[0] == 2

    clock.now += 30
    assert cooldown.state("a") == "half_open"
    back = await run_chain(
        [("a", a), ("b", b)], policy=policy, cooldown=cooldown, attempt_timeout_s=5
    )
    assert back.value == "a is back" and cooldown.state("a") == "closed"


class GatedProvider:
    """Provider ``a``: each call waits at a gate the test opens, then fails or answers."""

    def __init__(self) -> None:
        self.calls = 0
        self.entered = asyncio.Event()
        self.gate = asyncio.Event()
        self.fail = False

    async def __call__(self) -> str:
        self.calls += 1
        self.entered.set()
        await self.gate.wait()
        if self.fail:
            raise failing()
        return "a"


async def rested(clock: Clock) -> Cooldown:
    """A cooldown whose provider ``a`` has just finished its rest."""
    cooldown = Cooldown(failure_threshold=1, cooldown_s=30, clock=clock)
    a, _ = scripted(failing())
    await run_chain(
        [("a", a), ("b", b)],
        policy=RetryPolicy(max_attempts=1),
        cooldown=cooldown,
        attempt_timeout_s=5,
    )
    assert cooldown.state("a") == "open"
    clock.now += 30
    return cooldown


def chain_call(
    a: GatedProvider, cooldown: Cooldown, attempts: int = 1
) -> asyncio.Task[ChainResult[str]]:
    return asyncio.create_task(
        run_chain(
            [("a", a), ("b", b)],
            policy=RetryPolicy(max_attempts=attempts, sleep=Sleeps()),
            cooldown=cooldown,
            attempt_timeout_s=5,
        )
    )


async def test_after_the_rest_one_call_probes_while_the_others_keep_skipping() -> None:
    clock = Clock()
    cooldown = await rested(clock)
    a = GatedProvider()

    probe = chain_call(a, cooldown)
    await a.entered.wait()
    assert cooldown.state("a") == "half_open"
    # Five more requests while the probe is out: none of them calls a.
    others = await asyncio.gather(*(chain_call(a, cooldown) for _ in range(5)))
    assert [(r.provider, r.skipped) for r in others] == [("b", ("a",))] * 5
    with pytest.raises(AllProvidersFailed, match="another call is checking whether it is back"):
        await run_chain([("a", a)], policy=RetryPolicy(), cooldown=cooldown, attempt_timeout_s=5)
    assert a.calls == 1 and not probe.done()

    a.gate.set()
    assert (await probe).provider == "a"
    assert cooldown.state("a") == "closed"
    after = await chain_call(a, cooldown)
    assert after.provider == "a" and a.calls == 2


async def test_a_failed_probe_sends_the_provider_back_to_rest() -> None:
    clock = Clock()
    cooldown = await rested(clock)
    a = GatedProvider()
    a.fail = True

    # Three attempts allowed, but a failed probe is not retried: the chain falls back at once.
    probe = chain_call(a, cooldown, attempts=3)
    await a.entered.wait()
    waiting = chain_call(a, cooldown)
    assert (await waiting).skipped == ("a",)
    a.gate.set()
    result = await probe
    assert result.provider == "b" and a.calls == 1
    assert [f.status for f in result.failures] == [503]
    assert cooldown.state("a") == "open" and cooldown.remaining_s("a") == 30

    assert (await chain_call(a, cooldown)).skipped == ("a",) and a.calls == 1
    clock.now += 30
    a.fail = False
    assert (await chain_call(a, cooldown)).provider == "a" and a.calls == 2


async def test_a_cancelled_probe_hands_the_probe_to_the_next_call() -> None:
    clock = Clock()
    cooldown = await rested(clock)
    a = GatedProvider()

    probe = chain_call(a, cooldown)
    await a.entered.wait()
    probe.cancel()
    await asyncio.gather(probe, return_exceptions=True)
    assert cooldown.state("a") == "half_open"

    a.gate.set()
    assert (await chain_call(a, cooldown)).provider == "a" and a.calls == 2
    assert cooldown.state("a") == "closed"
