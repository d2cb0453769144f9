"""Celery tasks of the reports app: the worker's heartbeat. The
notifications' tasks live in ``reports.notifications.tasks``."""

from __future__ import annotations

from celery import shared_task

from .services import heartbeat_record


@shared_task(bind=True, ignore_result=True)
def heartbeat(self) -> int:
    return heartbeat_record(hostname=self.request.hostname or "in-process").pk
