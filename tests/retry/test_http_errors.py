"""Failed provider calls classified: retry-after, retryable statuses, stream errors, transport
errors; keys never in a message."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from casecraft.http_errors import error_from_exception, error_from_http
from casecraft.retry_after import retry_after_s


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
