"""A team's chat channels and the ledger of what was posted to them. They
belong to the ``reports`` app label, as the other notification tables do."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from agreements.history import history_records

from ..models import LedgerQuerySet, Notification


class TeamChannel(models.Model):
    """A Slack or Microsoft Teams channel of a team, reached by its incoming
    webhook. The webhook address is a secret (whoever has it may post to the
    channel): it is kept encrypted (``secrets``), shown only by its last four
    characters, and left out of the history."""

    class Kind(models.TextChoices):
        SLACK = "slack", "Slack"
        TEAMS = "teams", "Microsoft Teams (Workflows)"

    team = models.ForeignKey(
        "agreements.Team", on_delete=models.CASCADE, related_name="channels"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    name = models.CharField(max_length=100)
    events = models.JSONField(
        default=list, blank=True, help_text="The notification events posted here."
    )
    webhook_encrypted = models.TextField(editable=False)
    webhook_end = models.CharField(max_length=4, editable=False)
    last_error = models.CharField(max_length=500, blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    history = history_records(excluded_fields=["webhook_encrypted"])

    class Meta:
        ordering = ["team", "name", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["team", "name"],
                name="team_channel_name_unique_per_team",
                violation_error_message="The team has a channel of this name already.",
            ),
            models.CheckConstraint(
                condition=models.Q(kind__in=["slack", "teams"]),
                name="team_channel_kind_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()}) of {self.team}"

    def hears(self, event: str) -> bool:
        return event in self.events


class ChannelDelivery(models.Model):
    """One event posted to one channel: claimed (``pending → sending``, a
    conditional UPDATE), posted, marked ``sent``; at most one per channel,
    event and occurrence. ``not_before`` holds it until the team's next
    working hours (quiet hours)."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Skipped"

    channel = models.ForeignKey(
        TeamChannel, on_delete=models.CASCADE, related_name="deliveries"
    )
    event = models.CharField(max_length=20, choices=Notification.Event.choices)
    key = models.CharField(max_length=80)
    text = models.CharField(max_length=400)
    url = models.CharField(max_length=300)
    # What it is about, for the visibility check when it is sent.
    agreement_id = models.IntegerField(null=True, blank=True)
    breach_id = models.IntegerField(null=True, blank=True)
    friction_report_id = models.IntegerField(null=True, blank=True)
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    not_before = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    objects = LedgerQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name_plural = "channel deliveries"
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "event", "key"],
                name="one_channel_delivery_per_event",
            ),
            models.CheckConstraint(
                condition=models.Q(
                    status__in=["pending", "sending", "sent", "failed", "skipped"]
                ),
                name="channel_delivery_status_valid",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="sent") | models.Q(sent_at__isnull=False),
                name="channel_delivery_sent_has_time",
            ),
        ]
        indexes = [models.Index(fields=["status", "not_before"])]

    def __str__(self) -> str:
        return f"{self.get_event_display()} {self.key} to {self.channel}"
