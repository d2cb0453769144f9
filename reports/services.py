from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from .models import WorkerHeartbeat

HEARTBEAT_KEEP = timedelta(days=7)


@transaction.atomic
def heartbeat_record(*, hostname: str) -> WorkerHeartbeat:
    """Record that a worker ran a task, and drop heartbeats older than a week."""
    WorkerHeartbeat.objects.filter(beat_at__lt=timezone.now() - HEARTBEAT_KEEP).delete()
    beat = WorkerHeartbeat(hostname=hostname[:255])
    beat.full_clean()
    beat.save()
    return beat
