"""The demo's first run, as ``make run`` does it: it explains itself and
prints nothing that suggests something is wrong."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Processes of its own, as the services tier's tests start: run once.
pytestmark = pytest.mark.services


def _manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_demo_sets_up_without_a_warning(tmp_path):
    # make run's environment: SQLite, no Redis, the address it serves on.
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("REDIS", "DJANGO_", "CELERY", "SLA_"))
    }
    env.update(
        DATABASE_URL=f"sqlite:///{tmp_path / 'demo.sqlite3'}",
        SITE_URL="http://127.0.0.1:8811",
        EMAIL_FILE_PATH=str(tmp_path / "mail"),
    )
    migrate = _manage("migrate", "--noinput", env=env)
    seed = _manage("seed_demo", env=env)
    assert (migrate.returncode, seed.returncode) == (0, 0), seed.stderr
    printed = migrate.stdout + migrate.stderr + seed.stdout + seed.stderr
    assert "warning" not in printed.lower(), printed
    assert "Traceback" not in printed
    # It says who may log in, and nothing from the workers' logs.
    assert "slaportal-demo" in seed.stdout
    assert "celery" not in printed.lower()
