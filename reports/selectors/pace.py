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

from django.db.models import Q, QuerySet

from agreements import periods
from agreements.calendars import time as business
from agreements.calendars.models import OFFICE_HOURS_NAME, WorkingCalendar


def pace_candidates(team_ids: Iterable[int]) -> QuerySet[WorkingCalendar]:
    """The calendars pace may choose from for these teams, by name: their
    own working-hours calendars and the organisation's office hours."""
    return WorkingCalendar.objects.filter(kind=WorkingCalendar.Kind.HOURS).filter(
        Q(team_id__in=set(team_ids)) | Q(team=None, name=OFFICE_HOURS_NAME)
    )


def pace_choice(
    candidates: Iterable[WorkingCalendar], team_ids: Iterable[int]
) -> dict[int, WorkingCalendar | None]:
    """Each team's calendar for pace among ``pace_candidates`` (in their
    order, by name: a team's first calendar wins), ``None`` where none is."""
    default = None
    own: dict[int, WorkingCalendar] = {}
    for calendar in candidates:
        if calendar.team_id is None:
            default = calendar
        elif calendar.team_id not in own:
            own[calendar.team_id] = calendar
    return {team: own.get(team, default) for team in team_ids}


def pace_calendars(
    team_ids: Iterable[int],
) -> dict[int, business.CalendarSnapshot | None]:
    """Each team's calendar for pace, ``None`` where there is none (three
    queries: the calendars, their hours, their holidays)."""
    wanted = set(team_ids)
    if not wanted:
        return {}
    candidates = pace_candidates(wanted).prefetch_related("intervals", "holidays")
    chosen = pace_choice(candidates, wanted)
    # One snapshot a calendar: Pace caches its fractions by snapshot.
    distinct = {c.pk: c for c in chosen.values() if c is not None}
    snapshots = {pk: calendar.snapshot() for pk, calendar in distinct.items()}
    return {
        team: None if calendar is None else snapshots[calendar.pk]
        for team, calendar in chosen.items()
    }


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
