"""Every write to measurements (the monthly value of a manual objective) goes
through these functions, under the same rules as the other submissions (see
``submissions.py``): open months for the provider's leads, corrections after
the lock for its heads and administrators, one measurement per objective and
month.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from .. import periods
from ..history import delete_with_history, save_with_history
from ..models import Measurement, Objective
from ..rules import require
from ..services._common import (
    check_correction,
    check_fields,
    closed_month_error,
    correction_reason,
    describe_changes,
    edit_reason,
    locked_row,
    month_errors,
    snapshot,
    validate,
)

MEASUREMENT_FIELDS = ("value", "note")


def _duplicate_error(existing: Measurement) -> ValidationError:
    return ValidationError(
        {
            "month": ValidationError(
                "“%(objective)s” already has a measurement for %(month)s "
                "(%(value)s). Edit that one instead of adding a second.",
                code="duplicate",
                params={
                    "pk": existing.pk,
                    "objective": existing.objective.name,
                    "month": periods.month_label(existing.month),
                    "value": f"{existing.value.normalize():f}",
                },
            )
        }
    )


def _measurement_checks(measurement: Measurement, *, now, open_month: bool):
    def in_force():
        objective = measurement.objective
        month = measurement.month
        agreement = objective.agreement
        if not agreement.is_signed:
            return {
                "objective": [
                    ValidationError(
                        f"“{objective.name}” belongs to an agreement that is "
                        f"{agreement.get_status_display().lower()}: figures are "
                        "logged once both teams have signed it.",
                        code="not_in_force",
                    )
                ]
            }
        if isinstance(month, dt.date) and not agreement.is_in_force(month):
            return {
                "month": [
                    ValidationError(
                        f"“{agreement.title}” is not in force in "
                        f"{periods.month_label(month)}: there is nothing to "
                        "measure for that month.",
                        code="not_in_force",
                    )
                ]
            }
        return {}

    def period():
        if not isinstance(measurement.month, dt.date):
            return {}
        team = measurement.objective.agreement.provider
        if open_month:
            return month_errors(measurement.month, field="month", team=team, now=now)
        if periods.is_future(measurement.month, now):
            return month_errors(measurement.month, field="month", team=None, now=now)
        return {}

    def duplicate():
        if not isinstance(measurement.month, dt.date):
            return {}
        existing = (
            Measurement.objects.filter(
                objective=measurement.objective_id, month=measurement.month
            )
            .exclude(pk=measurement.pk)
            .select_related("objective")
            .first()
        )
        return _duplicate_error(existing).error_dict if existing else {}

    return [in_force, period, duplicate]


def _measurement_validate(measurement: Measurement, *, now=None, open_month=True):
    if isinstance(measurement.month, dt.date):
        measurement.month = periods.month_of(measurement.month)
    validate(
        measurement,
        checks=_measurement_checks(measurement, now=now, open_month=open_month),
        # The duplicate check above explains itself better than the unique
        # constraint's message; the constraint still guards the database.
        exclude=("objective", "created_by"),
        validate_constraints=False,
    )


def _save_measurement(measurement: Measurement, *, user, reason: str) -> Measurement:
    try:
        with transaction.atomic():
            save_with_history(measurement, user=user, reason=reason)
    except IntegrityError:
        # Someone saved the same objective and month a moment earlier.
        existing = (
            Measurement.objects.filter(
                objective=measurement.objective_id, month=measurement.month
            )
            .select_related("objective")
            .first()
        )
        if existing is None:
            raise
        raise _duplicate_error(existing) from None
    return measurement


def _require_manual_objective_right(user, objective: Objective, verb: str) -> None:
    provider = objective.agreement.provider
    require(
        user,
        "submit_figures",
        objective,
        f"Only a lead, manager or head of {provider} can {verb} its measurements.",
    )


@transaction.atomic
def measurement_create(
    *,
    objective: Objective,
    user: User,
    month: dt.date,
    value: Decimal | int | str,
    note: str = "",
) -> Measurement:
    """Enter the month's value of a manual objective, once per month."""
    _require_manual_objective_right(user, objective, "enter")
    measurement = Measurement(
        objective=objective, month=month, value=value, note=note, created_by=user
    )
    _measurement_validate(measurement)
    return _save_measurement(measurement, user=user, reason="measured")


@transaction.atomic
def measurement_update(
    *, measurement: Measurement, user: User, **fields: Any
) -> Measurement:
    """Change the value or note of an open month's measurement."""
    check_fields(fields, MEASUREMENT_FIELDS, "measurement")
    current = locked_row(Measurement, measurement.pk)
    _require_manual_objective_right(user, current.objective, "change")
    error = closed_month_error(current.month, team=current.objective.agreement.provider)
    if error is not None:
        raise error
    before = snapshot(current, MEASUREMENT_FIELDS)
    for name, value in fields.items():
        setattr(current, name, value)
    _measurement_validate(current)
    changes = describe_changes(current, before, long_fields=("note",))
    if changes:
        save_with_history(current, user=user, reason=edit_reason("edited", changes))
    return current


@transaction.atomic
def measurement_delete(*, measurement: Measurement, user: User) -> None:
    current = locked_row(Measurement, measurement.pk)
    _require_manual_objective_right(user, current.objective, "delete")
    error = closed_month_error(current.month, team=current.objective.agreement.provider)
    if error is not None:
        raise error
    delete_with_history(current, user=user, reason="deleted")


@transaction.atomic
def measurement_correct(
    *,
    user: User,
    reason: str,
    measurement: Measurement | None = None,
    objective: Objective | None = None,
    month: dt.date | None = None,
    delete: bool = False,
    **fields: Any,
) -> Measurement | None:
    """Correct a locked month: change or ``delete`` a ``measurement``, or add
    the missing one for ``objective`` and ``month``. Heads of the provider
    team and administrators only, with a reason."""
    check_fields(fields, MEASUREMENT_FIELDS, "measurement")
    if measurement is not None:
        current = locked_row(Measurement, measurement.pk)
        team = current.objective.agreement.provider
        reason = check_correction(
            current.month, user=user, obj=current, team=team, reason=reason
        )
        if delete:
            delete_with_history(
                current, user=user, reason=correction_reason(reason, "deleted")
            )
            return None
        before = snapshot(current, MEASUREMENT_FIELDS)
        for name, value in fields.items():
            setattr(current, name, value)
        _measurement_validate(current, open_month=False)
        changes = describe_changes(current, before, long_fields=("note",))
        if changes:
            save_with_history(
                current,
                user=user,
                reason=correction_reason(reason, "; ".join(changes)),
            )
        return current
    if objective is None or month is None:
        raise TypeError(
            "measurement_correct needs a measurement, or an objective and month"
        )
    team = objective.agreement.provider
    require(
        user,
        "correct_submission",
        objective,
        f"Only a head of {team} or an administrator can correct a locked month.",
    )
    new = Measurement(objective=objective, month=month, created_by=user, **fields)
    _measurement_validate(new, open_month=False)
    reason = check_correction(
        new.month, user=user, obj=objective, team=team, reason=reason
    )
    return _save_measurement(
        new, user=user, reason=correction_reason(reason, "added late")
    )
