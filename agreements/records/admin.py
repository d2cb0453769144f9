"""Records in the admin. Sources and measures are edited here (their forms
run the models' ``clean``); the records themselves arrive through
``services.records_upsert``, whose ordering by the source's ``updated_at``
an edit by hand would defeat, so the admin only shows them, with history."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest
from simple_history.admin import SimpleHistoryAdmin

from .models import (
    Incident,
    Lead,
    MaintenanceWindow,
    RecordMeasure,
    RecordSource,
    RequestPause,
    ServiceRequest,
)
from .sources import source_webhook_secret_rotate


class ReadOnlyRecordAdmin(SimpleHistoryAdmin):
    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(RecordSource)
class RecordSourceAdmin(SimpleHistoryAdmin):
    list_display = ["name", "team", "kind", "webhook_enabled", "created_at"]
    list_filter = ["kind", "team"]
    search_fields = ["name", "team__name"]
    autocomplete_fields = ["team"]
    # Set only by the action below (``source_webhook_secret_rotate``); shown
    # here for the head to copy into the tool that sends the records.
    readonly_fields = ["webhook_secret"]
    actions = ["rotate_webhook_secret"]

    @admin.display(boolean=True, description="Webhook")
    def webhook_enabled(self, source: RecordSource) -> bool:
        return source.webhook_enabled

    @admin.action(description="Set a new webhook secret (the old one stops working)")
    def rotate_webhook_secret(
        self, request: HttpRequest, queryset: QuerySet[RecordSource]
    ) -> None:
        for source in queryset.select_related("team"):
            try:
                source_webhook_secret_rotate(source=source, user=request.user)
            except PermissionDenied as exc:
                self.message_user(request, str(exc), messages.ERROR)
            else:
                # The secret itself is not put in a message: messages may
                # travel in a cookie.
                self.message_user(
                    request,
                    f"{source} has a new webhook secret: copy it from the "
                    "source's page.",
                    messages.SUCCESS,
                )


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


@admin.register(Lead)
class LeadAdmin(ReadOnlyRecordAdmin):
    list_display = [
        "external_id",
        "source",
        "team",
        "started_at",
        "qualified",
        "stage",
        "duplicate_of",
    ]
    list_filter = ["source", "team", "qualified"]
    search_fields = ["external_id", "email", "name", "company"]
    date_hierarchy = "started_at"
