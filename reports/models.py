from __future__ import annotations

from django.conf import settings
from django.db import models
from simple_history.models import HistoricalRecords

from agreements.validators import multi_line


class WorkerHeartbeat(models.Model):
    """One row per heartbeat task a Celery worker ran: proof the worker path works."""

    hostname = models.CharField(max_length=255)
    beat_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-beat_at"]
        get_latest_by = "beat_at"

    def __str__(self) -> str:
        return f"{self.hostname} at {self.beat_at:%Y-%m-%d %H:%M:%S}"


class Scorecard(models.Model):
    """The finalised result of one agreement version for one month.

    Written when the month locks; recomputed (keeping the earlier values in
    history) when a correction arrives later.
    """

    # A finished month's words (``reports.scoring.Status.FINAL``).
    class Status(models.TextChoices):
        MET = "met", "Met"
        CLOSE_CALL = "close_call", "Met, close call"
        MISSED = "missed", "Missed"
        NO_DATA = "no_data", "No data"

    agreement = models.ForeignKey(
        "agreements.Agreement", on_delete=models.PROTECT, related_name="scorecards"
    )
    month = models.DateField(help_text="First day of the month.")
    status = models.CharField(max_length=10, choices=Status.choices)
    score = models.DecimalField(
        "weighted attainment",
        max_digits=6,
        decimal_places=1,
        null=True,
        help_text="Per cent: each objective's attainment capped at 100 % and "
        "weighted; a figure never reported counts as 0 %.",
    )
    met_count = models.PositiveSmallIntegerField(
        default=0, help_text="Objectives met (close calls included)."
    )
    objective_count = models.PositiveSmallIntegerField(default=0)
    reported_on_time = models.BooleanField()
    finalised_at = models.DateTimeField()
    recomputed_at = models.DateTimeField(null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-month", "agreement"]
        # The dashboard counts a month's statuses across every agreement.
        indexes = [models.Index(fields=["month", "status"])]
        constraints = [
            models.UniqueConstraint(
                fields=["agreement", "month"], name="one_scorecard_per_month"
            ),
            models.CheckConstraint(
                condition=models.Q(month__day=1), name="scorecard_month_first_day"
            ),
            models.CheckConstraint(
                condition=models.Q(
                    status__in=["met", "close_call", "missed", "no_data"]
                ),
                name="scorecard_status_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(met_count__lte=models.F("objective_count")),
                name="scorecard_met_within_objectives",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.agreement.title} {self.month:%Y-%m}"


class ScorecardLine(models.Model):
    scorecard = models.ForeignKey(
        Scorecard, on_delete=models.CASCADE, related_name="lines"
    )
    objective = models.ForeignKey(
        "agreements.Objective", on_delete=models.PROTECT, related_name="+"
    )
    target = models.DecimalField(max_digits=12, decimal_places=2)
    actual = models.DecimalField(max_digits=14, decimal_places=2, null=True)
    attainment = models.DecimalField(max_digits=8, decimal_places=1, null=True)
    status = models.CharField(max_length=10, choices=Scorecard.Status.choices)
    reported_on_time = models.BooleanField()
    history = HistoricalRecords()

    class Meta:
        ordering = ["scorecard", "objective__position", "objective_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["scorecard", "objective"], name="one_line_per_objective"
            ),
            models.CheckConstraint(
                condition=models.Q(
                    status__in=["met", "close_call", "missed", "no_data"]
                ),
                name="scorecard_line_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.objective.name}: {self.actual} / {self.target}"


class Breach(models.Model):
    """A missed objective on a finalised scorecard, and the remedy it owes."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        ACKNOWLEDGED = "acknowledged", "Acknowledged"
        RESOLVED = "resolved", "Resolved"

    line = models.OneToOneField(
        ScorecardLine, on_delete=models.PROTECT, related_name="breach"
    )
    agreement = models.ForeignKey(
        "agreements.Agreement", on_delete=models.PROTECT, related_name="breaches"
    )
    month = models.DateField()
    remedy = models.TextField(help_text="What the provider owes, from the agreement.")
    status = models.CharField(
        max_length=15, choices=Status.choices, default=Status.OPEN, db_index=True
    )
    opened_at = models.DateTimeField(auto_now_add=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    note = models.TextField(blank=True, validators=[multi_line])
    history = HistoricalRecords()

    class Meta:
        ordering = ["-month", "agreement"]
        verbose_name_plural = "breaches"
        # The dashboard lists the open ones, latest first.
        indexes = [models.Index(fields=["status", "month"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=["open", "acknowledged", "resolved"]),
                name="breach_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"Breach of {self.line.objective.name}, {self.month:%Y-%m}"


# --- Monthly emails ---------------------------------------------------------


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
