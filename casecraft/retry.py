"""The one retry loop both services use: an ordered provider chain with retries and fallback.

The SDKs' own retry loops are off (``max_retries=0``); this is the only loop. ``run_chain`` tries
each provider in order. At one provider it retries what may pass (``ProviderError.retryable``),
waiting exponential backoff with jitter, or exactly what the provider asked for
(``retry-after``); a provider asking for longer than ``retry_after_max_s`` is left at once for
the next one. Each provider is admitted by the shared ``Cooldown`` first, so a provider that
keeps failing is skipped by every request while it rests. See docs/retries.md.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from opentelemetry import trace

from casecraft.cooldown import Cooldown, Permit
from casecraft.errors import AllProvidersFailed, ProviderError
from casecraft.http_errors import error_from_exception

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    """How often one provider is tried within one chain call, and how long to wait between.

    ``sleep`` is injectable: tests pass a recorder that returns at once.
    """

    # Calls per provider, the first included.
    max_attempts: int = 3
    # Backoff before retry n: base * 2**(n-1) plus up to base of jitter, at most max_delay_s.
    base_delay_s: float = 0.5
    max_delay_s: float = 8.0
    # A provider asking (retry-after) to wait longer than this is not retried.
    retry_after_max_s: float = 30.0
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep

    def should_retry(self, error: ProviderError) -> bool:
        if not error.retryable:
            return False
        return error.retry_after_s is None or error.retry_after_s <= self.retry_after_max_s

    def wait_s(self, attempt: int, error: ProviderError) -> float:
        """The wait after failed attempt ``attempt`` (1-based) ended with ``error``."""
        if error.retry_after_s is not None:
            return error.retry_after_s
        backoff = self.base_delay_s * 2 ** (attempt - 1) + random.uniform(0, self.base_delay_s)
        return min(backoff, self.max_delay_s)


@dataclass(frozen=True)
class AttemptRecord:
    provider: str
    # 1-based, counted within this provider for this call.
    number: int
    duration_s: float
    # None when the attempt succeeded.
    error: ProviderError | None
    # The backoff before the next attempt at this provider; None when none follows.
    wait_s: float | None = None


@dataclass(frozen=True)
class ChainResult(Generic[T]):
    value: T
    provider: str
    # Every call made over the whole chain, the successful one included.
    attempts: int
    # The last error of each provider that failed before the winner.
    failures: tuple[ProviderError, ...] = ()
    # Providers skipped because they were resting or being probed by another call.
    skipped: tuple[str, ...] = field(default=())


class _Skipped(Exception):
    """The cooldown did not admit the provider's first attempt."""


async def run_chain(
    providers: Sequence[tuple[str, Callable[[], Awaitable[T]]]],
    *,
    policy: RetryPolicy,
    cooldown: Cooldown,
    attempt_timeout_s: float | Mapping[str, float],
    on_attempt: Callable[[AttemptRecord], None] | None = None,
) -> ChainResult[T]:
    """Try each provider in order, with retries; the first success wins.

    ``providers`` is an ordered sequence of ``(name, call)`` where ``call()`` returns a fresh
    awaitable for one attempt. Each attempt runs under ``attempt_timeout_s`` (or a per-provider
    ``{name: seconds}`` mapping). Exceptions are classified with ``error_from_exception``; a
    provider that raises its SDK's own exceptions turns them into ``ProviderError`` itself.
    ``on_attempt`` is called once per attempt. When every provider fails or is resting, raises
    ``AllProvidersFailed`` listing each provider's last error.
    """
    failures: list[ProviderError] = []
    messages: list[str] = []
    skipped: list[str] = []
    attempts = 0
    for name, call in providers:
        timeout_s = (
            attempt_timeout_s
            if isinstance(attempt_timeout_s, int | float)
            else attempt_timeout_s[name]
        )
        run = _ProviderRun(name, call, policy, cooldown, timeout_s, on_attempt)
        try:
            value = await run.until_done()
        except _Skipped:
            skipped.append(name)
            messages.append(_skip_message(name, cooldown))
            continue
        except ProviderError as exc:
            failures.append(exc)
            messages.append(str(exc))
            continue
        finally:
            attempts += run.attempts
        return ChainResult(value, name, attempts, tuple(failures), tuple(skipped))
    raise AllProvidersFailed(messages or ["no provider configured"])


