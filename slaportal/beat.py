"""Beat's scheduler: Celery's own (``PersistentScheduler``), which also notes
when it last ticked, for ``/health/`` to tell a beat that stopped from a
worker that did.

Beat ticks at least every ``CELERY_BEAT_MAX_LOOP_INTERVAL`` seconds; the
tick is noted in the cache (Redis, shared with the web processes) at most
once every ``NOTE_EVERY`` seconds.
"""

from __future__ import annotations

from datetime import datetime
from time import monotonic
from typing import Any

from celery.beat import PersistentScheduler
from django.core.cache import cache
from django.utils import timezone

TICK_KEY = "slaportal:beat:last-tick"
NOTE_EVERY = 30.0


class Scheduler(PersistentScheduler):
    noted = float("-inf")

    def tick(self, *args: Any, **kwargs: Any) -> float:
        interval = super().tick(*args, **kwargs)
        if monotonic() - self.noted >= NOTE_EVERY:
            beat_tick_note()
            self.noted = monotonic()
        return interval


def beat_tick_note(now: datetime | None = None) -> None:
    """Note that beat ticked (``now``); a cache that is down notes nothing."""
    moment = now or timezone.now()
    cache.set(TICK_KEY, moment.isoformat(), timeout=None)


def beat_last_tick() -> datetime | None:
    """When beat last ticked, if it ever did (and the cache kept it)."""
    noted = cache.get(TICK_KEY)
    return datetime.fromisoformat(noted) if isinstance(noted, str) else None
