"""Helpers for the figures service tests: today on the frozen clock, logging
leads through the service, and a count of what the services write."""

from __future__ import annotations

import datetime as dt

from agreements.figures.kinds import LEADS
from agreements.figures.services import figure_create
from agreements.models import ClosedCustomer, LeadLogEntry

TODAY = dt.date(2026, 3, 15)


def _written():
    """Every row and history row of the submission tables."""
    return (
        LeadLogEntry.objects.count(),
        LeadLogEntry.history.count(),
        ClosedCustomer.objects.count(),
        ClosedCustomer.history.count(),
    )


def _log(team, user, **overrides):
    fields = {"date": TODAY, "leads_delivered": 40, "qualified_leads": 12}
    fields.update(overrides)
    return figure_create(LEADS, team=team, user=user, **fields)
