from __future__ import annotations

from django.conf import settings
from django.db import models

from agreements.history import history_records
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
    history = history_records()

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
    history = history_records()

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
    history = history_records()

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


class MonthTotals(models.Model):
    """The organisation's totals for one finalised month, as the dashboard
    shows them: its scorecards and breaches by status, and its late
    reporters.

    Written with the month's scorecards by ``scorecards_finalise`` (again on
    every correction) and moved along by the breach services, so the
    executive dashboard reads one row instead of every scorecard. Narrower
    scopes (the teams a head heads) are small and still computed.
    """

    month = models.DateField(unique=True, help_text="First day of the month.")
    met = models.PositiveIntegerField(default=0)
    close_call = models.PositiveIntegerField(default=0)
    missed = models.PositiveIntegerField(default=0)
    no_data = models.PositiveIntegerField(default=0)
    breaches_open = models.PositiveIntegerField(default=0)
    breaches_acknowledged = models.PositiveIntegerField(default=0)
    breaches_resolved = models.PositiveIntegerField(default=0)
    late_teams = models.PositiveIntegerField(
        default=0, help_text="Teams with an objective not reported by the deadline."
    )
    late = models.JSONField(
        default=list,
        blank=True,
        help_text="The teams with most late objectives, most first, each with "
        "its count and first few objectives: the list the dashboard shows.",
    )
    computed_at = models.DateTimeField()

    class Meta:
        ordering = ["-month"]
        verbose_name_plural = "month totals"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(month__day=1), name="month_totals_first_day"
            ),
        ]

    def __str__(self) -> str:
        return f"Totals of {self.month:%Y-%m}"

    @property
    def statuses(self) -> dict[str, int]:
        """Scorecards per ``Scorecard.Status``."""
        return {key: getattr(self, key) for key in Scorecard.Status.values}

    @property
    def breaches(self) -> dict[str, int]:
        """Breaches per ``Breach.Status``."""
        return {key: getattr(self, f"breaches_{key}") for key in Breach.Status.values}


# --- Monthly emails: reports/notifications/models.py -----------------------
# Kept in this app's label (no data migration); imported here so that Django
# finds them, and so that ``from reports.models import Delivery`` still works.
from .notifications.channels.models import ChannelDelivery, TeamChannel  # noqa: E402
from .notifications.models import (  # noqa: E402
    Delivery,
    LedgerQuerySet,
    MonthlyRun,
    Notification,
    NotificationPreference,
)

__all__ = [
    "Breach",
    "ChannelDelivery",
    "Delivery",
    "LedgerQuerySet",
    "MonthTotals",
    "MonthlyRun",
    "Notification",
    "NotificationPreference",
    "Scorecard",
    "ScorecardLine",
    "TeamChannel",
    "WorkerHeartbeat",
]
