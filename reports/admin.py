from django.contrib import admin, messages

from .models import (
    ChannelDelivery,
    Delivery,
    MonthlyRun,
    Notification,
    NotificationPreference,
    TeamChannel,
    WorkerHeartbeat,
)
from .notifications.ledger import deliveries_retry


@admin.register(WorkerHeartbeat)
class WorkerHeartbeatAdmin(admin.ModelAdmin):
    list_display = ["hostname", "beat_at"]
    readonly_fields = ["hostname", "beat_at"]


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    """The email ledger, read-only: rows change only through the senders, or
    through the retry action for those that failed."""

    list_display = [
        "month",
        "kind",
        "recipient",
        "subject_key",
        "status",
        "attempts",
        "resends",
        "sent_at",
        "last_error_short",
    ]
    list_filter = ["status", "kind", "month"]
    search_fields = ["recipient__username", "recipient__email", "email", "message_id"]
    date_hierarchy = "created_at"
    list_select_related = ["recipient"]
    actions = ["retry"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="last error")
    def last_error_short(self, obj: Delivery) -> str:
        return obj.last_error[:80]

    @admin.action(description="Retry the selected emails (failed or skipped)")
    def retry(self, request, queryset) -> None:
        count = deliveries_retry(ids=queryset.values_list("pk", flat=True))
        self.message_user(
            request,
            f"{count} email{'s' if count != 1 else ''} queued again.",
            messages.SUCCESS if count else messages.WARNING,
        )


@admin.register(MonthlyRun)
class MonthlyRunAdmin(admin.ModelAdmin):
    list_display = ["month", "finalised_at", "deliveries_planned_at", "emails_skipped"]
    readonly_fields = [
        "month",
        "finalised_at",
        "deliveries_planned_at",
        "emails_skipped",
    ]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(admin.ModelAdmin):
    list_display = [
        "user",
        "digest",
        "scorecards",
        "reminders",
        "alerts",
        "friction_email",
        "agreement_email",
        "breach_email",
        "updated_at",
    ]
    list_filter = [
        "digest",
        "scorecards",
        "reminders",
        "alerts",
        "friction_email",
        "agreement_email",
        "breach_email",
    ]
    search_fields = ["user__username", "user__email"]
    raw_id_fields = ["user"]


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    """The inbox entries, read-only: written by the events they announce."""

    list_display = ["created_at", "event", "recipient", "email", "read_at", "text"]
    list_filter = ["event", "email"]
    search_fields = ["recipient__username", "key", "text"]
    date_hierarchy = "created_at"
    list_select_related = ["recipient"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(TeamChannel)
class TeamChannelAdmin(admin.ModelAdmin):
    """Connected on the team's channels page; here only seen (never the
    webhook address) or removed."""

    list_display = ["name", "team", "kind", "webhook_end", "last_error", "created_at"]
    list_filter = ["kind", "team"]
    fields = ["team", "kind", "name", "events", "webhook_end", "last_error"]
    readonly_fields = fields

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ChannelDelivery)
class ChannelDeliveryAdmin(admin.ModelAdmin):
    """The channel messages' ledger, read-only."""

    list_display = ["created_at", "channel", "event", "status", "attempts", "sent_at"]
    list_filter = ["status", "event"]
    list_select_related = ["channel__team"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
