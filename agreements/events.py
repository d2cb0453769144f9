"""What happens to agreements and friction reports that people should hear of.

The services announce each event here, inside their transaction. The
notifications live in ``reports`` (inbox entries and emails), which
``agreements`` does not import: the reports app listens when Django starts
(``ReportsConfig.ready``), as it provides the engine to ``standing``. What
a listener writes is part of the service's transaction, and its emails are
queued when that commits.
"""

from __future__ import annotations

from typing import Any, Protocol

AGREEMENT_PROPOSED = "agreement_proposed"  # agreement
AGREEMENT_SIGNED = "agreement_signed"  # agreement, team (may have become active)
AGREEMENT_CHANGES_REQUESTED = "agreement_changes_requested"  # agreement, note
AGREEMENT_RETIRED = "agreement_retired"  # agreement, note
FRICTION_FILED = "friction_filed"  # report
FRICTION_STATUS_CHANGED = "friction_status_changed"  # report, note
FRICTION_COMMENTED = "friction_commented"  # comment
FRICTION_ASSIGNED = "friction_assigned"  # report


class Listener(Protocol):
    def __call__(self, event: str, *, actor: Any, **details: Any) -> None: ...


_listeners: list[Listener] = []


def listen(listener: Listener) -> None:
    if listener not in _listeners:
        _listeners.append(listener)


def announce(event: str, *, actor: Any, **details: Any) -> None:
    """Tell every listener that ``actor`` did ``event``; ``details`` are the
    objects it happened to (see the names above)."""
    for listener in _listeners:
        listener(event, actor=actor, **details)
