"""Working calendars for people, under /calendars/: the list of a person's
calendars, one calendar's week, holidays and uses, and, for a head of its
team (an administrator for an organisation-wide one), the forms that change
it. Every write goes through a service in ``services``; a refused input is
shown on its form, on the calendar's page, and writes nothing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from ..models import Team
from ..rules import calendar_team_ids, can
from ..views.common import add_service_errors, require
from . import services
from .forms import CalendarForm, HolidayForm, IcsForm, IntervalForm, SeedForm
from .models import WorkingCalendar, WorkingInterval
from .selectors import (
    calendar_changes,
    calendar_holidays,
    calendar_uses,
    listed_calendars,
    pace_teams,
)
from .summary import (
    day_length,
    format_duration,
    week_of,
    week_summary,
)
from .time import WEEKDAY_NAMES


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


@dataclass(frozen=True)
class Change:
    """One of the forms on a calendar's page: the service its data goes to
    (as keyword arguments, with the calendar and the user), what to tell the
    person from what the service returns, and where on the page to return."""

    form: type[Form]
    service: Callable[..., Any]
    done: Callable[[Any, dict[str, Any]], str]
    anchor: str


# By the prefix the form's fields carry.
CHANGES: dict[str, Change] = {
    "hours": Change(
        IntervalForm,
        services.calendar_interval_add,
        lambda interval, data: f"Working hours added: {interval}.",
        "hours",
    ),
    "holiday": Change(
        HolidayForm,
        services.calendar_holiday_add,
        lambda holiday, data: f"Holiday added: {holiday}.",
        "holidays",
    ),
    "seed": Change(
        SeedForm,
        services.calendar_holidays_seed,
        lambda added, data: f"{_plural(len(added), 'public holiday')} added.",
        "holidays",
    ),
    "ics": Change(
        IcsForm,
        services.calendar_holidays_import_ics,
        lambda added, data: (
            f"{_plural(len(added), 'holiday')} imported from {data['file'].name}."
        ),
        "holidays",
    ),
}


def _week(calendar: WorkingCalendar) -> str:
    if calendar.is_always:
        return "Every hour of every day"
    days = week_of((i.weekday, i.start, i.end) for i in calendar.intervals.all())
    if not any(days):
        return "No working hours yet"
    total = format_duration(sum(map(day_length, days), start=timedelta()))
    return f"{week_summary(days)} ({total} a week)"


@require_GET
@login_required
def calendar_list(request: HttpRequest) -> HttpResponse:
    calendars = listed_calendars(request.user).prefetch_related("intervals")
    paced = pace_teams()
    rows = [
        {
            "calendar": calendar,
            "week": _week(calendar),
            "pace_for": paced.get(calendar.pk, []),
        }
        for calendar in calendars
    ]
    return render(
        request,
        "calendars/list.html",
        {"rows": rows, "may_add": _may_add(request.user)},
    )


# --- One calendar ---------------------------------------------------------------


def _visible(request: HttpRequest, pk: int) -> WorkingCalendar:
    """A calendar the person may see; 404 for any other."""
    calendar = get_object_or_404(WorkingCalendar.objects.select_related("team"), pk=pk)
    if not can(request.user, "view_calendar", calendar):
        raise Http404("No such calendar.")
    return calendar


def _managed(request: HttpRequest, pk: int) -> WorkingCalendar:
    """A calendar the person may change: 404 for one they may not see, 403
    for one they see but may not change."""
    calendar = _visible(request, pk)
    require(request, "manage_calendar", calendar, services.manage_refusal(calendar))
    return calendar


def _days(calendar: WorkingCalendar) -> list[dict[str, Any]]:
    by_day: list[list[WorkingInterval]] = [[] for _ in WEEKDAY_NAMES]
    for interval in calendar.intervals.all():
        by_day[interval.weekday].append(interval)
    days = week_of((i.weekday, i.start, i.end) for i in calendar.intervals.all())
    return [
        {
            "name": name,
            "intervals": by_day[weekday],
            "total": format_duration(day_length(days[weekday])),
        }
        for weekday, name in enumerate(WEEKDAY_NAMES)
    ]


def _page(
    request: HttpRequest,
    calendar: WorkingCalendar,
    *,
    status: int = 200,
    **bound: Form,
) -> HttpResponse:
    """The calendar's page; ``bound``: a posted form (by prefix) to show
    with its errors in place of a blank one."""
    calendar = (
        WorkingCalendar.objects.select_related("team")
        .prefetch_related("intervals", "holidays")
        .get(pk=calendar.pk)
    )
    today = timezone.now().astimezone(ZoneInfo(calendar.time_zone)).date()
    may_manage = can(request.user, "manage_calendar", calendar)
    forms = (
        {
            prefix: bound.get(prefix) or change.form(prefix=prefix)
            for prefix, change in CHANGES.items()
        }
        if may_manage
        else {}
    )
    return render(
        request,
        "calendars/detail.html",
        {
            "calendar": calendar,
            "week": _week(calendar),
            "days": _days(calendar),
            "holidays": calendar_holidays(calendar, today),
            "measures": calendar_uses(request.user, calendar),
            "pace_for": pace_teams().get(calendar.pk, []),
            "changes": calendar_changes(calendar),
            "may_manage": may_manage,
            "forms": forms,
        },
        status=status,
    )


@require_GET
@login_required
def calendar_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _page(request, _visible(request, pk))


# --- Changes --------------------------------------------------------------------


def _may_add(user) -> bool:
    return bool(calendar_team_ids(user)) or can(user, "add_calendar", None)


def _back(calendar: WorkingCalendar, anchor: str) -> HttpResponse:
    return redirect(f"{reverse('calendars:detail', args=[calendar.pk])}#{anchor}")


@login_required
def calendar_new(request: HttpRequest) -> HttpResponse:
    """A new calendar for a team the person heads, or (an administrator)
    for the whole organisation; its hours are added on its page."""
    if not _may_add(request.user):
        raise PermissionDenied(
            "Only a head of a team, or an administrator, can add calendars."
        )
    teams = Team.objects.filter(pk__in=calendar_team_ids(request.user))
    posted = request.method == "POST"
    form = CalendarForm(
        request.POST if posted else None,
        teams=teams,
        organisation=can(request.user, "add_calendar", None),
    )
    if posted and form.is_valid():
        data = form.cleaned_data
        try:
            calendar = services.calendar_create(
                name=data["name"],
                time_zone=data["time_zone"],
                team=data["team"],
                always=data["kind"] == WorkingCalendar.Kind.ALWAYS,
                user=request.user,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Calendar “{calendar}” added.")
            return _back(calendar, "hours")
    return render(
        request, "calendars/new.html", {"form": form}, status=400 if posted else 200
    )


@require_POST
@login_required
def calendar_change(request: HttpRequest, pk: int, prefix: str) -> HttpResponse:
    """Post the calendar page's ``prefix`` form (``CHANGES``): when it is
    valid and the service takes it, back to the page with what was done;
    otherwise the page shows the form with its errors, and nothing is
    written."""
    change = CHANGES[prefix]
    calendar = _managed(request, pk)
    form = change.form(request.POST, request.FILES, prefix=prefix)
    if form.is_valid():
        data = form.cleaned_data
        try:
            result = change.service(calendar=calendar, user=request.user, **data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, change.done(result, data))
            return _back(calendar, change.anchor)
    return _page(request, calendar, status=400, **{prefix: form})


@dataclass(frozen=True)
class Removal:
    """A row of a calendar's page that its managers may remove: which rows
    of the calendar it is among, the service that removes it (given the row
    as ``keyword``), and where on the page to return."""

    rows: Callable[[WorkingCalendar], QuerySet[Any]]
    service: Callable[..., None]
    keyword: str
    anchor: str


REMOVALS: dict[str, Removal] = {
    "hours": Removal(
        lambda calendar: calendar.intervals.all(),
        services.calendar_interval_remove,
        "interval",
        "hours",
    ),
    "holiday": Removal(
        lambda calendar: calendar.holidays.all(),
        services.calendar_holiday_remove,
        "holiday",
        "holidays",
    ),
}


@require_POST
@login_required
def row_remove(request: HttpRequest, pk: int, kind: str, row: int) -> HttpResponse:
    removal = REMOVALS[kind]
    calendar = _managed(request, pk)
    found = get_object_or_404(removal.rows(calendar), pk=row)
    removal.service(**{removal.keyword: found}, user=request.user)
    messages.success(request, f"Removed {found}.")
    return _back(calendar, removal.anchor)
