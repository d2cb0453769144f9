"""Celery tasks of the records: clearing abandoned uploads, importing a
large file in the background. A task imports the service it wraps inside
its body, so the service can queue it from the top of its module."""

from __future__ import annotations

from celery import shared_task

from .batches import import_batches_clear_pending


@shared_task(ignore_result=True)
def clear_pending_imports() -> int:
    return import_batches_clear_pending()


# Idempotent by its state guard (only a running batch is imported, and an
# import sent twice finds its records unchanged), so acknowledged late. A
# CRM's 100,000 leads may take longer than the default limit of ten minutes.
@shared_task(
    ignore_result=True,
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=29 * 60,
    time_limit=30 * 60,
)
def import_batch_run_task(batch_id: int) -> None:
    from .background import import_batch_run

    import_batch_run(batch_id=batch_id)
