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
    assert not WorkerHeartbeat.objects.exists()
    heartbeat.apply_async(queue=celery_worker_process.queue)
    beat = wait_for(lambda: WorkerHeartbeat.objects.first())
    assert beat is not None, "the worker did not write a heartbeat within 30 s"
    # The row was written by the worker process, not in-process.
    assert beat.hostname.startswith(celery_worker_process.queue)
