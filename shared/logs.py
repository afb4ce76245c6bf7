"""Structured logs on stdout, with the trace and span ids of the work being logged."""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime

from opentelemetry import trace

FRAMEWORK_LOGGERS = ("uvicorn", "uvicorn.error", "faststream", "faststream.access.kafka")


class _TraceContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        context = trace.get_current_span().get_span_context()
        record.trace_id = format(context.trace_id, "032x") if context.is_valid else ""
        record.span_id = format(context.span_id, "016x") if context.is_valid else ""
        return True


_MAX_KINDS = 1000


class RepeatSummary(logging.Filter):
    """Lets the first warning of a kind through, then one line per `window_s` that says how
    many more came. While the broker or the database is away, aiokafka's reconnect loops
    and each retrying task warn several times a second; an outage should cost one line and
    a slow summary, not a gigabyte of log."""

    def __init__(self, window_s: float = 60.0, clock: Callable[[], float] = time.monotonic):
        super().__init__()
        self._window_s = window_s
        self._clock = clock
        # (logger, message template) -> (when its last line was let through, lines held back)
        self._seen: dict[tuple[str, object], tuple[float, int]] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return True
        kind = (record.name, record.msg)
        now = self._clock()
        if len(self._seen) > _MAX_KINDS:
            # Messages formatted before logging make a kind each: forget the quiet ones.
            self._seen = {k: v for k, v in self._seen.items() if now - v[0] < self._window_s}
        shown, held = self._seen.get(kind, (float("-inf"), 0))
        if now - shown < self._window_s:
            self._seen[kind] = (shown, held + 1)
            return False
        self._seen[kind] = (now, 0)
        if held:
            record.msg = f"{record.msg} ({held} more like this in the last {now - shown:.0f} s)"
        return True


class _JsonFormatter(logging.Formatter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self._service = service

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "service": self._service,
            "logger": record.name,
            "message": record.getMessage(),
            "trace_id": getattr(record, "trace_id", ""),
            "span_id": getattr(record, "span_id", ""),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(service: str, level: str, fmt: str) -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.addFilter(_TraceContextFilter())
    handler.addFilter(RepeatSummary())
    if fmt == "json":
        handler.setFormatter(_JsonFormatter(service))
    else:
        handler.setFormatter(
            logging.Formatter(f"%(asctime)s %(levelname)s {service} %(name)s: %(message)s")
        )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # The frameworks' own loggers write through this handler, in this format, with the ids.
    for name in FRAMEWORK_LOGGERS:
        framework = logging.getLogger(name)
        framework.handlers.clear()
        framework.propagate = True
    # Uvicorn's access log would duplicate the HTTP spans and log query strings.
    logging.getLogger("uvicorn.access").disabled = True
    logging.getLogger("aiokafka").setLevel(logging.WARNING)
    # httpx logs every request's URL at INFO: ids in paths and query strings, one line per
    # call between services, which the HTTP spans record already.
    logging.getLogger("httpx").setLevel(logging.WARNING)
