"""Request ids and structured JSON logs that never carry message text or tokens.

The request id lives in a context variable so every log line of a request carries it without
threading it through calls; the formatter emits one JSON object per line.
"""

from __future__ import annotations

import logging
import sys
import time
from contextvars import ContextVar

import msgspec

__all__ = ["JsonFormatter", "configure_logging", "current_request_id", "request_id_var"]

request_id_var: ContextVar[str | None] = ContextVar("spotter_request_id", default=None)
_encoder = msgspec.json.Encoder()

#: Attributes a log call may attach with `extra=`; anything else (message text!) is dropped.
_ALLOWED_EXTRA = frozenset({"method", "path", "status", "duration_ms", "conversation", "outcome", "event"})


def current_request_id() -> str | None:
    """The id of the request being handled, if any."""
    return request_id_var.get()


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id, allowed extras."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = request_id_var.get()
        if request_id is not None:
            entry["request_id"] = request_id
        for name in _ALLOWED_EXTRA:
            if name in record.__dict__:
                entry[name] = record.__dict__[name]
        if record.exc_info and record.exc_info[0] is not None:
            entry["error"] = record.exc_info[0].__name__
            if record.levelno <= logging.DEBUG:
                entry["traceback"] = self.formatException(record.exc_info)
        return _encoder.encode(entry).decode()


def configure_logging(level: str) -> None:
    """Route the root logger (and uvicorn's) through the JSON formatter on stderr."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers[:] = []
        logger.propagate = True
    logging.getLogger("uvicorn.access").disabled = True  # the app logs each request itself
