from __future__ import annotations

from django.db import models


class WorkerHeartbeat(models.Model):
    """One row per heartbeat task a Celery worker ran: proof the worker path works."""

    hostname = models.CharField(max_length=255)
    beat_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-beat_at"]
        get_latest_by = "beat_at"

    def __str__(self) -> str:
        return f"{self.hostname} at {self.beat_at:%Y-%m-%d %H:%M:%S}"
