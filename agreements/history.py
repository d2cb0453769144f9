"""The one way a service writes a row with history: who did it and why, kept
whole (every history table stores the reason as text)."""

from __future__ import annotations

from typing import Any

from django.db import models
from simple_history.models import HistoricalRecords


def history_records(**kwargs: Any) -> HistoricalRecords:
    """History for a model: who changed it, when, and why, the reason kept
    whole as text (corrections quote old and new values; retire and
    request-changes notes run long)."""
    return HistoricalRecords(
        history_change_reason_field=models.TextField(null=True), **kwargs
    )


def save_with_history(
    instance: models.Model, *, user: Any, reason: str, **kwargs: Any
) -> None:
    """Save ``instance`` and record ``user`` and ``reason`` on its history row."""
    instance._history_user = user  # type: ignore[attr-defined]
    instance._change_reason = reason  # type: ignore[attr-defined]
    instance.save(**kwargs)


def delete_with_history(
    instance: models.Model, *, user: Any, reason: str | None = None
) -> None:
    """Delete ``instance``; its last history row says who deleted it, and why."""
    instance._history_user = user  # type: ignore[attr-defined]
    instance._change_reason = reason  # type: ignore[attr-defined]
    instance.delete()
