from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .calendars import admin as calendars_admin  # noqa: F401  (registers its models)
from .models import (
    ClosedCustomer,
    FrictionComment,
    FrictionReport,
    LeadLogEntry,
    Measurement,
    Membership,
    PainPoint,
    Team,
)
from .records import admin as records_admin  # noqa: F401  (registers its models)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 1
    autocomplete_fields = ["user"]


@admin.register(Team)
class TeamAdmin(SimpleHistoryAdmin):
    list_display = ["name", "slug", "kind"]
    list_filter = ["kind"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(SimpleHistoryAdmin):
    list_display = ["user", "team", "role", "joined_on"]
    list_filter = ["role", "team"]
    search_fields = ["user__username", "user__email", "team__name"]
    autocomplete_fields = ["user", "team"]


# Submissions are written through the services (rules, periods, reasons); the
# admin shows them with their history, for audit, and does not edit them.
class ReadOnlyHistoryAdmin(SimpleHistoryAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(LeadLogEntry)
class LeadLogEntryAdmin(ReadOnlyHistoryAdmin):
    list_display = ["team", "date", "leads_delivered", "qualified_leads", "source"]
    list_filter = ["team", "month"]
    search_fields = ["source", "note"]
    date_hierarchy = "date"


@admin.register(ClosedCustomer)
class ClosedCustomerAdmin(ReadOnlyHistoryAdmin):
    list_display = ["customer", "team", "closed_on", "deal_value", "acknowledged_at"]
    list_filter = ["team", "month"]
    search_fields = ["customer", "handover_notes"]
    date_hierarchy = "closed_on"


@admin.register(Measurement)
class MeasurementAdmin(ReadOnlyHistoryAdmin):
    list_display = ["objective", "month", "value"]
    list_filter = ["month"]
    search_fields = ["objective__name", "objective__agreement__title"]


@admin.register(FrictionReport)
class FrictionReportAdmin(ReadOnlyHistoryAdmin):
    list_display = [
        "customer",
        "reporting_team",
        "addressed_team",
        "category",
        "severity",
        "status",
        "month",
    ]
    list_filter = ["status", "category", "severity", "reporting_team", "month"]
    search_fields = ["customer", "description", "tags"]


@admin.register(FrictionComment)
class FrictionCommentAdmin(ReadOnlyHistoryAdmin):
    list_display = ["report", "author", "new_status", "created_at"]


@admin.register(PainPoint)
class PainPointAdmin(ReadOnlyHistoryAdmin):
    list_display = ["title", "category", "merged_into", "created_at"]
    list_filter = ["category"]
    search_fields = ["title", "description"]
