"""A local webhook sink: an HTTP server on loopback, in a thread, answering
each POST with the next status of ``answers`` (200 once they run out) and
keeping the bodies it received."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


class Sink:
    def __init__(self) -> None:
        self.answers: list[int] = []
        self.received: list[dict] = []
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                sink.received.append(json.loads(self.rfile.read(length)))
                status = sink.answers.pop(0) if sink.answers else 200
                self.send_response(status)
                self.end_headers()
                self.wfile.write(b"no_text" if status == 400 else b"ok")

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/services/T1/B2/abcd"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(autouse=True)
def _channel_settings(settings):
    settings.SITE_URL = "https://sla.example.com"
    settings.SLA_CHANNEL_ALLOW_LOCAL = True
    settings.DEBUG = False
    settings.SLA_EMAIL_MAX_ATTEMPTS = 5
    settings.SLA_EMAIL_RETRY_SECONDS = 30
    settings.SLA_EMAIL_LEASE_SECONDS = 900
    settings.SLA_TASK_QUEUE = ""
    # Celery reads Django's settings once: after an earlier test has read
    # them, only its own configuration says whether tasks run in-process.
    from slaportal.celery import app

    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before


@pytest.fixture
def sink():
    server = Sink()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    """``with commit(execute=True):`` runs what is queued on commit."""
    return django_capture_on_commit_callbacks
