"""Retries, timeouts, cooldown and ordered provider chains: the one retry loop both services use.

The SDKs' own retry loops are off (``max_retries=0``); everything below is the only loop.

API
---
``RetryPolicy(max_attempts=3, base_delay_s=0.5, max_delay_s=8.0, max_retry_after_s=30.0,
sleep=asyncio.sleep)``
    How often one provider is tried within one call of ``run_chain``, and how long to wait between
    tries: exponential backoff with jitter (tenacity's ``wait_exponential_jitter``), or exactly the
    wait the provider asked for (``retry-after-ms`` / ``retry-after``). A provider asking for more
    than ``max_retry_after_s`` is not retried: the chain falls back at once. Only errors with
    ``retryable=True`` are retried (408, 409, 429, 5xx, 529, connection errors, timeouts, the
    retryable mid-stream errors). ``sleep`` is injectable: tests pass a recorder that returns at once.

``Cooldown(failure_threshold=3, cooldown_s=30.0, clock=time.monotonic)``
    The process-wide registry of provider health, by provider name. After ``failure_threshold``
    consecutive failed attempts a provider is skipped for ``cooldown_s``; then it is tried again
    (one more failure sends it straight back); a success resets it. Build one per service at
    start-up and pass it to every ``run_chain`` call so that all requests share it.

``await run_chain(providers, *, policy, cooldown, attempt_timeout_s, on_attempt=None)``
    ``providers`` is an ordered sequence of ``(name, call)`` where ``call()`` returns a fresh
    awaitable for one attempt. Each attempt runs under ``attempt_timeout_s`` (a per-provider
    ``{name: seconds}`` mapping also works). Exceptions are classified with
    ``error_from_exception``; the first success wins and returns ``ChainResult(value, provider,
    attempts, failures, skipped)``. When every provider fails or is cooling down it raises
    ``AllProvidersFailed`` listing each provider's last error. ``on_attempt(AttemptRecord)`` is
    called once per attempt (provider, number, duration, error or None, the wait that follows);
    ``attempt_event(record)`` puts one on the current span as a ``provider_attempt`` event.

``error_from_http(provider, status, headers, body)`` / ``error_from_exception(provider, exc)``
    Classify a failed HTTP answer (or an SDK/httpx exception) into a ``ProviderError`` with
    ``retryable``, ``status`` and ``retry_after_s`` set. Messages carry the status and the
    provider's own error message only, and say what to fix where we know it (a refused key, the
    host that did not answer); the configured keys, and things that look like keys, are masked.

``usable_key(provider, value)``
    A configured key as it can be sent: surrounding whitespace (a key file's newline) dropped,
    a key no HTTP header can carry refused with a ``ValueError`` that does not show it, and the
    key registered so that ``redact`` masks it wherever a provider or an exception quotes it.

``retry_after_s(headers)``
    The wait the provider asked for, in seconds, from ``retry-after-ms`` or ``retry-after``
    (seconds or an HTTP date), or ``None``.
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Generic, TypeVar

import httpx
from opentelemetry import trace
from tenacity import (
    DoAttempt,
    DoSleep,
    RetryCallState,
    Retrying,
    stop_after_attempt,
    wait_exponential_jitter,
)

from casecraft.errors import AllProvidersFailed, ProviderError

T = TypeVar("T")

RETRYABLE_STATUSES = frozenset({408, 409, 429, 529})
# Error types that providers send in a body or a mid-stream `error` event and that may pass.
RETRYABLE_ERROR_TYPES = frozenset(
    {"overloaded_error", "api_error", "rate_limit_error", "timeout_error", "server_error"}
)
_MAX_MESSAGE = 300
_KEY_LIKE = re.compile(r"\b(sk|pk|rk|key)[-_][A-Za-z0-9_\-]{6,}")
# What one token in an HTTP header can hold: visible ASCII.
_HEADER_TOKEN = re.compile(r"[\x21-\x7e]+")
# The configured API keys, whatever their shape, longest first; redact() masks each of them.
# Replaced whole, never changed in place, so a redact() in another thread sees one or the other.
_secrets: tuple[str, ...] = ()


def _transport_errors() -> tuple[tuple[type[BaseException], ...], ...]:
    """Timeouts, connection failures and requests that cannot be sent as configured, of httpx
    and of httpx2 (the anthropic SDK's fork)."""
    timeouts: list[type[BaseException]] = [httpx.TimeoutException, TimeoutError]
    broken: list[type[BaseException]] = [
        httpx.NetworkError,
        httpx.RemoteProtocolError,
        ConnectionError,
    ]
    unsendable: list[type[BaseException]] = [
        httpx.LocalProtocolError,
        httpx.UnsupportedProtocol,
        httpx.InvalidURL,
    ]
    try:
        import httpx2
    except ImportError:
        pass
    else:
        timeouts.append(httpx2.TimeoutException)
        broken += [httpx2.NetworkError, httpx2.RemoteProtocolError]
        unsendable += [httpx2.LocalProtocolError, httpx2.UnsupportedProtocol, httpx2.InvalidURL]
    return tuple(timeouts), tuple(broken), tuple(unsendable)


_TIMEOUTS, _CONNECTION_ERRORS, _UNSENDABLE = _transport_errors()


def _retryable_status(status: int) -> bool:
    return status in RETRYABLE_STATUSES or status >= 500


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 3
    base_delay_s: float = 0.5
    max_delay_s: float = 8.0
    max_retry_after_s: float = 30.0
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep

    def wait_s(self, attempt_number: int, error: BaseException | None) -> float:
        """The wait after failed attempt ``attempt_number`` (1-based) ended with ``error``."""
        if isinstance(error, ProviderError) and error.retry_after_s is not None:
            return error.retry_after_s
        backoff = wait_exponential_jitter(
            multiplier=self.base_delay_s, max=self.max_delay_s, jitter=self.base_delay_s
        )
        # The wait strategy reads only the attempt number; no retrying object is needed.
        state = RetryCallState(None, None, (), {})  # type: ignore[arg-type]
        state.attempt_number = attempt_number
        return float(backoff(state))

    def should_retry(self, error: BaseException | None) -> bool:
        if not isinstance(error, ProviderError) or not error.retryable:
            return False
        return error.retry_after_s is None or error.retry_after_s <= self.max_retry_after_s


@dataclass
class _Health:
    failures: int = 0
    until: float = 0.0


class Cooldown:
    """Consecutive failures per provider name; a provider past the threshold rests for a while."""

    def __init__(
        self,
        failure_threshold: int = 3,
        cooldown_s: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.failure_threshold = failure_threshold
        self.cooldown_s = cooldown_s
        self._clock = clock
        self._health: dict[str, _Health] = {}

    def remaining_s(self, provider: str) -> float:
        """Seconds until ``provider`` may be tried again; 0 when it may be tried now."""
        health = self._health.get(provider)
        return 0.0 if health is None else max(0.0, health.until - self._clock())

    def available(self, provider: str) -> bool:
        return self.remaining_s(provider) == 0.0

    def record_success(self, provider: str) -> None:
        self._health.pop(provider, None)

    def record_failure(self, provider: str) -> None:
        health = self._health.setdefault(provider, _Health())
        health.failures += 1
        if health.failures >= self.failure_threshold:
            health.until = self._clock() + self.cooldown_s


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
    # Providers skipped because they were cooling down.
    skipped: tuple[str, ...] = field(default=())


async def run_chain(
    providers: Sequence[tuple[str, Callable[[], Awaitable[T]]]],
    *,
    policy: RetryPolicy,
    cooldown: Cooldown,
    attempt_timeout_s: float | Mapping[str, float],
    on_attempt: Callable[[AttemptRecord], None] | None = None,
) -> ChainResult[T]:
    """Try each provider in order, with retries; the first success wins."""
    failures: list[ProviderError] = []
    messages: list[str] = []
    skipped: list[str] = []
    attempts = 0
    for name, call in providers:
        remaining = cooldown.remaining_s(name)
        if remaining > 0:
            skipped.append(name)
            messages.append(f"{name}: cooling down for {remaining:.0f}s after repeated failures")
            # Visible in the trace: the step that ran the chain says which provider it passed over.
            trace.get_current_span().add_event(
                "provider_skipped",
                {"casecraft.provider": name, "casecraft.cooldown_remaining_s": round(remaining, 3)},
            )
            continue
        timeout_s = (
            attempt_timeout_s
            if isinstance(attempt_timeout_s, int | float)
            else attempt_timeout_s[name]
        )
        run = _ProviderRun(name, call, cooldown, timeout_s, on_attempt)
        try:
            value = await run.with_retries(policy)
        except ProviderError as exc:
            failures.append(exc)
            messages.append(str(exc))
            continue
        finally:
            attempts += run.attempts
        return ChainResult(value, name, attempts, tuple(failures), tuple(skipped))
    raise AllProvidersFailed(messages or ["no provider configured"])


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
        attributes["error.type"] = error_type(record.error)
        attributes["casecraft.error"] = record.error.message
        if record.wait_s is not None:
            attributes["casecraft.retry_in_s"] = round(record.wait_s, 4)
    trace.get_current_span().add_event("provider_attempt", attributes)


def error_type(error: ProviderError) -> str:
    """The HTTP status the provider answered, else the kind of exception (``TimeoutError``...)."""
    if error.status is not None:
        return str(error.status)
    cause = error.__cause__
    return type(cause if cause is not None else error).__name__


class _ProviderRun(Generic[T]):
    """The attempts at one provider within one chain call."""

    def __init__(
        self,
        name: str,
        call: Callable[[], Awaitable[T]],
        cooldown: Cooldown,
        timeout_s: float,
        on_attempt: Callable[[AttemptRecord], None] | None,
    ) -> None:
        self.name = name
        self.attempts = 0
        self._call = call
        self._cooldown = cooldown
        self._timeout_s = timeout_s
        self._on_attempt = on_attempt
        self._failed: AttemptRecord | None = None

    async def with_retries(self, policy: RetryPolicy) -> T:
        """Attempts until one succeeds or the policy says stop, tenacity deciding each step.

        tenacity's own asyncio loop (AsyncRetrying) wraps every one of its actions in a
        coroutine and inspects it, on every attempt: 0.2 M instructions per chain call, 9% of a
        whole request, for a policy whose every part is plain synchronous code. So the policy
        runs in a synchronous ``Retrying`` and only the attempt and the sleep are awaited here.
        """
        retrying = Retrying(
            stop=stop_after_attempt(policy.max_attempts),
            wait=lambda state: policy.wait_s(
                state.attempt_number, state.outcome.exception() if state.outcome else None
            ),
            retry=_RetryIf(policy),
            before_sleep=self._before_sleep,
            reraise=True,
        )
        retrying.begin()
        state = RetryCallState(retrying, None, (), {})
        try:
            while True:
                step = retrying.iter(state)
                if isinstance(step, DoAttempt):
                    try:
                        state.set_result(await self._attempt())
                    except BaseException:
                        state.set_exception(sys.exc_info())  # type: ignore[arg-type]
                elif isinstance(step, DoSleep):
                    state.prepare_for_next_attempt()
                    await policy.sleep(step)
                else:
                    return step  # type: ignore[no-any-return]
        except ProviderError:
            self._report_failure(None)
            raise

    async def _attempt(self) -> T:
        self.attempts += 1
        started = time.perf_counter()
        try:
            async with asyncio.timeout(self._timeout_s):
                value = await self._call()
        except Exception as exc:
            error = (
                ProviderError(self.name, f"no answer within {self._timeout_s:g}s", retryable=True)
                if isinstance(exc, TimeoutError)
                else error_from_exception(self.name, exc)
            )
            self._cooldown.record_failure(self.name)
            self._failed = AttemptRecord(
                self.name, self.attempts, time.perf_counter() - started, error
            )
            if error is exc:
                raise  # a provider's own ProviderError keeps its cause
            raise error from exc
        self._cooldown.record_success(self.name)
        self._report(AttemptRecord(self.name, self.attempts, time.perf_counter() - started, None))
        return value

    def _before_sleep(self, state: RetryCallState) -> None:
        self._report_failure(state.upcoming_sleep)

    def _report_failure(self, wait_s: float | None) -> None:
        failed, self._failed = self._failed, None
        if failed is not None:
            self._report(
                AttemptRecord(
                    failed.provider, failed.number, failed.duration_s, failed.error, wait_s
                )
            )

    def _report(self, record: AttemptRecord) -> None:
        if self._on_attempt is not None:
            self._on_attempt(record)


class _RetryIf:
    def __init__(self, policy: RetryPolicy) -> None:
        self._policy = policy

    def __call__(self, state: RetryCallState) -> bool:
        outcome = state.outcome
        return (
            outcome is not None
            and outcome.failed
            and self._policy.should_retry(outcome.exception())
        )


def retry_after_s(
    headers: Mapping[str, str] | httpx.Headers, now: datetime | None = None
) -> float | None:
    """The wait a provider asked for: ``retry-after-ms``, else ``retry-after`` (seconds or date)."""
    lowered = {k.lower(): v for k, v in headers.items()}
    millis = lowered.get("retry-after-ms")
    if millis is not None:
        try:
            return max(0.0, float(millis) / 1000)
        except ValueError:
            pass
    value = lowered.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def usable_key(provider: str, value: str) -> str:
    """``value`` stripped, checked to fit in a header, and masked by ``redact`` from now on."""
    global _secrets
    key = value.strip()
    if not _HEADER_TOKEN.fullmatch(key):
        raise ValueError(
            f"the API key for {provider} is empty or holds a character no HTTP header can carry "
            "(a space, a line break, a control or non-ASCII character): check the key"
        )
    if len(key) >= 8:  # shorter ones are placeholders for local servers, not secrets
        _secrets = tuple(sorted({*_secrets, key}, key=len, reverse=True))
    return key


def redact(text: str) -> str:
    """Mask the configured API keys and anything that looks like one; bound the length."""
    for secret in _secrets:
        text = text.replace(secret, "***")
    text = _KEY_LIKE.sub(lambda m: m.group(0)[:3] + "***", text)
    return text if len(text) <= _MAX_MESSAGE else text[: _MAX_MESSAGE - 1] + "…"


def _body_error(body: Any) -> tuple[str | None, str | None]:
    """(error type, message) from Anthropic- or OpenAI-style error bodies."""
    if isinstance(body, bytes | str):
        try:
            body = json.loads(body)
        except ValueError:
            text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
            return None, text.strip() or None
    if not isinstance(body, dict):
        return None, None
    error = body.get("error", body)
    if isinstance(error, str):
        return None, error
    if not isinstance(error, dict):
        return None, None
    kind = error.get("type") or error.get("code")
    message = error.get("message")
    return (str(kind) if kind is not None else None), (str(message) if message else None)


def error_from_http(
    provider: str, status: int, headers: Mapping[str, str] | httpx.Headers, body: Any
) -> ProviderError:
    """A failed answer as a ProviderError: status and the provider's message, nothing else.

    ``status`` below 400 means an error reported inside a 200 stream (an SSE ``error`` event):
    it is retryable when its type is (overloaded, api_error, rate limit).
    """
    kind, message = _body_error(body)
    if kind == str(status):
        kind = None  # OpenAI-style bodies repeat the status as their code
    detail = " ".join(part for part in (kind, message) if part) or "no error message"
    if status >= 400:
        retryable = _retryable_status(status)
        text = f"HTTP {status}: {detail}"
    else:
        retryable = kind in RETRYABLE_ERROR_TYPES or (
            kind is not None and kind.isdigit() and _retryable_status(int(kind))
        )
        text = f"stream error: {detail}"
    wait_s = retry_after_s(headers) if retryable else None
    text = redact(text)
    if status == 401:
        text += f"; check the API key for {provider}"
    elif status == 403:
        text += f"; check the API key for {provider} and what it is allowed to do"
    elif wait_s is not None:
        text += f"; retry after {round(wait_s, 1):g}s"
    return ProviderError(
        provider,
        text,
        retryable=retryable,
        status=status if status >= 400 else None,
        retry_after_s=wait_s,
    )


def error_from_exception(provider: str, exc: BaseException) -> ProviderError:
    """Classify an exception from an SDK or httpx; connection failures and timeouts may pass."""
    if isinstance(exc, ProviderError):
        return exc
    import anthropic  # the structurer's SDK; imported here so image-only code need not load it

    if isinstance(exc, anthropic.APIStatusError):
        return error_from_http(provider, exc.status_code, exc.response.headers, exc.body)
    if isinstance(exc, anthropic.APITimeoutError):
        return ProviderError(provider, f"timed out{_where(exc)}", retryable=True)
    if isinstance(exc, anthropic.APIConnectionError):
        cause = exc.__cause__
        if isinstance(cause, _UNSENDABLE):
            return _unsendable(provider, cause)
        kind = type(cause).__name__ if cause is not None else "connection error"
        return ProviderError(provider, f"connection{_where(exc)} failed ({kind})", retryable=True)
    if isinstance(exc, httpx.HTTPStatusError):
        response = exc.response
        body = response.content if response.is_stream_consumed or response.is_closed else b""
        return error_from_http(provider, response.status_code, response.headers, body)
    if isinstance(exc, _TIMEOUTS):
        return ProviderError(
            provider, f"timed out{_where(exc)} ({type(exc).__name__})", retryable=True
        )
    if isinstance(exc, _CONNECTION_ERRORS):
        return ProviderError(
            provider, f"connection{_where(exc)} failed ({type(exc).__name__})", retryable=True
        )
    if isinstance(exc, _UNSENDABLE):
        return _unsendable(provider, exc)
    # Only the type: an arbitrary message may quote the request (the notes) or the answer.
    return ProviderError(provider, f"failed: {type(exc).__name__}")


def _where(exc: BaseException) -> str:
    """Where the failed request went (" to host:port"), when the exception knows it."""
    try:
        url = exc.request.url  # type: ignore[attr-defined]
    except (AttributeError, RuntimeError):  # httpx raises RuntimeError when no request is set
        return ""
    return f" to {url.host}:{url.port}" if url.port else f" to {url.host}"


def _unsendable(provider: str, exc: BaseException) -> ProviderError:
    """A request that could not be sent as configured: trying again cannot help. Only the type:
    the message of a LocalProtocolError quotes the header it refused, the key included."""
    return ProviderError(
        provider,
        f"the request could not be sent ({type(exc).__name__}): check the base URL and the API key",
    )
