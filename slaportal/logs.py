"""Logging: an id for every request, on every line logged while handling it.

The id comes from the ``X-Request-ID`` header a proxy or a client sent, when
it is a sane token, or is made here; it goes back in the response's
``X-Request-ID`` header, so that a person quoting it from a browser's
network tab and the proxy's access log both lead to the portal's lines.
Lines logged inside a Celery task carry the task's id instead (or as well).

In production (``DJANGO_DEBUG=False``) each line is one JSON object
(``json_formatter``); the demo keeps plain text. See docs/operations.md.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable
from contextvars import ContextVar

from celery import current_task
from django.core.signals import request_finished
from django.http import HttpRequest, HttpResponse
from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter

HEADER = "X-Request-ID"
# Letters, digits and the punctuation of uuids, ULIDs, base64 and proxies'
# ids: nothing that could break a log line or a header, nor pass for markup.
SAFE_ID = re.compile(r"[A-Za-z0-9._:+/=-]{1,200}")

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)


def accepted_id(incoming: str | None) -> str:
    """``incoming`` when it is a sane token, else a new random id."""
    if incoming and SAFE_ID.fullmatch(incoming):
        return incoming
    return uuid.uuid4().hex


class RequestIdMiddleware:
    """First in ``MIDDLEWARE``: every other middleware's lines carry the id."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        rid = accepted_id(request.headers.get(HEADER))
        request.request_id = rid  # type: ignore[attr-defined]
        # Not reset on the way out: Django logs an error response ("Not
        # Found: /x") after the middleware has returned, and a streamed
        # export logs while it is sent. The id is forgotten when the response
        # is closed (``_forget``) and replaced by the next request's.
        request_id.set(rid)
        response = self.get_response(request)
        response[HEADER] = rid
        return response


def _forget(**kwargs: object) -> None:
    request_id.set(None)


request_finished.connect(_forget, dispatch_uid="slaportal.logs.forget_request_id")


class ContextFilter(logging.Filter):
    """Adds ``request_id`` (``None`` outside a request) to every record and
    ``task_id`` to records logged inside a Celery task. Set on the handler,
    so that it sees the records of every logger."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id.get()
        task = current_task
        task_id = getattr(task.request, "id", None) if task else None
        if task_id and not hasattr(record, "task_id"):
            record.task_id = task_id
        return True


def json_formatter() -> logging.Formatter:
    """One JSON object per line: ``timestamp`` (UTC, ISO 8601), ``level``,
    ``logger``, ``message``, ``request_id``, ``exception`` (the traceback)
    when there is one, ``task_id`` inside a task, and whatever a call passed
    in ``extra`` (the security log's ``event``, ``status``, ``path``...)."""
    return JsonFormatter(
        ["levelname", "name", "message", "request_id"],
        rename_fields={
            "levelname": "level",
            "name": "logger",
            "exc_info": "exception",
        },
        timestamp=True,
        # Django passes the request object along with its error lines: its
        # repr says no more than the message does.
        reserved_attrs=[*RESERVED_ATTRS, "request"],
    )
