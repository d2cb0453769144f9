"""Records in the admin. Sources and measures are edited here (their forms
run the models' ``clean``); the records themselves arrive through
``services.records_upsert``, whose ordering by the source's ``updated_at``
an edit by hand would defeat, so the admin only shows them, with history."""

from __future__ import annotations

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import (
    Incident,
    MaintenanceWindow,
    RecordMeasure,
    RecordSource,
    RequestPause,
    ServiceRequest,
)


class ReadOnlyRecordAdmin(SimpleHistoryAdmin):
    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(RecordSource)
class RecordSourceAdmin(SimpleHistoryAdmin):
    list_display = ["name", "team", "kind", "created_at"]
    list_filter = ["kind", "team"]
    search_fields = ["name", "team__name"]
    autocomplete_fields = ["team"]


@admin.register(RecordMeasure)
class RecordMeasureAdmin(SimpleHistoryAdmin):
    list_display = ["objective", "source", "calendar", "event", "target", "share"]
    list_filter = ["event", "exclude_maintenance"]
    search_fields = ["objective__name", "objective__agreement__title", "source__name"]
    raw_id_fields = ["objective"]


class RequestPauseInline(admin.TabularInline):
    model = RequestPause
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ServiceRequest)
class ServiceRequestAdmin(ReadOnlyRecordAdmin):
    list_display = [
        "external_id",
        "source",
        "provider",
        "segment",
        "started_at",
        "first_response_at",
        "resolved_at",
    ]
    list_filter = ["source", "provider", "segment"]
    search_fields = ["external_id"]
    date_hierarchy = "started_at"
    inlines = [RequestPauseInline]


@admin.register(Incident)
class IncidentAdmin(ReadOnlyRecordAdmin):
    list_display = [
        "external_id",
        "source",
        "component",
        "impact",
        "started_at",
        "ended_at",
    ]
    list_filter = ["source", "impact"]
    search_fields = ["external_id", "component"]
    date_hierarchy = "started_at"


@admin.register(MaintenanceWindow)
class MaintenanceWindowAdmin(ReadOnlyRecordAdmin):
    list_display = ["external_id", "source", "component", "started_at", "ended_at"]
    list_filter = ["source"]
    search_fields = ["external_id", "component", "reason"]
    date_hierarchy = "started_at"
