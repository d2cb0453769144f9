"""Where a person goes to add an objective's figures for a month: the form for
its kind of figure, filled in for that month. Every "log", "enter the value"
and "no data — add it" link on the pages and in emails comes from here."""

from __future__ import annotations

from datetime import date, timedelta
from urllib.parse import urlencode

from django.urls import reverse

from .. import periods
from ..models import Objective
from ..rules import can

S = Objective.Source
S_RECORDS = Objective.RECORD_SOURCES
LEADS = (S.LEADS_DELIVERED, S.QUALIFIED_LEADS)


def _entry_day(month: date) -> date:
    """Today if it falls in ``month``, else the month's last day."""
    return min(periods.today(), periods.month_end(month).date() - timedelta(days=1))


def entry_url(objective: Objective, month: date) -> str:
    """The form that adds to ``objective``'s figures for an open ``month``."""
    team = objective.agreement.provider
    if objective.metric_source in LEADS or objective.metric_source == (
        S.CUSTOMERS_CLOSED
    ):
        kind = "leads" if objective.metric_source in LEADS else "customers"
        url = reverse(f"figures:{kind}_new", args=[team.slug])
        return f"{url}?{urlencode({'date': _entry_day(month).isoformat()})}"
    if objective.metric_source == S.FRICTION_REPORTS:
        query = {
            "team": team.pk,
            "addressed": objective.agreement.consumer_id,
            "month": periods.format_month(month),
        }
        return f"{reverse('friction:create')}?{urlencode(query)}"
    url = reverse("figures:measurements_new", args=[team.slug])
    query = {"objective": objective.pk, "month": periods.format_month(month)}
    return f"{url}?{urlencode(query)}"


def late_entry_url(objective: Objective, month: date) -> str:
    """The correction form that adds a figure to a locked ``month`` (a head
    or an administrator, with a reason). Friction reports have none: a
    report is filed in an open month."""
    team = objective.agreement.provider
    last_day = (periods.month_end(month) - timedelta(days=1)).date()
    query = {"date": last_day.isoformat()}
    if objective.metric_source in LEADS:
        name = "figures:leads_late"
    elif objective.metric_source == S.CUSTOMERS_CLOSED:
        name = "figures:customers_late"
    elif objective.metric_source == S.MANUAL:
        name = "figures:measurements_late"
        query = {"objective": str(objective.pk), "month": periods.format_month(month)}
    else:
        return ""
    return f"{reverse(name, args=[team.slug])}?{urlencode(query)}"


def fix_url(user, objective: Objective, month: date) -> str:
    """The form ``user`` can use to add ``objective``'s missing figures for
    ``month``: the entry form while the month is open (for the provider's
    leads), the correction form once it is locked (for its heads); empty
    when the person may not, or the month has not begun."""
    if periods.is_future(month) or objective.metric_source in S_RECORDS:
        return ""  # measured from records: nothing to type in
    team = objective.agreement.provider
    if periods.is_open(month):
        if objective.metric_source == S.FRICTION_REPORTS:
            allowed = can(user, "file_friction_report", team)
        else:
            allowed = can(user, "submit_figures", objective)
        return entry_url(objective, month) if allowed else ""
    if can(user, "correct_submission", team):
        return late_entry_url(objective, month)
    return ""
