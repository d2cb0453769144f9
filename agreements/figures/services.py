"""Every write to a team's figures (each kind in ``kinds.KINDS``: lead log
entries, closed customers) goes through these functions; measurements have
their own (``measurements.py``, same rules).

While a month is open (it has begun and its grace period has not ended) the
team's leads, managers and heads create, update and delete its figures. After
the month locks only ``figure_correct`` changes them: a head of the
responsible team or an administrator, with a reason, kept in history as
``"correction: <reason> (<old → new>)"``.

Failures a person can fix raise ``ValidationError`` keyed by the field at
fault; acting without any right raises ``PermissionDenied``. Creating with a
``client_token`` already used by the team returns the first row and writes
nothing, so a form posted twice logs its figures once.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from ..history import delete_with_history, save_with_history
from ..models import ClosedCustomer, Team
from ..rules import require
from ..services._common import (
    check_correction,
    check_fields,
    closed_month_error,
    correction_reason,
    day_errors,
    describe_changes,
    edit_reason,
    existing_by_token,
    future_errors,
    locked_row,
    save_once,
    snapshot,
    validate,
)
from .kinds import FigureKind, kind_of
from .models import TeamFigure

# Set by the service from trusted objects: validating them again would cost a
# query per foreign key, which a 5,000-row import feels.
SERVICE_SET = ("team", "created_by", "month", "client_token")


def _validate(
    row: TeamFigure,
    *,
    team: Team,
    now: dt.datetime | None,
    open_only: bool,
    validate_constraints: bool = True,
) -> None:
    """The model's checks, and its date: in an open month (``open_only``) or
    at least not in the future."""

    def dated() -> dict[str, Any]:
        value = getattr(row, row.date_field)
        if not isinstance(value, dt.date):
            return {}
        if open_only:
            return day_errors(value, field=row.date_field, team=team, now=now)
        return future_errors(value, field=row.date_field, now=now)

    validate(
        row,
        checks=[dated],
        exclude=SERVICE_SET,
        validate_constraints=validate_constraints,
    )


def _locked(row: Any) -> Any:
    return locked_row(type(row), row.pk)


def _open_row(row: Any, *, user: User, verb: str) -> Any:
    """The row, locked, if the user may change it and its month is open."""
    current = _locked(row)
    require(
        user,
        "submit_figures",
        current,
        f"Only a lead, manager or head of {current.team} can {verb}.",
    )
    error = closed_month_error(current.month, team=current.team)
    if error is not None:
        raise error
    return current


def _apply(
    row: Any, kind: FigureKind, fields: dict[str, Any], *, open_only: bool
) -> list[str]:
    """Set ``fields`` on ``row``, check it, and say what changed."""
    before = snapshot(row, kind.fields)
    for name, value in fields.items():
        setattr(row, name, value)
    _validate(row, team=row.team, now=None, open_only=open_only)
    return describe_changes(row, before, long_fields=kind.long_fields)


def figure_prepare(
    kind: FigureKind,
    *,
    team: Team,
    user: User,
    client_token: uuid.UUID | None = None,
    now: dt.datetime | None = None,
    open_month: bool = True,
    validate_constraints: bool = True,
    **fields: Any,
) -> TeamFigure:
    """Build and validate a new row without saving it or checking rights.

    ``open_month=False`` allows a locked month (for corrections); a future
    date is refused either way. The CSV import previews rows with this.
    """
    check_fields(fields, kind.fields, kind.singular)
    # The kind's own model: the team is declared there, with its related name.
    model: Any = kind.model
    row = model(team=team, created_by=user, client_token=client_token, **fields)
    _validate(
        row,
        team=team,
        now=now,
        open_only=open_month,
        validate_constraints=validate_constraints,
    )
    return row


@transaction.atomic
def figure_create(
    kind: FigureKind,
    *,
    team: Team,
    user: User,
    client_token: uuid.UUID | None = None,
    **fields: Any,
) -> TeamFigure:
    """Log a row of the team's figures, dated inside an open month."""
    require(
        user,
        "submit_figures",
        team,
        f"Only a lead, manager or head of {team} can {kind.verb}.",
    )
    lookup = {"team": team, "client_token": client_token}
    existing = existing_by_token(kind.model, lookup)
    if existing is not None:
        return existing
    row = figure_prepare(
        kind, team=team, user=user, client_token=client_token, **fields
    )
    return save_once(row, lookup=lookup, user=user, reason=kind.logged_reason)


@transaction.atomic
def figure_update(*, row: TeamFigure, user: User, **fields: Any) -> TeamFigure:
    """Change a row of an open month (its date may move to another open one);
    write nothing when nothing changed."""
    kind = kind_of(row)
    check_fields(fields, kind.fields, kind.singular)
    current = _open_row(row, user=user, verb=f"change its {kind.plural}")
    changes = _apply(current, kind, fields, open_only=True)
    if changes:
        save_with_history(current, user=user, reason=edit_reason("edited", changes))
    return current


@transaction.atomic
def figure_delete(*, row: TeamFigure, user: User) -> None:
    current = _open_row(row, user=user, verb="delete it")
    delete_with_history(current, user=user, reason="deleted")


@transaction.atomic
def figure_correct(
    kind: FigureKind,
    *,
    user: User,
    reason: str,
    row: TeamFigure | None = None,
    team: Team | None = None,
    delete: bool = False,
    **fields: Any,
) -> TeamFigure | None:
    """Correct a locked month: change ``row``'s fields, ``delete=True`` to
    remove it, or, with ``team`` instead of ``row``, add a missing row.

    Only a head of the team or an administrator may, and only with a reason.
    Returns the row (``None`` after a deletion).
    """
    check_fields(fields, kind.fields, kind.singular)
    if row is not None:
        current = _locked(row)
        reason = check_correction(
            current.month, user=user, obj=current, team=current.team, reason=reason
        )
        if delete:
            delete_with_history(
                current, user=user, reason=correction_reason(reason, "deleted")
            )
            return None
        changes = _apply(current, kind, fields, open_only=False)
        if changes:
            save_with_history(
                current, user=user, reason=correction_reason(reason, "; ".join(changes))
            )
        return current
    if team is None:
        raise TypeError("figure_correct needs a row or a team")
    require(
        user,
        "correct_submission",
        team,
        f"Only a head of {team} or an administrator can correct a locked month.",
    )
    new = figure_prepare(kind, team=team, user=user, open_month=False, **fields)
    reason = check_correction(new.month, user=user, obj=team, team=team, reason=reason)
    return save_once(
        new, lookup={}, user=user, reason=correction_reason(reason, "added late")
    )


@transaction.atomic
def closed_customer_acknowledge(
    *, closed_customer: ClosedCustomer, user: User
) -> ClosedCustomer:
    """The team taking over the customer confirms it received the handover.

    Allowed whatever the month's state: it changes no figure. Acknowledging
    twice keeps the first acknowledgement and writes nothing.
    """
    current = _locked(closed_customer)
    require(
        user,
        "acknowledge_closed_customer",
        current,
        "Only a lead, manager or head of a team that receives customers from "
        f"{current.team} can acknowledge the handover.",
    )
    if current.is_acknowledged:
        return current
    current.acknowledged_by = user
    current.acknowledged_at = timezone.now()
    save_with_history(current, user=user, reason="handover acknowledged")
    return current
