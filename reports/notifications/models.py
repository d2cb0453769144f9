"""The notifications' own tables: the month-end runs, the delivery ledger
(one row per email, sent exactly once) and each person's email preferences.
They belong to the ``reports`` app label, as they always have."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class MonthlyRun(models.Model):
    """The month-end job of one month: its scorecards finalised, its emails
    planned. The reconcile task looks here for months that were missed; the
    row is locked while the job runs, so two runs of it cannot overlap."""

    month = models.DateField(unique=True, help_text="First day of the month.")
    finalised_at = models.DateTimeField(null=True, blank=True)
    deliveries_planned_at = models.DateTimeField(null=True, blank=True)
    emails_skipped = models.BooleanField(
        default=False,
        help_text="Closed long after the fact: finalised without emailing anyone.",
    )

    class Meta:
        ordering = ["-month"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(month__day=1), name="monthly_run_month_first_day"
            ),
        ]

    def __str__(self) -> str:
        return f"Month-end {self.month:%Y-%m}"


class DeliveryQuerySet(models.QuerySet):
    def stuck(self, *, now, lease) -> DeliveryQuerySet:
        """Rows nobody is working on: pending with no recent attempt, or claimed
        by a worker that has not finished within the lease (it died)."""
        cutoff = now - lease
        Status = Delivery.Status
        return self.filter(
            models.Q(status=Status.PENDING, claimed_at__lt=cutoff)
            | models.Q(status=Status.PENDING, claimed_at=None, created_at__lt=cutoff)
            | models.Q(status=Status.SENDING, claimed_at__lt=cutoff)
        )


class Delivery(models.Model):
    """One email to one person: the ledger that makes each go out once.

    A row is claimed (``pending → sending``, a conditional UPDATE) before the
    message is handed to the mail server and marked ``sent`` after; a claim
    older than the lease belonged to a worker that died and may be taken
    over. At most one row per month, recipient, kind and subject.
    """

    class Kind(models.TextChoices):
        DIGEST = "digest", "Executive digest"
        SCORECARD = "scorecard", "Scorecards"
        BREACH = "breach", "Breach notice"
        REMINDER = "reminder", "Reminder"
        ESCALATION = "escalation", "Escalation"
        AT_RISK = "at_risk", "At-risk alert"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Skipped"

    month = models.DateField(help_text="First day of the month the email is about.")
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="deliveries"
    )
    kind = models.CharField(max_length=12, choices=Kind.choices)
    subject_key = models.CharField(
        max_length=40,
        blank=True,
        default="",
        help_text="Tells apart several emails of one kind in a month "
        "(an at-risk alert per objective); empty for the others.",
    )
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    resends = models.PositiveSmallIntegerField(
        default=0, help_text="Times it was sent again on request after being sent."
    )
    email = models.EmailField(blank=True, help_text="The address it went to.")
    last_error = models.TextField(blank=True)
    message_id = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    objects = DeliveryQuerySet.as_manager()

    class Meta:
        ordering = ["-month", "kind", "recipient_id", "subject_key"]
        verbose_name_plural = "deliveries"
        constraints = [
            models.UniqueConstraint(
                fields=["month", "recipient", "kind", "subject_key"],
                name="one_delivery_per_month_recipient_kind",
            ),
            models.CheckConstraint(
                condition=models.Q(month__day=1), name="delivery_month_first_day"
            ),
            models.CheckConstraint(
                condition=models.Q(
                    status__in=["pending", "sending", "sent", "failed", "skipped"]
                ),
                name="delivery_status_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(
                    kind__in=[
                        "digest",
                        "scorecard",
                        "breach",
                        "reminder",
                        "escalation",
                        "at_risk",
                    ]
                ),
                name="delivery_kind_valid",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="sent") | models.Q(sent_at__isnull=False),
                name="delivery_sent_has_time",
            ),
        ]
        indexes = [models.Index(fields=["status", "claimed_at"])]

    def __str__(self) -> str:
        key = f" {self.subject_key}" if self.subject_key else ""
        return f"{self.get_kind_display()}{key} {self.month:%Y-%m} to {self.recipient}"


class NotificationPreference(models.Model):
    """Which emails a person wants. No row means every email is wanted.

    Breach notices are not listed: a breach owes a remedy, and the people of
    both parties hear about it whatever they chose.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notification_preference",
    )
    digest = models.BooleanField(
        "monthly executive digest",
        default=True,
        help_text="The organisation's heat map, breaches, late reporters and "
        "top pain points (executives and heads).",
    )
    scorecards = models.BooleanField(
        "monthly scorecards",
        default=True,
        help_text="Your agreements' finalised scorecards. When one of them was "
        "breached you still get a breach notice.",
    )
    reminders = models.BooleanField(
        "reminders and escalations",
        default=True,
        help_text="Figures still missing before the deadline (leads), or after "
        "it (heads).",
    )
    alerts = models.BooleanField(
        "at-risk alerts",
        default=True,
        help_text="Mid-month, when the pace so far says an objective will be missed.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "email preference"

    def __str__(self) -> str:
        return f"Email preferences of {self.user}"
