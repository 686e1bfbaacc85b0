"""JSON-lines logging to stdout, one object per record, with the current trace and span ids."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

from opentelemetry import trace

_RESERVED = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}
# Libraries whose debug records quote a request (the anthropic SDK logs its whole body: the notes).
_QUOTING_LOGGERS = ("anthropic", "openai", "httpx", "httpx2", "httpcore", "hpack")


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self._service = service

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "service": self._service,
            "logger": record.name,
            "message": record.getMessage(),
        }
        context = trace.get_current_span().get_span_context()
        if context.is_valid:
            entry["trace_id"] = format(context.trace_id, "032x")
            entry["span_id"] = format(context.span_id, "016x")
        entry.update({k: v for k, v in vars(record).items() if k not in _RESERVED})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure_logging(
    service: str, level: str = "INFO", capture_prompts: bool | None = None
) -> None:
    """Send every log record of this process to stdout as one JSON line. At DEBUG, the HTTP
    libraries' and provider SDKs' debug records (which quote the notes) stay out unless
    ``capture_prompts`` (default: the debug switch CASECRAFT_CAPTURE_PROMPTS) lets them in."""
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter(service))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    if capture_prompts is None:
        from casecraft.telemetry import capture_prompts as switch

        capture_prompts = switch()
    quoting = logging.NOTSET if capture_prompts else max(logging.INFO, root.level)
    for name in _QUOTING_LOGGERS:
        logging.getLogger(name).setLevel(quoting)
