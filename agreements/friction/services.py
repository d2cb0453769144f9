"""Every write to friction reports, their comments and the pain points of the
knowledge base goes through these functions.

A lead, manager or head of a team that is party to a signed agreement files a
report for an open month; it is addressed to a partner team (by default its
customer service team) and to that team's head. While it is new and its month
open, the reporting team may change or delete it. The addressed team's heads
move it through ``new → acknowledged → in progress → resolved | won't fix``,
assign it to one of their members and set a due date; members of both teams
comment; heads curate the pain points reports are grouped into.

Each change that someone else should hear about is one function here
(``friction_report_create``, ``friction_report_change_status``,
``friction_comment_add``, ``friction_report_assign``,
``friction_report_set_due_date``): pages and the API call them, and so may
whatever sends notifications.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.utils import timezone

from .. import events, periods
from ..history import delete_with_history, save_with_history
from ..models import FrictionComment, FrictionReport, Membership, Team
from ..rules import require, signed_partner_ids
from ..services._common import (
    check_correction,
    check_fields,
    correction_reason,
    day_label,
    describe_changes,
    edit_reason,
    existing_by_token,
    month_errors,
    save_once,
    snapshot,
    validate,
)
from .models import COMMENT_MAX_LENGTH

FRICTION_FIELDS = (
    "customer",
    "category",
    "severity",
    "description",
    "business_impact",
    "suggested_action",
    "tags",
    "addressed_team",
    "month",
)
LONG_FIELDS = ("description", "business_impact", "suggested_action")
SERVICE_SET = (
    "reporting_team",
    "addressed_team",
    "addressed_to",
    "created_by",
    "client_token",
)


# --- Addressing -----------------------------------------------------------


def friction_partner_teams(reporting_team: Team):
    """Teams a report can be addressed to: those with a signed agreement with
    the reporting team."""
    return Team.objects.filter(pk__in=signed_partner_ids({reporting_team.pk}))


def friction_default_addressee(reporting_team: Team) -> Team | None:
    """The customer service team the reporting team has an agreement with,
    when there is exactly one (a form preselects it)."""
    service_teams = friction_partner_teams(reporting_team).filter(
        kind=Team.Kind.CUSTOMER_SERVICE
    )
    candidates = list(service_teams[:2])
    return candidates[0] if len(candidates) == 1 else None


def _addressee_errors(report: FrictionReport, requested: Team | None):
    """Resolve the addressed team onto ``report``; return errors keyed
    ``addressed_team`` when that is not possible."""
    team = report.reporting_team
    if requested is None:
        requested = friction_default_addressee(team)
        if requested is None:
            return {
                "addressed_team": [
                    ValidationError(
                        f"Choose the team to address: {team} has no agreement with "
                        "exactly one customer service team.",
                        code="required",
                    )
                ]
            }
    elif not friction_partner_teams(team).filter(pk=requested.pk).exists():
        return {
            "addressed_team": [
                ValidationError(
                    f"{team} has no signed agreement with {requested}: address the "
                    "report to a team you have an agreement with.",
                    code="not_a_partner",
                )
            ]
        }
    report.addressed_team = requested
    # The head who receives it. With no head (yet), the report still reaches
    # the team, and whoever becomes its head can act on it.
    head = (
        Membership.objects.filter(team=requested, role=Membership.Role.HEAD)
        .select_related("user")
        .order_by("joined_on", "pk")
        .first()
    )
    report.addressed_to = head.user if head else None
    return {}


def _month_check(report: FrictionReport, *, open_month: bool):
    def check():
        if not isinstance(report.month, dt.date):
            return {}
        report.month = periods.month_of(report.month)
        if open_month:
            return month_errors(report.month, field="month", team=report.reporting_team)
        if periods.is_future(report.month):
            return month_errors(report.month, field="month", team=None)
        return {}

    return check


# --- Reports --------------------------------------------------------------


@transaction.atomic
def friction_report_create(
    *,
    reporting_team: Team,
    user: User,
    customer: str,
    category: str,
    description: str,
    severity: str = FrictionReport.Severity.MEDIUM,
    business_impact: str = "",
    suggested_action: str = "",
    tags: str | list[str] = "",
    addressed_team: Team | None = None,
    month: dt.date | None = None,
    client_token: uuid.UUID | None = None,
) -> FrictionReport:
    """File a friction report for an open month (the current one by default)."""
    require(
        user,
        "act_for_team",
        reporting_team,
        f"Only a lead, manager or head of {reporting_team} can file its friction "
        "reports.",
    )
    lookup = {"reporting_team": reporting_team, "client_token": client_token}
    existing = existing_by_token(FrictionReport, lookup)
    if existing is not None:
        return existing
    report = FrictionReport(
        reporting_team=reporting_team,
        customer=customer,
        category=category,
        severity=severity,
        description=description,
        business_impact=business_impact,
        suggested_action=suggested_action,
        tags=tags if isinstance(tags, str) else ",".join(tags),
        month=periods.current_month() if month is None else month,
        client_token=client_token,
        created_by=user,
    )
    addressee = _addressee_errors(report, addressed_team)
    validate(
        report,
        checks=[lambda: addressee, _month_check(report, open_month=True)],
        exclude=SERVICE_SET,
    )
    report = save_once(report, lookup=lookup, user=user, reason="filed")
    events.announce(events.FRICTION_FILED, actor=user, report=report)
    return report


def locked_report(report: FrictionReport) -> FrictionReport:
    return (
        FrictionReport.objects.select_for_update()
        .select_related("reporting_team", "addressed_team")
        .get(pk=report.pk)
    )


def _check_still_new(current: FrictionReport) -> None:
    if current.status == FrictionReport.Status.NEW:
        return
    if current.status == FrictionReport.Status.ACKNOWLEDGED:
        state = f"{current.addressed_team} has already acknowledged this report"
    else:
        state = (
            f"This report is {_status_label(current.status)} at "
            f"{current.addressed_team}"
        )
    raise ValidationError(
        f"{state}: it can no longer be changed or deleted.", code="not_new"
    )


def _apply(current: FrictionReport, fields: dict[str, Any], *, open_month: bool):
    """Set fields and validate; returns the changes described for history."""
    before = snapshot(current, FRICTION_FIELDS)
    requested = fields.pop("addressed_team", current.addressed_team)
    for name, value in fields.items():
        if name == "tags" and not isinstance(value, str):
            value = ",".join(value)
        setattr(current, name, value)
    addressee = (
        _addressee_errors(current, requested)
        if requested != before["addressed_team"]
        else {}
    )
    validate(
        current,
        checks=[lambda: addressee, _month_check(current, open_month=open_month)],
        exclude=SERVICE_SET,
    )
    return describe_changes(current, before, long_fields=LONG_FIELDS)


@transaction.atomic
def friction_report_update(
    *, report: FrictionReport, user: User, **fields: Any
) -> FrictionReport:
    """Change a report that is still new, in an open month."""
    check_fields(fields, FRICTION_FIELDS, "friction report")
    current = locked_report(report)
    require(
        user,
        "change_friction_report",
        current,
        f"Only a lead, manager or head of {current.reporting_team} can change it.",
    )
    _check_still_new(current)
    closed = month_errors(
        current.month, field=NON_FIELD_ERRORS, team=current.reporting_team
    )
    if closed:
        raise ValidationError(closed)
    changes = _apply(current, dict(fields), open_month=True)
    if changes:
        save_with_history(current, user=user, reason=edit_reason("edited", changes))
    return current


def _delete_report(current: FrictionReport, *, user, reason: str) -> None:
    for comment in current.comments.all():
        delete_with_history(comment, user=user, reason=reason)
    delete_with_history(current, user=user, reason=reason)


@transaction.atomic
def friction_report_delete(*, report: FrictionReport, user: User) -> None:
    """Withdraw a report that is still new, in an open month."""
    current = locked_report(report)
    require(
        user,
        "change_friction_report",
        current,
        f"Only a lead, manager or head of {current.reporting_team} can delete it.",
    )
    _check_still_new(current)
    closed = month_errors(
        current.month, field=NON_FIELD_ERRORS, team=current.reporting_team
    )
    if closed:
        raise ValidationError(closed)
    _delete_report(current, user=user, reason="deleted")


@transaction.atomic
def friction_report_correct(
    *,
    report: FrictionReport,
    user: User,
    reason: str,
    delete: bool = False,
    **fields: Any,
) -> FrictionReport | None:
    """Correct a report of a locked month, whatever its status: heads of the
    reporting team and administrators, with a reason."""
    check_fields(fields, FRICTION_FIELDS, "friction report")
    current = locked_report(report)
    reason = check_correction(
        current.month,
        user=user,
        obj=current,
        team=current.reporting_team,
        reason=reason,
    )
    if delete:
        _delete_report(current, user=user, reason=correction_reason(reason, "deleted"))
        return None
    changes = _apply(current, dict(fields), open_month=False)
    if changes:
        save_with_history(
            current, user=user, reason=correction_reason(reason, "; ".join(changes))
        )
    return current


def _status_label(status: str) -> str:
    return f"“{FrictionReport.Status(status).label.lower()}”"


@transaction.atomic
def friction_report_change_status(
    *, report: FrictionReport, user: User, status: str, note: str = ""
) -> FrictionReport:
    """Move a report along its workflow; the note (optional, but required for
    won't fix) is kept as a comment the reporting team reads. Posting the
    status it already has writes nothing. A hook point for telling the
    reporting team."""
    current = locked_report(report)
    require(
        user,
        "change_friction_status",
        current,
        f"Only a head of {current.addressed_team} can change this report's status.",
    )
    if status not in FrictionReport.Status.values:
        raise ValidationError(
            {"status": ValidationError("Choose a valid status.", code="invalid")}
        )
    if status == current.status:
        return current
    if not current.can_move_to(status):
        allowed = current.allowed_transitions()
        if not allowed:
            message = (
                f"This report is {_status_label(current.status)}, which is final: "
                "if the problem returns, it is a new report."
            )
        else:
            message = (
                f"A report that is {_status_label(current.status)} can move to "
                f"{' or '.join(_status_label(s) for s in allowed)}, not to "
                f"{_status_label(status)}."
            )
        raise ValidationError({"status": ValidationError(message, code="transition")})
    note = (note or "").strip()
    if status == FrictionReport.Status.WONT_FIX and not note:
        raise ValidationError(
            {
                "note": ValidationError(
                    "Say why it will not be fixed: the reporting team reads this.",
                    code="required",
                )
            }
        )
    old = current.status
    now = timezone.now()
    current.status = status
    if status == FrictionReport.Status.ACKNOWLEDGED:
        current.acknowledged_at = now
    if status in FrictionReport.CLOSED_STATUSES:
        current.closed_at = now
    validate(current, exclude=SERVICE_SET)
    reason = f"status {_status_label(old)} → {_status_label(status)}"
    # The note is checked before anything is saved: a note too long moves
    # nothing.
    comment = _comment(current, user, note, new_status=status, field="note")
    save_with_history(current, user=user, reason=reason + (f": {note}" if note else ""))
    save_with_history(comment, user=user, reason=reason)
    events.announce(
        events.FRICTION_STATUS_CHANGED, actor=user, report=current, note=note
    )
    return current


def _side(user: User, report: FrictionReport) -> Team:
    """The team a person speaks for on a report. Someone in both teams
    answers for the addressed team, whose move it usually is."""
    if Membership.objects.filter(user=user, team_id=report.addressed_team_id).exists():
        return report.addressed_team
    return report.reporting_team


def _comment(
    report: FrictionReport,
    user: User,
    body: str,
    *,
    new_status: str = "",
    field: str = "body",
) -> FrictionComment:
    """A comment checked, not yet saved; or a ValidationError keyed ``field``
    (too long, not text) and nothing written."""
    comment = FrictionComment(
        report=report,
        author=user,
        team=_side(user, report),
        body=body,
        new_status=new_status,
    )
    if len(body) > COMMENT_MAX_LENGTH:
        raise ValidationError(
            {
                field: ValidationError(
                    f"A comment can be at most {COMMENT_MAX_LENGTH} characters; "
                    f"this one has {len(body)}. Shorten it, or say the rest in "
                    "a second comment.",
                    code="max_length",
                )
            }
        )
    try:
        validate(comment, exclude=("report", "author", "team"))
    except ValidationError as exc:
        raise ValidationError({field: exc.messages}) from exc
    return comment


@transaction.atomic
def friction_comment_add(
    *, report: FrictionReport, user: User, body: str
) -> FrictionComment:
    """A member of the reporting or the addressed team comments on a report;
    the other side reads it. The comment records the team its author spoke
    for. A hook point: whatever tells the other side hangs off this call."""
    current = locked_report(report)
    require(
        user,
        "comment_friction_report",
        current,
        f"Only members of {current.reporting_team} and {current.addressed_team} "
        "can comment on this report.",
    )
    body = (body or "").strip()
    if not body:
        raise ValidationError(
            {"body": ValidationError("Write a comment.", code="required")}
        )
    comment = _comment(current, user, body)
    save_with_history(comment, user=user, reason="commented")
    events.announce(events.FRICTION_COMMENTED, actor=user, comment=comment)
    return comment


def _check_open(current: FrictionReport, what: str) -> None:
    if current.is_closed:
        raise ValidationError(
            f"This report is {_status_label(current.status)}: it no longer "
            f"takes {what}.",
            code="closed",
        )


def _person_name(user: User | None) -> str:
    if user is None:
        return "nobody"
    return user.get_full_name() or user.username


def friction_assignees(report: FrictionReport):
    """The people a report can be assigned to: the addressed team's members,
    by name."""
    return (
        User.objects.filter(is_active=True, memberships__team=report.addressed_team_id)
        .distinct()
        .order_by("first_name", "last_name", "username")
    )


@transaction.atomic
def friction_report_assign(
    *, report: FrictionReport, user: User, assignee: User | None
) -> FrictionReport:
    """A head of the addressed team hands the report to one of its members
    (``None``: to nobody). Kept in the report's history; assigning the person
    it already has writes nothing. A hook point for telling the assignee."""
    current = locked_report(report)
    require(
        user,
        "assign_friction_report",
        current,
        f"Only a head of {current.addressed_team} can assign this report.",
    )
    _check_open(current, "an assignee")
    if assignee is not None and assignee.pk == current.assigned_to_id:
        return current
    if assignee is None and current.assigned_to_id is None:
        return current
    if (
        assignee is not None
        and not friction_assignees(current).filter(pk=assignee.pk).exists()
    ):
        raise ValidationError(
            {
                "assignee": ValidationError(
                    f"{_person_name(assignee)} is not a member of "
                    f"{current.addressed_team}: assign it to someone in the team "
                    "that received it.",
                    code="not_a_member",
                )
            }
        )
    previous = current.assigned_to
    current.assigned_to = assignee
    if assignee is None:
        reason = f"removed the assignee ({_person_name(previous)})"
    else:
        reason = f"assigned it to {_person_name(assignee)}"
    validate(current, exclude=SERVICE_SET)
    save_with_history(current, user=user, reason=reason)
    if assignee is not None:
        events.announce(events.FRICTION_ASSIGNED, actor=user, report=current)
    return current


@transaction.atomic
def friction_report_set_due_date(
    *,
    report: FrictionReport,
    user: User,
    due_date: dt.date | None,
    now: dt.datetime | None = None,
) -> FrictionReport:
    """A head of the addressed team says by when it will be resolved
    (``None``: no date). Today or later; kept in the report's history; the
    date it already has writes nothing. Past it and still open, the report
    is overdue to both teams. A hook point for reminders."""
    current = locked_report(report)
    require(
        user,
        "assign_friction_report",
        current,
        f"Only a head of {current.addressed_team} can set this report's due date.",
    )
    _check_open(current, "a due date")
    if due_date == current.due_date:
        return current
    if due_date is not None and due_date < periods.today(now):
        raise ValidationError(
            {
                "due_date": ValidationError(
                    f"{day_label(due_date)} has passed: choose today or a later day.",
                    code="past",
                )
            }
        )
    previous = current.due_date
    current.due_date = due_date
    if due_date is None:
        assert previous is not None  # the date it already has returned above
        reason = f"removed the due date ({day_label(previous)})"
    elif previous is None:
        reason = f"set the due date to {day_label(due_date)}"
    else:
        reason = (
            f"moved the due date from {day_label(previous)} to {day_label(due_date)}"
        )
    validate(current, exclude=SERVICE_SET)
    save_with_history(current, user=user, reason=reason)
    return current
