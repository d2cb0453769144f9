"""Helpers shared by the submission and friction services: periods,
corrections and repeated form posts (history and permissions are
``agreements.history`` and ``agreements.rules``, re-exported here)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeVar

from django.contrib.auth.models import User
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, models, transaction

from .. import periods
from ..history import save_with_history
from ..models import Team
from ..models.common import CORRECTION_PREFIX
from ..rules import require


def day_label(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


def month_errors(
    month: date, *, field: str, team: Team | None, now: datetime | None = None
) -> dict[str, list[ValidationError]]:
    """Why figures for ``month`` cannot be entered now, keyed by ``field``."""
    label = periods.month_label(month)
    if periods.is_future(month, now):
        return {
            field: [
                ValidationError(
                    f"{label} has not begun yet: its figures can be entered from "
                    f"{day_label(month)}.",
                    code="future_month",
                )
            ]
        }
    if periods.is_locked(month, now):
        who = f"a head of {team}" if team is not None else "a head"
        return {
            field: [
                ValidationError(
                    f"{label} is locked: its figures were due by "
                    f"{periods.due_text(month)}. Only {who} or an "
                    "administrator can still correct it, giving a reason.",
                    code="locked",
                )
            ]
        }
    return {}


def future_errors(
    day: date, *, field: str, now: datetime | None = None
) -> dict[str, list[ValidationError]]:
    """Why ``day`` cannot carry figures yet: it is in a future month, or later
    this month."""
    month = periods.month_of(day)
    if periods.is_future(month, now):
        return month_errors(month, field=field, team=None, now=now)
    if day > periods.today(now):
        return {
            field: [
                ValidationError(
                    f"{day_label(day)} is in the future: log figures for a day "
                    "once it has happened.",
                    code="future_date",
                )
            ]
        }
    return {}


def day_errors(
    day: date, *, field: str, team: Team | None, now: datetime | None = None
) -> dict[str, list[ValidationError]]:
    """Why figures dated ``day`` cannot be entered now, keyed by ``field``."""
    return future_errors(day, field=field, now=now) or month_errors(
        periods.month_of(day), field=field, team=team, now=now
    )


def closed_month_error(month: date, *, team: Team, now: datetime | None = None):
    """The error for changing or deleting a row whose month is locked."""
    errors = month_errors(month, field=NON_FIELD_ERRORS, team=team, now=now)
    return ValidationError(errors) if errors else None


def validate(
    instance: models.Model,
    *,
    checks: Iterable[Callable[[], Mapping[str, list[ValidationError]]]] = (),
    exclude: Iterable[str] = (),
    validate_constraints: bool = True,
) -> None:
    """``full_clean()``, then the service's own ``checks``, raised together so
    that a form shows every problem at once. A check runs after full_clean has
    converted the fields, and its errors on a field that already failed are
    dropped (a date that is not a date is not also "in the future")."""
    errors: dict[str, list[ValidationError]] = {}
    try:
        instance.full_clean(
            exclude=list(exclude), validate_constraints=validate_constraints
        )
    except ValidationError as exc:
        errors = exc.update_error_dict(errors)
    for check in checks:
        for field, messages in check().items():
            if field not in errors:
                errors[field] = list(messages)
    if errors:
        raise ValidationError(errors)


def check_fields(fields: Mapping[str, Any], allowed: Iterable[str], what: str) -> None:
    unknown = set(fields) - set(allowed)
    if unknown:
        raise TypeError(f"unknown {what} fields: {', '.join(sorted(unknown))}")


def _shown(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, Decimal):
        return f"{value.normalize():f}"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def snapshot(instance: models.Model, fields: Iterable[str]) -> dict[str, Any]:
    return {name: getattr(instance, name) for name in fields}


def describe_changes(
    instance: models.Model, before: Mapping[str, Any], *, long_fields=()
) -> list[str]:
    """``["leads delivered 40 → 45", "note changed"]`` for the fields that
    differ between ``before`` and the instance now."""
    changes = []
    for name, old in before.items():
        new = getattr(instance, name)
        if old == new:
            continue
        label = getattr(instance._meta.get_field(name), "verbose_name", name)
        if name in long_fields:
            changes.append(f"{label} changed")
        else:
            changes.append(f"{label} {_shown(old)} → {_shown(new)}")
    return changes


def edit_reason(verb: str, changes: list[str]) -> str:
    return verb + (": " + "; ".join(changes) if changes else "")


def correction_reason(reason: str, what: str) -> str:
    """``"correction: <reason> (<what changed>)"``: the prefix lets
    ``corrections_for_agreement`` find it."""
    return f"{CORRECTION_PREFIX}: {reason} ({what})"


def clean_reason(reason: str | None) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(
            {
                "reason": ValidationError(
                    "Say why this locked month is being corrected: the reason is "
                    "kept in its history.",
                    code="required",
                )
            }
        )
    return reason


def check_correction(
    month: date,
    *,
    user: User,
    obj,
    team: Team,
    reason: str | None,
    now: datetime | None = None,
) -> str:
    """The checks of every ``*_correct`` service; returns the cleaned reason."""
    require(
        user,
        "correct_submission",
        obj,
        f"Only a head of {team} or an administrator can correct a locked month.",
    )
    if not periods.is_locked(month, now):
        label = periods.month_label(month)
        if periods.is_future(month, now):
            message = f"{label} has not begun yet: there is nothing to correct."
        else:
            message = (
                f"{label} is still open: figures due by "
                f"{periods.due_text(month)}. Change the figures directly, "
                "no correction is needed."
            )
        raise ValidationError(message, code="not_locked")
    return clean_reason(reason)


_Row = TypeVar("_Row", bound=models.Model)


def save_once(
    instance: _Row,
    *,
    lookup: Mapping[str, Any],
    user: User,
    reason: str,
) -> _Row:
    """Insert ``instance`` unless a row matching ``lookup`` (its team and
    client token) exists; then return that row. Two identical posts racing
    each other are settled by the unique constraint: the loser's insert is
    rolled back (with its history row) and it returns the winner's row."""
    model = type(instance)
    if lookup.get("client_token") is None:
        save_with_history(instance, user=user, reason=reason)
        return instance
    try:
        with transaction.atomic():
            save_with_history(instance, user=user, reason=reason)
    except IntegrityError:
        existing = model._default_manager.filter(**lookup).first()
        if existing is None:
            raise
        return existing
    return instance


def existing_by_token(model: type[models.Model], lookup: Mapping[str, Any]):
    """The row an earlier post of the same form created, if any."""
    if lookup.get("client_token") is None:
        return None
    return model._default_manager.filter(**lookup).first()


def locked_row(model: type[_Row], pk: int) -> _Row:
    """The row as it is now, locked until the transaction ends."""
    return model.objects.select_for_update().get(pk=pk)  # type: ignore[attr-defined]
