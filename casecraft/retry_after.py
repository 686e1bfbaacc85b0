"""The wait a provider asks for before the next call: ``retry-after-ms`` or ``retry-after``."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx


def retry_after_s(
    headers: Mapping[str, str] | httpx.Headers, now: datetime | None = None
) -> float | None:
    """Seconds from ``retry-after-ms``, else ``retry-after`` (seconds or an HTTP date); ``None``
    when the provider asked for nothing readable. ``now`` is the clock an HTTP date is read
    against (the current time unless given)."""
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
