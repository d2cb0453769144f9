"""The load test at a tiny size: the whole stack (gunicorn, a worker, beat,
an SMTP sink) under a few users for ten seconds, the month end half-way."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from conftest import _redis_url, _shared_database_url

pytestmark = pytest.mark.services

ROOT = Path(__file__).resolve().parents[2]
TEAMS, AGREEMENTS = 4, 6


@pytest.fixture
def load_database():
    """The base URL the load test names its database after; the database it
    made is dropped afterwards."""
    base = _shared_database_url()
    yield base
    import psycopg

    parts = urlsplit(base)
    name = f"{parts.path.lstrip('/')}_load_bench_{TEAMS}_{AGREEMENTS}"
    admin = urlunsplit(parts._replace(path="/postgres", scheme="postgresql"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_load_test_has_no_errors_and_sends_each_month_end_email_once(
    load_database, tmp_path
):
    # Its own Redis database, beside whatever the other tests use.
    redis = urlunsplit(urlsplit(_redis_url())._replace(path="/11"))
    out = tmp_path / "load.json"
    completed = subprocess.run(
        [
            sys.executable, "benchmarks/loadtest.py",
            "--teams", str(TEAMS), "--agreements", str(AGREEMENTS),
            "--months", "13", "--users", "5", "--seconds", "10", "--think", "0.1",
            "--redis-url", redis, "--out", str(out),
        ],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": load_database},
        capture_output=True,
        text=True,
        timeout=300,
    )  # fmt: skip
    assert completed.returncode == 0, (
        completed.stdout[-3000:] + completed.stderr[-3000:]
    )
    result = json.loads(out.read_text())

    assert result["requests"] > 0
    assert result["think"] == 0.1
    assert result["worker_nice"] == 10  # as the Procfile runs the worker
    # Every request is in the figures' file, with who sent it.
    assert len(result["samples"]) == result["requests"]
    assert all(sample["user"] for sample in result["samples"])
    assert result["errors"] == 0, result["routes"]
    # Every kind of user had its turn: leads, a manager, readers, the API.
    assert {"lead log: save", "friction: file", "dashboard", "api: agreements"} <= set(
        result["routes"]
    )
    end = result["month_end"]
    assert end["seconds"] is not None
    assert end["planned"] > 0
    assert end["sent"] == end["planned"]
    assert end["received"] == end["distinct"] == end["ledger_sent"] >= end["sent"]
    assert end["lost"] == end["duplicated"] == end["unknown"] == 0
