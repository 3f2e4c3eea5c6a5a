"""Structured JSON logs: AWS Lambda Powertools' formatter, one line per record.

`configure()` sends every logger's records (ours are plain `logging.getLogger(__name__)`)
through one handler with Powertools' `LambdaPowertoolsFormatter`. A line has:

* Powertools' fields: `level`, `location` (function:line), `message`, `timestamp` (UTC,
  RFC 3339), `service`, `xray_trace_id` in Lambda, `exception` / `exception_name` /
  `stack_trace` with an exception;
* `logger` (the logger's name) and `correlation_id`: API Gateway's request id on a
  request's lines (app.py's `correlate`), the event's id on an event handler's
  (`events.dispatch`), "-" elsewhere;
* inside an invocation (`invocation()`): `cold_start` and Powertools' Lambda context
  fields `function_name`, `function_memory_size`, `function_arn`, `function_request_id`;
* every `extra={...}` key the call passed, a None value included (as null).

The per-request keys live in context variables, not in the formatter: `chalice local`
serves requests on threads, and one request's id must not label another's lines.

Only the formatter and the Lambda-context model come from Powertools: its `Logger`
configures one named logger, not the module loggers this code uses everywhere.
Importing any part of the package runs its `__init__` (Logger, Metrics, Tracer, and
`import botocore` for its user-agent hook): about 35 ms of CPU per cold start (README,
"Dependencies").
"""

from __future__ import annotations

import contextvars
import copy
import logging
import os
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any

from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter
from aws_lambda_powertools.logging.lambda_context import build_lambda_context_model

SERVICE = "drink-assistant"
ORDER = ["timestamp", "level", "logger", "message", "correlation_id", "client_correlation_id", "cold_start",
         "function_name", "location"]  # fmt: skip

correlation_id: contextvars.ContextVar[str] = contextvars.ContextVar("correlation_id", default="-")
# The invocation's keys (cold_start, the Lambda context, client_correlation_id).
_invocation: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar("invocation", default=None)

_STANDARD = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime"}
_cold = True


class _Null:
    """Stands for an `extra` value of None, which Powertools would drop with its key."""


_NULL = _Null()


def _json_default(value: Any) -> Any:
    return None if value is _NULL else str(value)


class JsonFormatter(LambdaPowertoolsFormatter):
    """Powertools' formatter, given the context variables and None-valued extras; it formats
    a copy of the record, so other handlers (pytest's caplog) see the record as logged."""

    def format(self, record: logging.LogRecord) -> str:  # noqa: A003 (logging's name)
        line = copy.copy(record)
        for key, value in record.__dict__.items():
            if value is None and key not in _STANDARD and not key.startswith("_"):
                line.__dict__[key] = _NULL
        line.logger = record.name
        line.correlation_id = correlation_id.get()
        for key, value in (_invocation.get() or {}).items():
            line.__dict__.setdefault(key, value)
        return super().format(line)


def json_handler(stream: IO[str] | None = None) -> logging.Handler:
    """A handler writing this module's JSON lines to `stream` (default stdout)."""
    handler = logging.StreamHandler(stream or sys.stdout)
    handler.setFormatter(
        JsonFormatter(
            service=os.environ.get("POWERTOOLS_SERVICE_NAME") or SERVICE,
            log_record_order=ORDER,
            utc=True,
            use_rfc3339=True,
            json_default=_json_default,
        )
    )
    return handler


def configure(level: str = "INFO") -> None:
    """Send every logger's records through one JSON handler (idempotent)."""
    root = logging.getLogger()
    if any(isinstance(h.formatter, JsonFormatter) for h in root.handlers):
        return
    # Lambda installs its own handler; replace it so every line is JSON.
    for handler in list(root.handlers):
        root.removeHandler(handler)
    root.addHandler(json_handler())
    root.setLevel(level)


def _cold_start() -> bool:
    """True for the first invocation of this process (a Lambda container's cold start),
    False after it and always under provisioned concurrency (as Powertools decides it)."""
    global _cold
    cold, _cold = _cold, False
    return cold and os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE") != "provisioned-concurrency"


_CLIENT_ID_JUNK = re.compile(r"[^A-Za-z0-9._:/-]+")
CLIENT_ID_MAX = 64


def client_correlation_id(value: str | None) -> str | None:
    """A client-sent X-Correlation-Id fit to log beside ours: safe characters only, at most
    64 of them; None when nothing is left. Never the correlation id itself."""
    cleaned = _CLIENT_ID_JUNK.sub("", value or "")[:CLIENT_ID_MAX]
    return cleaned or None


@contextmanager
def invocation(lambda_context: Any, cid: str | None = None, **keys: Any) -> Iterator[None]:
    """Every line logged inside carries cold_start, Powertools' fields of `lambda_context`
    (when there is one), `keys` whose value is not None, and `cid` as the correlation id."""
    fields: dict[str, Any] = {"cold_start": _cold_start()}
    if lambda_context is not None:
        fields.update(vars(build_lambda_context_model(lambda_context)))
    fields.update({key: value for key, value in keys.items() if value is not None})
    token = _invocation.set(fields)
    cid_token = correlation_id.set(cid) if cid else None
    try:
        yield
    finally:
        if cid_token is not None:
            correlation_id.reset(cid_token)
        _invocation.reset(token)
