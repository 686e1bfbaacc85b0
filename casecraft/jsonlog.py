"""JSON-lines logging to stdout, one object per record, with the current trace and span ids."""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import Any

from opentelemetry import trace

# Record attributes that are not extras; uvicorn's color_message repeats the message with
# terminal colours.
_RESERVED = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "color_message"}
# Terminal escape sequences (colours, cursor moves): never part of a JSON line.
_ESCAPES = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|[@-Z\\-_])")
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
            "message": _plain(record.getMessage()),
        }
        context = trace.get_current_span().get_span_context()
        if context.is_valid:
            entry["trace_id"] = format(context.trace_id, "032x")
            entry["span_id"] = format(context.span_id, "016x")
        entry.update({k: _plain(v) for k, v in vars(record).items() if k not in _RESERVED})
        if record.exc_info:
            entry["exception"] = _plain(self.formatException(record.exc_info))
        return json.dumps(entry, default=str)


def _plain(value: Any) -> Any:
    return _ESCAPES.sub("", value) if isinstance(value, str) else value


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
