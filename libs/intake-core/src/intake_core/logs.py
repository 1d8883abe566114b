"""Process-wide logging: one JSON object per line, personal data masked.

Every service calls :func:`configure_logging` once at start-up. Emails and phone numbers are masked
in messages and extra fields, whatever the caller passed, because a log line is the easiest place
for personal data to leak. ``LOG_FORMAT=text`` gives the same, masked, as plain lines for people.
A process whose log handlers belong to a host (the Azure Function) calls :func:`mask_every_record`
instead.
"""

from __future__ import annotations

import contextvars
import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

from intake_core.domain.pii import mask_pii

request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)

# Client libraries that log each request's URL at INFO. A URL's query string can hold what staff
# searched for (a name, an email, a phone number), which no mask can recognise for sure, so these
# log only warnings, whatever LOG_LEVEL says; the requests are traced.
_REQUEST_LOGGERS = ("httpx", "httpcore", "azure.core.pipeline.policies.http_logging_policy")
_PLAIN = logging.Formatter()
_STANDARD_ATTRIBUTES = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {
    "message",
    "asctime",
    "taskName",
}


def _masked(value: Any) -> Any:
    if isinstance(value, str):
        return mask_pii(value)
    if isinstance(value, dict):
        return {key: _masked(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_masked(item) for item in value]
    return value


def _masked_text(value: object) -> str:
    return mask_pii(str(value))


def _trace_ids() -> dict[str, str]:
    """The current OpenTelemetry span, when OpenTelemetry is installed and a span is active."""
    try:
        from opentelemetry import trace
    except ImportError:
        return {}
    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return {}
    return {"trace_id": f"{context.trace_id:032x}", "span_id": f"{context.span_id:016x}"}


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self._service = service

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "service": self._service,
            "logger": record.name,
            "message": mask_pii(record.getMessage()),
        }
        if (current := request_id.get()) is not None:
            entry["request_id"] = current
        entry.update(_trace_ids())
        for key, value in record.__dict__.items():
            if key not in _STANDARD_ATTRIBUTES and not key.startswith("_"):
                entry[key] = _masked(value)
        if record.exc_info:
            entry["exception"] = mask_pii(self.formatException(record.exc_info))
        # Anything JSON cannot write (a set, an exception, a date) is written as its masked text.
        return json.dumps(entry, default=_masked_text, ensure_ascii=False)


class MaskedTextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return mask_pii(super().format(record))


def configure_logging(service: str, level: str = "INFO", fmt: str = "json") -> None:
    handler = logging.StreamHandler(sys.stdout)
    if fmt == "text":
        handler.setFormatter(MaskedTextFormatter("%(levelname)-7s %(name)s: %(message)s"))
    else:
        handler.setFormatter(JsonFormatter(service))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # uvicorn's loggers propagate to the root, so they get the same format, level and masking.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        if name == "uvicorn.access" and not logger.propagate and not logger.handlers:
            continue  # uvicorn --no-access-log switched it off: keep it off
        logger.handlers[:] = []
        logger.propagate = True
        logger.setLevel(logging.NOTSET)
    for name in _REQUEST_LOGGERS:
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))


def mask_every_record() -> None:
    """Mask the message and exception of every log record this process makes, whoever writes it.

    For a process whose handlers belong to a host: the Functions worker puts its own handler on
    the root logger, which sends each record to the host (and so to Application Insights).
    :func:`configure_logging` would replace that handler; a filter on the root logger would not
    see records of other loggers (a logger's filters see only what is logged on it); a filter
    on the handler would miss any handler the worker adds later. The record factory sees each
    record as it is made: its message is formatted and masked there, and its exception's text
    masked and kept, so any formatter writes both masked. Extra fields are not masked here (the
    host does not write them; :class:`JsonFormatter` masks them). Safe to call more than once.
    """
    make_record = logging.getLogRecordFactory()
    if getattr(make_record, "masks_pii", False):
        return

    def masked_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make_record(*args, **kwargs)
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # arguments that do not fit the message
            message = f"{record.msg} {record.args!r}"
        record.msg, record.args = mask_pii(message), None
        if record.exc_info:
            record.exc_text = mask_pii(_PLAIN.formatException(record.exc_info))
        return record

    masked_record.masks_pii = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(masked_record)
