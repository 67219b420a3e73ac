"""Structured logs (issue 16 point 2): FHIR_LOG_FORMAT=json writes one JSON object per line
with the request id; `text` (the default) leaves logging as it is. Never personal data: the
request line logs the route template, never the path's query string nor a body."""

from __future__ import annotations

import logging
import os
from datetime import UTC, datetime

import orjson

FIELDS = ("request_id", "method", "route", "status", "duration_ms")


class RequestIdFilter(logging.Filter):
    """Put the current request's id on every record logged inside a request."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Add `request_id` (when in a request and not set already); never drops a record."""
        if not hasattr(record, "request_id"):
            from fhir_server.rest.metrics import current_request_id
            try:
                record.request_id = current_request_id()
            except RuntimeError:  # outside an application context
                record.request_id = None
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message and the request fields."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as one line of JSON."""
        doc: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname, "logger": record.name, "message": record.getMessage()}
        for name in FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                doc[name] = value
        if record.exc_info:
            doc["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(doc, default=str).decode()


def configure_logging(env: dict[str, str] | None = None) -> None:
    """FHIR_LOG_FORMAT=json: a JSON handler on the root logger (INFO); text: unchanged."""
    env = dict(os.environ) if env is None else env
    if env.get("FHIR_LOG_FORMAT", "text") != "json":
        return
    root = logging.getLogger()
    if any(isinstance(h.formatter, JsonFormatter) for h in root.handlers):
        return
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    root.addHandler(handler)
    root.setLevel(logging.INFO)
