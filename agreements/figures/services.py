"""Every write to lead logs and closed customers goes through these functions
(measurements: ``measurements.py``, same rules).

While a month is open (it has begun and its grace period has not ended) the
team's leads, managers and heads create, update and delete its figures. After
the month locks only ``*_correct`` changes them: a head of the responsible
team or an administrator, with a reason, kept in history as
``"correction: <reason> (<old → new>)"``.

Failures a person can fix raise ``ValidationError`` keyed by the field at
fault; acting without any right raises ``PermissionDenied``. Creating with a
``client_token`` already used by the team returns the first row and writes
nothing, so a form posted twice logs its figures once.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from ..history import save_with_history
from ..models import ClosedCustomer, LeadLogEntry, Team
from ..rules import require
from ..services._common import check_fields, existing_by_token, save_once, validate
from .rows import (
    SERVICE_SET,
    add_late_row,
    correct_row,
    dated_check,
    delete_row,
    locked_row,
    update_row,
)

LEAD_LOG_FIELDS = ("date", "leads_delivered", "qualified_leads", "source", "note")
CLOSED_CUSTOMER_FIELDS = ("customer", "closed_on", "deal_value", "handover_notes")


# --- Lead log -------------------------------------------------------------


def lead_log_entry_prepare(
    *,
    team: Team,
    user,
    client_token: uuid.UUID | None = None,
    now: dt.datetime | None = None,
    open_month: bool = True,
    validate_constraints: bool = True,
    **fields: Any,
) -> LeadLogEntry:
    """Build and validate a new entry without saving it or checking rights.

    ``open_month=False`` allows a locked month (for corrections); a future
    date is refused either way. The CSV import previews rows with this.
    """
    check_fields(fields, LEAD_LOG_FIELDS, "lead log")
    entry = LeadLogEntry(
        team=team, created_by=user, client_token=client_token, **fields
    )
    validate(
        entry,
        checks=[dated_check(entry, "date", team=team, now=now, open_only=open_month)],
        exclude=SERVICE_SET,
        validate_constraints=validate_constraints,
    )
    return entry


@transaction.atomic
def lead_log_entry_create(
    *,
    team: Team,
    user,
    date: dt.date,
    leads_delivered: int,
    qualified_leads: int = 0,
    source: str = "",
    note: str = "",
    client_token: uuid.UUID | None = None,
) -> LeadLogEntry:
    """Log leads the team delivered, dated inside an open month."""
    require(
        user,
        "submit_figures",
        team,
        f"Only a lead, manager or head of {team} can log its leads.",
    )
    lookup = {"team": team, "client_token": client_token}
    existing = existing_by_token(LeadLogEntry, lookup)
    if existing is not None:
        return existing
    entry = lead_log_entry_prepare(
        team=team,
        user=user,
        client_token=client_token,
        date=date,
        leads_delivered=leads_delivered,
        qualified_leads=qualified_leads,
        source=source,
        note=note,
    )
    return save_once(entry, lookup=lookup, user=user, reason="logged")


@transaction.atomic
def lead_log_entry_update(*, entry: LeadLogEntry, user, **fields: Any) -> LeadLogEntry:
    """Change an entry of an open month (its date may move to another open one)."""
    check_fields(fields, LEAD_LOG_FIELDS, "lead log")
    current = locked_row(LeadLogEntry, entry.pk)
    require(
        user,
        "submit_figures",
        current,
        f"Only a lead, manager or head of {current.team} can change its lead log.",
    )
    return update_row(
        current,
        user=user,
        fields=fields,
        names=LEAD_LOG_FIELDS,
        date_field="date",
        long_fields=("note",),
    )


@transaction.atomic
def lead_log_entry_delete(*, entry: LeadLogEntry, user) -> None:
    current = locked_row(LeadLogEntry, entry.pk)
    delete_row(
        current,
        user=user,
        message=f"Only a lead, manager or head of {current.team} can delete it.",
    )


@transaction.atomic
def lead_log_entry_correct(
    *,
    user,
    reason: str,
    entry: LeadLogEntry | None = None,
    team: Team | None = None,
    delete: bool = False,
    **fields: Any,
) -> LeadLogEntry | None:
    """Correct a locked month: change ``entry``'s fields, ``delete=True`` to
    remove it, or, with ``team`` instead of ``entry``, add a missing entry.

    Only a head of the team or an administrator may, and only with a reason.
    Returns the entry (``None`` after a deletion).
    """
    check_fields(fields, LEAD_LOG_FIELDS, "lead log")
    if entry is not None:
        current = locked_row(LeadLogEntry, entry.pk)
        return correct_row(
            current,
            user=user,
            reason=reason,
            delete=delete,
            fields=fields,
            names=LEAD_LOG_FIELDS,
            date_field="date",
            long=("note",),
        )
    if team is None:
        raise TypeError("lead_log_entry_correct needs an entry or a team")
    require(
        user,
        "correct_submission",
        team,
        f"Only a head of {team} or an administrator can correct a locked month.",
    )
    new = lead_log_entry_prepare(team=team, user=user, open_month=False, **fields)
    return add_late_row(new, user=user, reason=reason, month=new.month, lookup={})


# --- Closed customers -----------------------------------------------------


def closed_customer_prepare(
    *,
    team: Team,
    user,
    client_token: uuid.UUID | None = None,
    now: dt.datetime | None = None,
    open_month: bool = True,
    validate_constraints: bool = True,
    **fields: Any,
) -> ClosedCustomer:
    """Build and validate a new closed customer without saving it or checking
    rights (see ``lead_log_entry_prepare``)."""
    check_fields(fields, CLOSED_CUSTOMER_FIELDS, "closed customer")
    customer = ClosedCustomer(
        team=team, created_by=user, client_token=client_token, **fields
    )
    validate(
        customer,
        checks=[
            dated_check(customer, "closed_on", team=team, now=now, open_only=open_month)
        ],
        exclude=SERVICE_SET,
        validate_constraints=validate_constraints,
    )
    return customer


@transaction.atomic
def closed_customer_create(
    *,
    team: Team,
    user,
    customer: str,
    closed_on: dt.date,
    deal_value: Decimal | int | str = Decimal("0"),
    handover_notes: str = "",
    client_token: uuid.UUID | None = None,
) -> ClosedCustomer:
    """Record a customer the team closed, with notes for the team taking over."""
    require(
        user,
        "submit_figures",
        team,
        f"Only a lead, manager or head of {team} can record its closed customers.",
    )
    lookup = {"team": team, "client_token": client_token}
    existing = existing_by_token(ClosedCustomer, lookup)
    if existing is not None:
        return existing
    record = closed_customer_prepare(
        team=team,
        user=user,
        client_token=client_token,
        customer=customer,
        closed_on=closed_on,
        deal_value=deal_value,
        handover_notes=handover_notes,
    )
    return save_once(record, lookup=lookup, user=user, reason="recorded")


@transaction.atomic
def closed_customer_update(
    *, closed_customer: ClosedCustomer, user, **fields: Any
) -> ClosedCustomer:
    check_fields(fields, CLOSED_CUSTOMER_FIELDS, "closed customer")
    current = locked_row(ClosedCustomer, closed_customer.pk)
    require(
        user,
        "submit_figures",
        current,
        f"Only a lead, manager or head of {current.team} can change it.",
    )
    return update_row(
        current,
        user=user,
        fields=fields,
        names=CLOSED_CUSTOMER_FIELDS,
        date_field="closed_on",
        long_fields=("handover_notes",),
    )


@transaction.atomic
def closed_customer_delete(*, closed_customer: ClosedCustomer, user) -> None:
    current = locked_row(ClosedCustomer, closed_customer.pk)
    delete_row(
        current,
        user=user,
        message=f"Only a lead, manager or head of {current.team} can delete it.",
    )


@transaction.atomic
def closed_customer_correct(
    *,
    user,
    reason: str,
    closed_customer: ClosedCustomer | None = None,
    team: Team | None = None,
    delete: bool = False,
    **fields: Any,
) -> ClosedCustomer | None:
    """Correct a locked month (see ``lead_log_entry_correct``)."""
    check_fields(fields, CLOSED_CUSTOMER_FIELDS, "closed customer")
    if closed_customer is not None:
        current = locked_row(ClosedCustomer, closed_customer.pk)
        return correct_row(
            current,
            user=user,
            reason=reason,
            delete=delete,
            fields=fields,
            names=CLOSED_CUSTOMER_FIELDS,
            date_field="closed_on",
            long=("handover_notes",),
        )
    if team is None:
        raise TypeError("closed_customer_correct needs a closed customer or a team")
    require(
        user,
        "correct_submission",
        team,
        f"Only a head of {team} or an administrator can correct a locked month.",
    )
    new = closed_customer_prepare(team=team, user=user, open_month=False, **fields)
    return add_late_row(new, user=user, reason=reason, month=new.month, lookup={})


@transaction.atomic
def closed_customer_acknowledge(
    *, closed_customer: ClosedCustomer, user
) -> ClosedCustomer:
    """The team taking over the customer confirms it received the handover.

    Allowed whatever the month's state: it changes no figure. Acknowledging
    twice keeps the first acknowledgement and writes nothing.
    """
    current = locked_row(ClosedCustomer, closed_customer.pk)
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
