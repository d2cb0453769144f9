"""Request ids and the shape of log lines (slaportal/logs.py)."""

from __future__ import annotations

import json
import logging
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.http import HttpResponse
from django.urls import path

from slaportal.logs import HEADER, ContextFilter, json_formatter, request_id
from slaportal.tests.test_settings import PROD, clean_env

ROOT = Path(__file__).resolve().parents[2]
NEW_ID = re.compile(r"[0-9a-f]{32}")
view_log = logging.getLogger("slaportal.tests.view")


@pytest.fixture(autouse=True)
def _outside_any_request():
    """Each test starts outside a request, whatever a request of an earlier
    test in this process left behind (a response never closed keeps its
    id until the next request)."""
    token = request_id.set(None)
    yield
    request_id.reset(token)


def logging_view(request):
    view_log.info("inside the view")
    return HttpResponse("ok")


def conflict_view(request):
    return HttpResponse("taken", status=409)


urlpatterns = [path("logs-a-line/", logging_view), path("conflict/", conflict_view)]


class Captured(logging.Handler):
    """The records a handler with the portal's filter receives."""

    def __init__(self) -> None:
        super().__init__()
        self.addFilter(ContextFilter())
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def captured():
    handler = Captured()
    root = logging.getLogger()
    root.addHandler(handler)
    yield handler
    root.removeHandler(handler)


def test_a_request_without_an_id_gets_a_new_one_in_the_response(client):
    response = client.get("/accounts/login/")
    assert NEW_ID.fullmatch(response[HEADER])
    assert client.get("/accounts/login/")[HEADER] != response[HEADER]


@pytest.mark.parametrize(
    "incoming",
    [
        "3f2a9c1e-4b7d-4e8a-9f10-2c3d4e5f6a7b",
        "req_01HZX8K2M3N4P5Q6R7S8T9V0W1",
        "Root=1-67891233-abcdef012345678912345678",
        "a" * 200,
    ],
)
def test_a_sane_incoming_id_is_kept_and_returned(client, incoming):
    response = client.get("/accounts/login/", headers={HEADER: incoming})
    assert response[HEADER] == incoming


@pytest.mark.parametrize(
    "incoming",
    [
        "",
        "a" * 201,
        "two words",
        "<script>alert(1)</script>",
        'quote"d',
        "line\nbreak",
        "tab\there",
        "semi;colon",
        "ünïcode",
    ],
)
def test_an_unsafe_incoming_id_is_replaced(client, incoming):
    response = client.get("/accounts/login/", headers={HEADER: incoming})
    assert NEW_ID.fullmatch(response[HEADER])
    assert response[HEADER] != incoming


@pytest.mark.urls(__name__)
def test_a_line_logged_inside_a_view_carries_the_request_id(client, captured):
    response = client.get("/logs-a-line/", headers={HEADER: "trace-42"})

    assert response.status_code == 200
    (line,) = [r for r in captured.records if r.name == view_log.name]
    assert line.getMessage() == "inside the view"
    assert line.request_id == "trace-42"


@pytest.mark.urls(__name__)
def test_the_id_is_forgotten_once_the_response_is_done(client, captured):
    client.get("/logs-a-line/", headers={HEADER: "trace-43"})

    assert request_id.get() is None
    logging.getLogger("slaportal.tests.after").warning("between requests")
    assert captured.records[-1].request_id is None


@pytest.mark.urls(__name__)
def test_an_error_response_logged_after_the_middleware_carries_the_id(client, captured):
    """Django logs a 4xx response a view returned ("Conflict: ...") once the
    middleware has returned it."""
    client.get("/conflict/", headers={HEADER: "trace-44"})

    (line,) = [r for r in captured.records if r.name == "django.request"]
    assert line.getMessage() == "Conflict: /conflict/"
    assert line.request_id == "trace-44"


def test_a_line_logged_inside_a_task_carries_the_task_id(captured):
    from slaportal.celery import app

    @app.task(name="slaportal.tests.test_logs.logs_a_line")
    def logs_a_line() -> None:
        logging.getLogger("slaportal.tests.task").info("inside the task")

    result = logs_a_line.apply(task_id="task-7")

    assert result.successful()
    (line,) = [r for r in captured.records if r.name == "slaportal.tests.task"]
    assert line.task_id == "task-7"
    assert line.request_id is None


def _format(record: logging.LogRecord) -> dict:
    ContextFilter().filter(record)
    text = json_formatter().format(record)
    assert "\n" not in text  # one object per line, tracebacks included
    return json.loads(text)


def test_the_json_formatter_writes_the_fields_a_collector_reads():
    token = request_id.set("trace-45")
    try:
        record = logging.getLogger("slaportal.x").makeRecord(
            "slaportal.x",
            logging.WARNING,
            __file__,
            1,
            "%s of %s",
            ("one", "two"),
            None,
            extra={"event": "access_refused", "status": 403},
        )
        line = _format(record)
    finally:
        request_id.reset(token)

    assert line["level"] == "WARNING"
    assert line["logger"] == "slaportal.x"
    assert line["message"] == "one of two"
    assert line["request_id"] == "trace-45"
    assert re.fullmatch(
        r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+\+00:00", line["timestamp"]
    )
    assert line["event"] == "access_refused"
    assert line["status"] == 403
    assert "exception" not in line


def test_the_json_formatter_includes_the_traceback_of_an_exception():
    try:
        raise ValueError("the figure is not a number")
    except ValueError:
        record = logging.getLogger("slaportal.x").makeRecord(
            "slaportal.x", logging.ERROR, __file__, 1, "failed", (), sys.exc_info()
        )
    line = _format(record)

    assert line["message"] == "failed"
    assert line["request_id"] is None
    assert line["exception"].startswith("Traceback (most recent call last):")
    assert "ValueError: the figure is not a number" in line["exception"]


# Warnings are not log lines (whitenoise's, before collectstatic has run).
SERVE_TWO_REQUESTS = """
import warnings
warnings.simplefilter("ignore")
import django
django.setup()
from django.test import Client
client = Client(HTTP_HOST="sla.example.com")
client.get("/api/v1/teams/", headers={"X-Request-ID": "prod-1"}, secure=True)
client.get("/api/v1/agreements/", headers={"X-Request-ID": "prod-2"}, secure=True)
"""


def test_production_logs_one_json_object_per_line_with_the_request_id(tmp_path):
    """The settings as production has them: every line on stderr is JSON."""
    result = subprocess.run(
        [sys.executable, "-c", SERVE_TWO_REQUESTS],
        cwd=ROOT,
        env=clean_env(**{**PROD, "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"}),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr

    lines = [json.loads(line) for line in result.stderr.splitlines()]
    seen = {(line["logger"], line["request_id"]) for line in lines}
    for rid in ("prod-1", "prod-2"):
        assert ("django.request", rid) in seen  # "Unauthorized: /api/..."
        assert ("slaportal.security", rid) in seen  # access_refused
    assert all({"timestamp", "level", "message"} <= line.keys() for line in lines)


def test_the_demo_keeps_plain_lines(tmp_path):
    result = subprocess.run(
        [sys.executable, "-c", SERVE_TWO_REQUESTS],
        cwd=ROOT,
        env=clean_env(
            DATABASE_URL=f"sqlite:///{tmp_path / 'x.db'}", DJANGO_ALLOWED_HOSTS="*"
        ),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "WARNING django.request Unauthorized: /api/v1/teams/" in result.stderr
    assert not result.stderr.lstrip().startswith("{")