def _skip_message(name: str, cooldown: Cooldown) -> str:
    remaining = cooldown.remaining_s(name)
    # Visible in the trace: the step that ran the chain says which provider it passed over.
    trace.get_current_span().add_event(
        "provider_skipped",
        {"casecraft.provider": name, "casecraft.cooldown_remaining_s": round(remaining, 3)},
    )
    if cooldown.state(name) == "open":
        return f"{name}: cooling down for {remaining:.0f}s after repeated failures"
    return f"{name}: cooling down; another call is checking whether it is back"


class _ProviderRun(Generic[T]):
    """The attempts at one provider within one chain call."""

    def __init__(
        self,
        name: str,
        call: Callable[[], Awaitable[T]],
        policy: RetryPolicy,
        cooldown: Cooldown,
        timeout_s: float,
        on_attempt: Callable[[AttemptRecord], None] | None,
    ) -> None:
        self.name = name
        self.attempts = 0
        self._call = call
        self._policy = policy
        self._cooldown = cooldown
        self._timeout_s = timeout_s
        self._on_attempt = on_attempt

    async def until_done(self) -> T:
        """Attempts until one succeeds, the error is not worth retrying or the attempts run out.
        Raises ``_Skipped`` when the cooldown does not admit the provider at all."""
        permit = self._cooldown.admit(self.name)
        if permit is None:
            raise _Skipped
        while True:
            started = time.perf_counter()
            try:
                value = await self._attempt(permit)
            except ProviderError as error:
                duration_s = time.perf_counter() - started
                if not self._retry(error, permit):
                    self._report(AttemptRecord(self.name, self.attempts, duration_s, error))
                    raise
                wait_s = self._policy.wait_s(self.attempts, error)
                self._report(AttemptRecord(self.name, self.attempts, duration_s, error, wait_s))
                await self._policy.sleep(wait_s)
                continue
            self._report(
                AttemptRecord(self.name, self.attempts, time.perf_counter() - started, None)
            )
            return value

    def _retry(self, error: ProviderError, permit: Permit) -> bool:
        """Whether to try this provider again: attempts left and an error that may pass. A
        failed probe is not retried: it has just sent the provider back to rest."""
        return (
            self._policy.should_retry(error)
            and self.attempts < self._policy.max_attempts
            and not permit.probe
        )

    async def _attempt(self, permit: Permit) -> T:
        """One call under the timeout, its outcome reported to the cooldown."""
        self.attempts += 1
        try:
            async with asyncio.timeout(self._timeout_s):
                value = await self._call()
        except Exception as exc:
            self._cooldown.failed(permit)
            if isinstance(exc, TimeoutError):
                raise ProviderError(
                    self.name, f"no answer within {self._timeout_s:g}s", retryable=True
                ) from exc
            error = error_from_exception(self.name, exc)
            if error is exc:
                raise  # a provider's own ProviderError keeps its cause
            raise error from exc
        except BaseException:
            self._cooldown.release(permit)  # cancelled: no verdict on the provider
            raise
        self._cooldown.succeeded(permit)
        return value

    def _report(self, record: AttemptRecord) -> None:
        if self._on_attempt is not None:
            self._on_attempt(record)


def attempt_event(record: AttemptRecord) -> None:
    """One provider call as a ``provider_attempt`` event on the current span (the step that ran
    the chain): provider, number, duration and, for a failure, its kind, message and the backoff
    that follows. Events, not spans: a retry or a fallback shows on the step's own span, and the
    provider's HTTP calls (httpx spans) nest below that step, one per attempt."""
    attributes: dict[str, str | int | float] = {
        "casecraft.provider": record.provider,
        "casecraft.attempt": record.number,
        "casecraft.duration_s": round(record.duration_s, 4),
    }
    if record.error is not None:
        attributes["error.type"] = _error_type(record.error)
        attributes["casecraft.error"] = record.error.message
        if record.wait_s is not None:
            attributes["casecraft.retry_in_s"] = round(record.wait_s, 4)
    trace.get_current_span().add_event("provider_attempt", attributes)


def _error_type(error: ProviderError) -> str:
    """The HTTP status the provider answered, else the kind of exception (``TimeoutError``...)."""
    if error.status is not None:
        return str(error.status)
    cause = error.__cause__
    return type(cause if cause is not None else error).__name__
