"""Celery tasks of the records: clearing abandoned uploads."""

from __future__ import annotations

from celery import shared_task

from .batches import import_batches_clear_pending


@shared_task(ignore_result=True)
def clear_pending_imports() -> int:
    return import_batches_clear_pending()
