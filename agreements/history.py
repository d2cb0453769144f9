"""The one way a service writes a row with history: who did it and why, kept
whole (every history table stores the reason as text)."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from django.db import models
from simple_history.manager import HistoryDescriptor
from simple_history.models import HistoricalRecords


def history_records(**kwargs: Any) -> HistoricalRecords:
    """History for a model: who changed it, when, and why, the reason kept
    whole as text (corrections quote old and new values; retire and
    request-changes notes run long)."""
    return _HistoricalRecords(
        history_change_reason_field=models.TextField(null=True), **kwargs
    )


class _HistoryDescriptor(HistoryDescriptor):
    """``Model.history``, its manager class made once. simple-history's own
    descriptor makes the class (copying every queryset method onto it) on
    each access, and every save with history makes one."""

    def __get__(self, instance, owner):
        return self._manager_class(self.model, instance)

    @cached_property
    def _manager_class(self) -> type:
        return self.manager_class.from_queryset(self.queryset_class)


class _HistoricalRecords(HistoricalRecords):
    def finalize(self, sender, **kwargs) -> None:
        super().finalize(sender, **kwargs)
        own = sender.__dict__.get(self.manager_name)
        if type(own) is HistoryDescriptor:
            setattr(
                sender,
                self.manager_name,
                _HistoryDescriptor(
                    own.model, manager=own.manager_class, queryset=own.queryset_class
                ),
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
