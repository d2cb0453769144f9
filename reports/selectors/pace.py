"""Pace: how much of a running month has gone, counted in the provider's
working days. A count objective's expected progress, and whether it is too
early to tell, follow the days the providing team works: its own
working-hours calendar (the first by name) when it has one, otherwise the
organisation's "Mon–Fri 09:00–17:00" calendar with its holidays, otherwise
Monday to Friday.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.db.models import Q

from agreements import periods
from agreements.calendars import time as business
from agreements.calendars.models import OFFICE_HOURS_NAME, WorkingCalendar


def pace_calendars(
    team_ids: Iterable[int],
) -> dict[int, business.CalendarSnapshot | None]:
    """Each team's calendar for pace, ``None`` where there is none (three
    queries: the calendars, their hours, their holidays)."""
    wanted = set(team_ids)
    if not wanted:
        return {}
    default = None
    own: dict[int, business.CalendarSnapshot] = {}
    calendars = (
        WorkingCalendar.objects.filter(kind=WorkingCalendar.Kind.HOURS)
        .filter(Q(team_id__in=wanted) | Q(team=None, name=OFFICE_HOURS_NAME))
        .prefetch_related("intervals", "holidays")
    )
    for calendar in calendars:  # by name: a team's first calendar wins
        if calendar.team_id is None:
            default = calendar.snapshot()
        elif calendar.team_id not in own:
            own[calendar.team_id] = calendar.snapshot()
    return {team: own.get(team, default) for team in wanted}


class Pace:
    """The share of a month gone, per calendar, worked out once each."""

    def __init__(self, now: datetime.datetime) -> None:
        self.now = now
        self._fractions: dict[tuple[datetime.date, int], float] = {}

    def fraction(
        self, month: datetime.date, calendar: business.CalendarSnapshot | None
    ) -> float:
        key = (month, id(calendar))
        if key not in self._fractions:
            days = None if calendar is None else business.business_days(calendar, month)
            self._fractions[key] = periods.business_fraction(month, self.now, days=days)
        return self._fractions[key]
