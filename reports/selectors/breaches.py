"""A breach's history as people read it: who did what, when, and what they
wrote. Two queries."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from ..models import Breach


@dataclass(frozen=True)
class BreachEvent:
    when: datetime.datetime
    who: Any  # a user, or None for the system (finalising, corrections)
    what: str
    status: str
    note: str  # the text this step added to the breach's note


def breach_history(breach: Breach) -> list[BreachEvent]:
    """Oldest first. The breach keeps one growing note; each step shows the
    part it added."""
    records = list(
        breach.history.select_related("history_user").order_by(
            "history_date", "history_id"
        )
    )
    events, previous = [], ""
    for record in records:
        note = record.note or ""
        added = note[len(previous) :] if note.startswith(previous) else note
        previous = note
        events.append(
            BreachEvent(
                when=record.history_date,
                who=record.history_user,
                what=record.history_change_reason
                or {"+": "opened", "~": "changed", "-": "deleted"}[record.history_type],
                status=Breach.Status(record.status).label,
                note=added.strip(),
            )
        )
    return events
