"""Helpers for the rows a team owns for a month (lead log entries, closed
customers): the edit, delete and correction steps they share."""

from __future__ import annotations

import datetime as dt

from ..history import delete_with_history, save_with_history
from ..models import Team
from ..rules import require
from ..services._common import (
    check_correction,
    closed_month_error,
    correction_reason,
    day_errors,
    describe_changes,
    edit_reason,
    future_errors,
    save_once,
    snapshot,
    validate,
)

# Set by the service from trusted objects: validating them again would cost a
# query per foreign key, which a 5,000-row import feels.
SERVICE_SET = ("team", "created_by", "month", "client_token")


def dated_check(instance, field: str, *, team: Team, now, open_only: bool):
    def check():
        value = getattr(instance, field)
        if not isinstance(value, dt.date):
            return {}
        if open_only:
            return day_errors(value, field=field, team=team, now=now)
        return future_errors(value, field=field, now=now)

    return check


def locked_row(model, pk):
    return model.objects.select_for_update().get(pk=pk)


def update_row(current, *, user, fields, names, date_field, long_fields=()):
    """Apply an edit in an open month; write nothing when nothing changed."""
    team = current.team
    error = closed_month_error(current.month, team=team)
    if error is not None:
        raise error
    before = snapshot(current, names)
    for name, value in fields.items():
        setattr(current, name, value)
    validate(
        current,
        checks=[dated_check(current, date_field, team=team, now=None, open_only=True)],
        exclude=SERVICE_SET,
    )
    changes = describe_changes(current, before, long_fields=long_fields)
    if changes:
        save_with_history(current, user=user, reason=edit_reason("edited", changes))
    return current


def delete_row(current, *, user, message: str) -> None:
    require(user, "submit_figures", current, message)
    error = closed_month_error(current.month, team=current.team)
    if error is not None:
        raise error
    delete_with_history(current, user=user, reason="deleted")


def correct_row(current, *, user, reason, delete, fields, names, date_field, long=()):
    """Change or delete a row of a locked month, keeping the reason."""
    reason = check_correction(
        current.month, user=user, obj=current, team=current.team, reason=reason
    )
    if delete:
        delete_with_history(
            current, user=user, reason=correction_reason(reason, "deleted")
        )
        return None
    before = snapshot(current, names)
    for name, value in fields.items():
        setattr(current, name, value)
    validate(
        current,
        checks=[
            dated_check(
                current, date_field, team=current.team, now=None, open_only=False
            )
        ],
        exclude=SERVICE_SET,
    )
    changes = describe_changes(current, before, long_fields=long)
    if changes:
        save_with_history(
            current, user=user, reason=correction_reason(reason, "; ".join(changes))
        )
    return current


def add_late_row(entry, *, user, reason, month: dt.date, lookup):
    reason = check_correction(
        month, user=user, obj=entry.team, team=entry.team, reason=reason
    )
    return save_once(
        entry, lookup=lookup, user=user, reason=correction_reason(reason, "added late")
    )
