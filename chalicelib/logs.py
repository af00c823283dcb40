"""Structured JSON logs, one object per line, with the request's correlation id on every line.

Hand-written rather than aws-lambda-powertools: this is all we use of it, and it costs nothing at import.
Never log request bodies, headers or tokens: only ids and states.
"""

from __future__ import annotations

import contextvars
import json
import logging
import sys
import time
from typing import Any

correlation_id: contextvars.ContextVar[str] = contextvars.ContextVar("correlation_id", default="-")
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}
_configured = False


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "correlation_id": correlation_id.get(),
        }
        line.update({k: v for k, v in vars(record).items() if k not in _STANDARD and not k.startswith("_")})
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


class _Stdout(logging.StreamHandler):
    """Writes to whatever sys.stdout is at the time (the Lambda runtime, a test's capture)."""

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stdout
        super().emit(record)


def get(name: str) -> logging.Logger:
    """A logger under `shop.` that writes JSON lines to stdout (CloudWatch on Lambda)."""
    global _configured
    if not _configured:
        root = logging.getLogger("shop")
        handler = _Stdout()
        handler.setFormatter(JsonFormatter())
        root.addHandler(handler)
        root.setLevel(logging.INFO)
        root.propagate = False
        _configured = True
    return logging.getLogger(f"shop.{name}")
