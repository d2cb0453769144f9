"""Calendars in the admin: hours and holidays edited under their calendar.

The admin saves rows itself rather than through the services, so the hours'
formset asks the same overlap question (``time.first_overlap``) the service
asks; the row's own rules are its model's constraints."""

from __future__ import annotations

from collections import defaultdict

from django import forms
from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import Holiday, WorkingCalendar, WorkingInterval
from .time import WEEKDAY_NAMES, first_overlap, format_hours


class WorkingIntervalFormSet(forms.BaseInlineFormSet):
    def clean(self) -> None:
        super().clean()
        by_day = defaultdict(list)
        for form in self.forms:
            data = getattr(form, "cleaned_data", None)
            if not data or data.get("DELETE"):
                continue
            if None in (data.get("weekday"), data.get("start"), data.get("end")):
                continue
            by_day[data["weekday"]].append((data["start"], data["end"]))
        for weekday, hours in sorted(by_day.items()):
            clash = first_overlap(hours)
            if clash:
                raise forms.ValidationError(
                    f"{WEEKDAY_NAMES[weekday]} {format_hours(*clash[0])} and "
                    f"{format_hours(*clash[1])} overlap: a day's working hours "
                    "may touch but not overlap."
                )


class WorkingIntervalInline(admin.TabularInline):
    model = WorkingInterval
    formset = WorkingIntervalFormSet
    extra = 0


class HolidayInline(admin.TabularInline):
    model = Holiday
    extra = 0


@admin.register(WorkingCalendar)
class WorkingCalendarAdmin(SimpleHistoryAdmin):
    list_display = ["name", "team", "time_zone", "kind"]
    list_filter = ["kind", "team"]
    search_fields = ["name", "team__name", "time_zone"]
    autocomplete_fields = ["team"]
    inlines = [WorkingIntervalInline, HolidayInline]


@admin.register(WorkingInterval)
class WorkingIntervalAdmin(SimpleHistoryAdmin):
    list_display = ["calendar", "weekday", "start", "end"]
    list_filter = ["calendar", "weekday"]


@admin.register(Holiday)
class HolidayAdmin(SimpleHistoryAdmin):
    list_display = ["name", "calendar", "start", "end", "yearly"]
    list_filter = ["calendar", "yearly"]
    search_fields = ["name"]
    date_hierarchy = "start"
