"""The calendar pages' reads that are more than a filter: the person's
calendars with their counts, the teams each calendar paces, a calendar's
holidays in the order they come, its uses and its latest changes."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from django.db import models
from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from reports.selectors.pace import pace_candidates, pace_choice

from ..models import Agreement, Team
from ..models.common import member_team_ids
from ..records.models import RecordMeasure
from ..rules import can
from .models import Holiday, WorkingCalendar, WorkingInterval
from .summary import next_occurrence
from .time import WEEKDAY_NAMES, format_hours

SHOWN_CHANGES = 10


def _count_of(model: type[models.Model]) -> Coalesce:
    """How many rows of ``model`` point at the calendar, as a subquery."""
    rows = (
        model._default_manager.filter(calendar=OuterRef("pk"))
        .order_by()
        .values("calendar")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(rows), 0)


def listed_calendars(user) -> QuerySet[WorkingCalendar]:
    """The organisation-wide calendars and those of the person's teams;
    every calendar for an executive. (A partner team's calendar opens from
    the agreements it measures: ``view_calendar``.)"""
    calendars = WorkingCalendar.objects.select_related("team").order_by(
        F("team__name").asc(nulls_first=True), "name", "pk"
    )
    if not can(user, "view_organisation"):
        calendars = calendars.filter(Q(team=None) | Q(team__in=member_team_ids(user)))
    return calendars.annotate(
        holiday_count=_count_of(Holiday), objective_count=_count_of(RecordMeasure)
    )


def pace_teams() -> dict[int, list[Team]]:
    """The teams each calendar paces, by calendar id (two queries)."""
    teams = {team.pk: team for team in Team.objects.order_by("name")}
    chosen = pace_choice(pace_candidates(teams), teams)
    paced: dict[int, list[Team]] = defaultdict(list)
    for team_id, calendar in chosen.items():
        if calendar is not None:
            paced[calendar.pk].append(teams[team_id])
    return paced


def calendar_holidays(calendar: WorkingCalendar, today: date) -> dict[str, list[Any]]:
    """Upcoming holidays by when they next fall (a yearly one: its next
    occurrence), then past ones, latest first."""
    upcoming: list[dict[str, Any]] = []
    past: list[Holiday] = []
    for holiday in calendar.holidays.all():
        days = next_occurrence(holiday.start, holiday.end, holiday.yearly, today)
        if days is None:
            past.append(holiday)
        else:
            upcoming.append({"holiday": holiday, "start": days[0], "end": days[1]})
    upcoming.sort(key=lambda row: (row["start"], row["holiday"].pk))
    past.sort(key=lambda holiday: (holiday.start, holiday.pk), reverse=True)
    return {"upcoming": upcoming, "past": past}


def calendar_uses(user, calendar: WorkingCalendar) -> dict[str, Any]:
    """The objectives measured with the calendar in agreements the person
    may open, and how many others there are."""
    measures = RecordMeasure.objects.filter(calendar=calendar)
    shown = list(
        measures.filter(objective__agreement__in=Agreement.objects.visible_to(user))
        .select_related(
            "objective__agreement__provider", "objective__agreement__consumer"
        )
        .order_by("objective__agreement__title", "objective__name", "pk")
    )
    return {"shown": shown, "others": measures.count() - len(shown)}


def calendar_changes(calendar: WorkingCalendar) -> list[dict[str, Any]]:
    """The latest changes to the calendar, its hours and holidays: what,
    who and when, newest first (the reasons are in the admin's history)."""
    rows: list[tuple[Any, str]] = []
    for model, about in (
        (WorkingCalendar, lambda row: f"Calendar “{row.name}”"),
        (
            WorkingInterval,
            lambda row: (
                f"{WEEKDAY_NAMES[row.weekday]} {format_hours(row.start, row.end)}"
            ),
        ),
        (
            Holiday,
            lambda row: f"Holiday “{row.name}” ({row.start.day} {row.start:%b %Y})",
        ),
    ):
        key = "id" if model is WorkingCalendar else "calendar_id"
        history = (
            model.history.filter(**{key: calendar.pk})
            .select_related("history_user")
            .order_by("-history_date", "-history_id")[:SHOWN_CHANGES]
        )
        rows.extend((row, about(row)) for row in history)
    rows.sort(key=lambda pair: pair[0].history_date, reverse=True)
    return [
        {
            "what": what,
            "kind": {"+": "added", "~": "changed", "-": "removed"}[row.history_type],
            "who": row.history_user,
            "when": row.history_date,
        }
        for row, what in rows[:SHOWN_CHANGES]
    ]
