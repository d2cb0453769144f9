"""Working calendars: when a team (or the whole organisation) counts time as
working time, in which zone, and which days are holidays. Service levels
measured from records count their deadlines in a calendar's business time
(``agreements.calendars.time``)."""

from __future__ import annotations

import zoneinfo
from datetime import date, time
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q

from ..history import history_records
from ..models.teams import Team
from ..validators import single_line
from . import time as business
from .time import WEEKDAY_NAMES, CalendarSnapshot, format_hours, holiday_problem

# The two calendars every organisation starts with (migration 0007).
OFFICE_HOURS_NAME = "Mon–Fri 09:00–17:00"
ROUND_THE_CLOCK_NAME = "24/7"


@cache
def time_zones() -> tuple[str, ...]:
    """The IANA zone names to choose from, sorted."""
    return tuple(
        sorted(
            zone
            for zone in zoneinfo.available_timezones()
            if not zone.startswith(("posix/", "right/"))
        )
    )


def validate_time_zone(value: str) -> None:
    """An IANA time zone name that ``zoneinfo`` knows, e.g. Europe/Berlin."""
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise ValidationError(
            f"“{value}” is not a time zone: use an IANA name such as "
            "Europe/Berlin or America/New_York.",
            code="unknown_time_zone",
        ) from None


class WorkingCalendarQuerySet(models.QuerySet):
    def for_team(self, team: Team | None) -> WorkingCalendarQuerySet:
        """The team's own calendars and the organisation-wide ones."""
        if team is None:
            return self.filter(team=None)
        return self.filter(Q(team=None) | Q(team=team))


class WorkingCalendar(models.Model):
    """A named set of weekly working hours and holidays in one time zone."""

    class Kind(models.TextChoices):
        HOURS = "hours", "Working hours"
        ALWAYS = "always", "24/7"

    name = models.CharField(max_length=100, validators=[single_line])
    time_zone = models.CharField(
        max_length=64,
        validators=[validate_time_zone],
        help_text="An IANA name, e.g. Europe/Berlin.",
    )
    team = models.ForeignKey(
        Team,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="working_calendars",
        help_text="Empty: a calendar for the whole organisation.",
    )
    kind = models.CharField(
        max_length=10,
        choices=Kind.choices,
        default=Kind.HOURS,
        help_text="24/7 counts every hour of every day and has no holidays.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = history_records(excluded_fields=["updated_at"])

    objects = WorkingCalendarQuerySet.as_manager()

    class Meta:
        ordering = ["name", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["hours", "always"]),
                name="working_calendar_kind_valid",
            ),
            models.UniqueConstraint(
                fields=["team", "name"],
                name="working_calendar_name_unique_per_team",
                violation_error_message="The team already has a calendar of this name.",
            ),
            # NULLs are distinct in the constraint above: organisation-wide
            # names need their own.
            models.UniqueConstraint(
                fields=["name"],
                condition=Q(team=None),
                name="working_calendar_name_unique_organisation_wide",
                violation_error_message="An organisation-wide calendar of this "
                "name exists already.",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if isinstance(self.name, str):
            self.name = self.name.strip()
            if not self.name:
                raise ValidationError({"name": "Name the calendar."})

    @property
    def is_always(self) -> bool:
        return self.kind == self.Kind.ALWAYS

    def snapshot(self) -> CalendarSnapshot:
        """The calendar as plain values for ``agreements.calendars.time``
        (reads its intervals and holidays: prefetch them for many)."""
        return business.snapshot(
            time_zone=self.time_zone,
            intervals=[(i.weekday, i.start, i.end) for i in self.intervals.all()],
            holidays=[(h.start, h.end, h.yearly) for h in self.holidays.all()],
            always=self.is_always,
            name=self.name,
        )


class WorkingInterval(models.Model):
    """Working hours on one weekday, e.g. Monday 09:00–12:30. A day may have
    several (a lunch break between two); they may touch but not overlap, and
    none crosses midnight: an end of 00:00 is the midnight ending the day."""

    class Weekday(models.IntegerChoices):
        MONDAY = 0, "Monday"
        TUESDAY = 1, "Tuesday"
        WEDNESDAY = 2, "Wednesday"
        THURSDAY = 3, "Thursday"
        FRIDAY = 4, "Friday"
        SATURDAY = 5, "Saturday"
        SUNDAY = 6, "Sunday"

    calendar = models.ForeignKey(
        WorkingCalendar, on_delete=models.CASCADE, related_name="intervals"
    )
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    start = models.TimeField()
    end = models.TimeField(help_text="00:00 means midnight at the end of the day.")
    history = history_records()

    class Meta:
        ordering = ["calendar", "weekday", "start"]
        constraints = [
            models.CheckConstraint(
                condition=Q(weekday__gte=0, weekday__lte=6),
                name="working_interval_weekday_valid",
            ),
            models.CheckConstraint(
                condition=Q(start__lt=F("end")) | Q(end=time(0)),
                name="working_interval_within_one_day",
                violation_error_message="Working hours end after they start, on "
                "the same day: split hours across midnight into two intervals.",
            ),
        ]

    def __str__(self) -> str:
        return f"{WEEKDAY_NAMES[self.weekday]} {self.hours}"

    @property
    def hours(self) -> str:
        """``09:00–12:30``; an end of midnight reads 24:00."""
        return format_hours(self.start, self.end)


class Holiday(models.Model):
    """Days off in a calendar, first and last day included; a yearly holiday
    falls on the same month and day every year (its year is the first one)."""

    calendar = models.ForeignKey(
        WorkingCalendar, on_delete=models.CASCADE, related_name="holidays"
    )
    name = models.CharField(max_length=200, validators=[single_line])
    start = models.DateField()
    end = models.DateField(
        help_text="The last day off (the same as the start for one day)."
    )
    yearly = models.BooleanField(
        default=False, help_text="Falls on these days every year."
    )
    history = history_records()

    class Meta:
        ordering = ["calendar", "start", "pk"]
        indexes = [models.Index(fields=["calendar", "start"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(end__gte=F("start")),
                name="holiday_ends_after_it_starts",
                violation_error_message="A holiday cannot end before it starts.",
            ),
        ]

    def __str__(self) -> str:
        days = f"{self.start}" if self.start == self.end else f"{self.start}–{self.end}"
        return f"{self.name} ({days}{', yearly' if self.yearly else ''})"

    def clean(self) -> None:
        if isinstance(self.name, str):
            self.name = self.name.strip()
            if not self.name:
                raise ValidationError({"name": "Name the holiday."})
        # An end before the start is the check constraint's to report.
        if (
            isinstance(self.start, date)
            and isinstance(self.end, date)
            and self.end >= self.start
        ):
            problem = holiday_problem(self.start, self.end, self.yearly)
            if problem:
                raise ValidationError({"end": problem})
