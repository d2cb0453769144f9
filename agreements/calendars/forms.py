"""The calendar pages' forms. They check what a field alone can say (a zone
from the list, a time, a date); the services check the rest (overlapping
hours, a holiday ending before it starts, an unknown country, a bad .ics)
and the views show their refusals on the form."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.conf import settings
from django.db.models import QuerySet

from ..forms.common import DateInput
from ..models import Team
from .models import WorkingCalendar, WorkingInterval, time_zones
from .services import ICS_MAX_BYTES

TIME = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
DATE = DateInput()
# "2026", "2026 2027", "2026, 2027" or "2026–2028".
YEAR_RANGE = re.compile(r"^\s*(\d{4})\s*[-–]\s*(\d{4})\s*$")


class CalendarForm(forms.Form):
    name = forms.CharField(label="Name", max_length=100, strip=True)
    time_zone = forms.ChoiceField(
        label="Time zone",
        help_text="Working hours are wall-clock times in this zone.",
        error_messages={
            "invalid_choice": "“%(value)s” is not a time zone: choose an IANA "
            "name such as Europe/Berlin or America/New_York."
        },
    )
    team = forms.ModelChoiceField(
        label="Team",
        queryset=Team.objects.none(),
        error_messages={
            "invalid_choice": "Choose one of the teams you head.",
            "required": "Choose one of the teams you head.",
        },
    )
    kind = forms.ChoiceField(
        label="Kind",
        choices=WorkingCalendar.Kind.choices,
        initial=WorkingCalendar.Kind.HOURS,
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
        help_text="24/7 counts every hour of every day and has no holidays.",
    )

    def __init__(
        self, *args: Any, teams: QuerySet[Team], organisation: bool, **kwargs: Any
    ) -> None:
        """``teams``: those the person may add calendars for; ``organisation``:
        whether they may add organisation-wide ones too (the empty choice)."""
        kwargs.setdefault("initial", {"time_zone": settings.TIME_ZONE})
        super().__init__(*args, **kwargs)
        zone = self.fields["time_zone"]
        assert isinstance(zone, forms.ChoiceField)
        zone.choices = [(name, name) for name in time_zones()]
        team = self.fields["team"]
        assert isinstance(team, forms.ModelChoiceField)
        team.queryset = teams
        team.required = not organisation
        team.empty_label = "Whole organisation" if organisation else None


class IntervalForm(forms.Form):
    weekday = forms.TypedChoiceField(
        label="Day", choices=WorkingInterval.Weekday.choices, coerce=int
    )
    start = forms.TimeField(label="From", widget=TIME)
    end = forms.TimeField(
        label="To", widget=TIME, help_text="00:00 is midnight at the end of the day."
    )


class HolidayForm(forms.Form):
    name = forms.CharField(label="Name", max_length=200, strip=True)
    start = forms.DateField(label="First day", widget=DATE)
    end = forms.DateField(
        label="Last day",
        widget=DATE,
        required=False,
        help_text="Empty for a single day.",
    )
    yearly = forms.BooleanField(
        label="Every year on these days", required=False, initial=False
    )


class SeedForm(forms.Form):
    country = forms.CharField(
        label="Country",
        max_length=3,
        strip=True,
        help_text="An ISO 3166 code: DE, FR, US.",
    )
    subdivision = forms.CharField(
        label="Region",
        max_length=10,
        required=False,
        strip=True,
        help_text="Optional: a state or region code, e.g. BY or NY.",
    )
    years = forms.CharField(
        label="Years",
        max_length=100,
        help_text="One year, several (2026, 2027) or a range (2026–2028).",
    )

    def clean_years(self) -> list[int]:
        """The years written; which years may be seeded is the service's
        call."""
        text = self.cleaned_data["years"]
        span = YEAR_RANGE.match(text)
        if span:
            return list(range(int(span[1]), int(span[2]) + 1))
        parts = [part for part in re.split(r"[\s,;]+", text) if part]
        if not parts or not all(part.isdigit() for part in parts):
            raise forms.ValidationError(
                "Write years as 2026, as 2026, 2027 or as 2026–2028."
            )
        return [int(part) for part in parts]


class IcsForm(forms.Form):
    file = forms.FileField(
        label=".ics file",
        widget=forms.ClearableFileInput(attrs={"accept": ".ics,text/calendar"}),
        error_messages={
            "required": "Choose an .ics file to import.",
            "empty": "The file is empty.",
        },
        help_text=f"All-day events become holidays; up to "
        f"{ICS_MAX_BYTES // (1024 * 1024)} MB.",
    )
