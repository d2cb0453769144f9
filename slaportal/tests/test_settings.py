"""Run modes: each one is a fresh interpreter with its own environment."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

PROD = {
    "DJANGO_DEBUG": "False",
    "DJANGO_SECRET_KEY": "a-long-random-production-secret-key-with-entropy-12345678",
    "DJANGO_ALLOWED_HOSTS": "sla.example.com",
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/slaportal",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
}

PRINT_SETTINGS = """
import json, django
from django.conf import settings
django.setup()
print(json.dumps({
    "engine": settings.DATABASES["default"]["ENGINE"],
    "cache": settings.CACHES["default"]["BACKEND"],
    "broker": settings.CELERY_BROKER_URL,
    "eager": settings.CELERY_TASK_ALWAYS_EAGER,
    "email": settings.EMAIL_BACKEND,
    "debug": settings.DEBUG,
    "static_files": settings.STORAGES["staticfiles"]["BACKEND"],
    "static_autorefresh": settings.WHITENOISE_AUTOREFRESH,
}))
"""


def clean_env(**env: str) -> dict[str, str]:
    """This process's environment without any of the portal's own variables."""
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "DATABASE_URL", "REDIS_URL", "EMAIL_URL"))
    }
    return {**clean, "DJANGO_SETTINGS_MODULE": "slaportal.settings", **env}


def run(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env=clean_env(**env),
        capture_output=True,
        text=True,
        timeout=60,
    )


def run_python(code: str, **env: str) -> subprocess.CompletedProcess:
    return run("-c", code, **env)


def settings_with(**env: str) -> dict:
    result = run_python(PRINT_SETTINGS, **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_demo_mode_needs_no_services():
    s = settings_with()
    assert s["engine"] == "django.db.backends.sqlite3"
    assert s["cache"] == "django.core.cache.backends.db.DatabaseCache"
    assert s["eager"] is True
    assert s["broker"] == "memory://localhost/"
    assert s["email"] == "slaportal.mail.EmlFileBackend"  # one .eml file per message
    # Static files found as they are asked for, from the project's folders.
    assert s["static_files"] == "django.contrib.staticfiles.storage.StaticFilesStorage"
    assert s["static_autorefresh"] is True


def test_urls_select_postgresql_redis_and_smtp():
    s = settings_with(
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/x",
        REDIS_URL="redis://127.0.0.1:6379/3",
        EMAIL_URL="smtp://127.0.0.1:2525",
    )
    assert s["engine"] == "slaportal.postgresql"  # Django's, timestamps in C
    assert s["cache"] == "slaportal.cache.ResilientRedisCache"
    assert s["broker"] == "redis://127.0.0.1:6379/3"
    assert s["eager"] is False
    assert s["email"] == "slaportal.mail.SMTPEmailBackend"  # Django's, subclassed


def test_production_settings_load():
    s = settings_with(**PROD)
    assert s["debug"] is False
    # Hashed, compressed copies, read once as the middleware starts.
    assert s["static_files"] == "slaportal.staticfiles.StaticFilesStorage"
    assert s["static_autorefresh"] is False


@pytest.mark.parametrize(
    "missing",
    ["DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS", "DATABASE_URL", "REDIS_URL"],
)
def test_production_refuses_to_start_without(missing):
    env = {k: v for k, v in PROD.items() if k != missing}
    result = run_python(PRINT_SETTINGS, **env)
    assert result.returncode != 0
    assert f"{missing} must be set" in result.stderr


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DATABASE_URL", "not-a-url"),
        ("DATABASE_URL", "mysql://root@localhost/x"),
        ("REDIS_URL", "127.0.0.1:6379"),
        ("EMAIL_URL", "mail.example.com"),
    ],
)
def test_malformed_url_names_the_variable(name, value):
    result = run_python(PRINT_SETTINGS, **{**PROD, name: value})
    assert result.returncode != 0
    assert f"{name} is malformed" in result.stderr


def test_check_deploy_is_clean_in_production():
    result = run("manage.py", "check", "--deploy", "--fail-level", "WARNING", **PROD)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


LOOPBACK = {**PROD, "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost"}

PRINT_TLS = """
import json, django
from django.conf import settings
django.setup()
print(json.dumps([settings.SECURE_SSL_REDIRECT, settings.SESSION_COOKIE_SECURE,
    settings.CSRF_COOKIE_SECURE, settings.SECURE_HSTS_SECONDS]))
"""


def test_production_on_loopback_without_tls_passes_check_deploy():
    """`make prod` serves plain HTTP on loopback: the four settings that
    need TLS are off, and with them their checks; every other stays."""
    tls = run_python(PRINT_TLS, **LOOPBACK, SLA_LOOPBACK_WITHOUT_TLS="True")
    assert json.loads(tls.stdout) == [False, False, False, 0], tls.stderr
    # Without the switch, the same hosts get every TLS setting, and the
    # checks on them.
    assert json.loads(run_python(PRINT_TLS, **LOOPBACK).stdout) == [
        True,
        True,
        True,
        60 * 60 * 24 * 365,
    ]
    result = run(
        "manage.py",
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        **LOOPBACK,
        SLA_LOOPBACK_WITHOUT_TLS="True",
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_serving_without_tls_is_refused_for_a_public_host_name():
    result = run_python(PRINT_TLS, **PROD, SLA_LOOPBACK_WITHOUT_TLS="True")
    assert result.returncode != 0
    assert "DJANGO_ALLOWED_HOSTS may then name only" in result.stderr
