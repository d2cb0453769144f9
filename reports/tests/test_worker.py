"""The worker path, for real: Redis broker, a worker process, PostgreSQL."""

from __future__ import annotations

import time

import pytest

from reports.models import WorkerHeartbeat
from reports.tasks import heartbeat

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def wait_for(predicate, timeout: float = 30.0, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(interval)
    return predicate()


def test_a_real_worker_runs_a_task_that_writes_to_the_database(
    celery_worker_process,
):
    # The worker wrote one as it started (``worker_ready``).
    started = wait_for(lambda: WorkerHeartbeat.objects.count())
    heartbeat.apply_async(queue=celery_worker_process.queue)
    assert wait_for(lambda: WorkerHeartbeat.objects.count() > started), (
        "the worker did not write a heartbeat within 30 s"
    )
    beat = WorkerHeartbeat.objects.first()
    assert beat is not None
    # The row was written by the worker process, not in-process.
    assert beat.hostname.startswith(celery_worker_process.queue)


def test_a_worker_says_it_is_alive_as_it_starts(celery_worker_process):
    # Written by the worker as it became ready, before any task was sent.
    beat = wait_for(
        lambda: WorkerHeartbeat.objects.filter(
            hostname__startswith=celery_worker_process.queue
        ).first()
    )
    assert beat is not None, "the worker wrote no heartbeat as it started"


def test_a_real_beat_notes_its_ticks_for_the_health_check(tmp_path, settings):
    """``celery beat`` with the project's scheduler, on real Redis: its
    tick reaches the cache the web processes read."""
    import os
    import subprocess
    import sys

    from django.core.cache import cache

    from conftest import ROOT, _redis_url
    from slaportal.beat import TICK_KEY, beat_last_tick

    # Read as beat writes it: without the test's own key prefix.
    settings.CACHES = {
        name: {**config, "KEY_PREFIX": ""} for name, config in settings.CACHES.items()
    }
    cache.delete(TICK_KEY)
    log = (tmp_path / "beat.log").open("wb")
    beat = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "slaportal",
            "beat",
            "--schedule",
            str(tmp_path / "schedule"),
            "--loglevel",
            "INFO",
        ],
        cwd=ROOT,
        env={**os.environ, "REDIS_URL": _redis_url(), "DJANGO_DEBUG": "True"},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        tick = wait_for(beat_last_tick)
    finally:
        beat.terminate()
        beat.wait(timeout=30)
        cache.delete(TICK_KEY)
    assert tick is not None, (tmp_path / "beat.log").read_text()
