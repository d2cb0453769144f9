"""What teams log each month: lead log entries, closed customers, measurements.

Every row carries its ``month`` (the first day, see ``agreements.periods``) so
that scorecards aggregate a month with one grouped query instead of deriving
months from dates row by row.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import ClassVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q

from .. import periods
from ..history import history_records
from ..models.agreements import Objective
from ..models.common import can_read_everything, member_team_ids, visible_team_ids_q
from ..models.teams import Team
from ..validators import multi_line, single_line


class TeamSubmissionQuerySet(models.QuerySet):
    """Filters shared by the submissions that belong to a team."""

    def visible_to(self, user):
        """Rows the user may read: their teams', their agreement partners',
        or all for executives."""
        everything = can_read_everything(user)
        if everything is not None:
            return self if everything else self.none()
        return self.filter(visible_team_ids_q(user, "team"))

    def for_month(self, month):
        return self.filter(month=month)

    def of_team(self, team: Team):
        return self.filter(team=team)


def _not_negative(label: str) -> MinValueValidator:
    return MinValueValidator(0, message=f"{label} cannot be negative.")


# One entry is a day's leads, or a batch logged under one date: more than
# this is a typing slip, not a day's work.
LEADS_PER_ENTRY_MAX = 10_000


def _at_most_per_entry(label: str) -> MaxValueValidator:
    return MaxValueValidator(
        LEADS_PER_ENTRY_MAX,
        message=f"{label}: at most {LEADS_PER_ENTRY_MAX:,} in one entry; "
        "log a larger batch as several entries.",
    )


class TeamFigure(models.Model):
    """What every figure a team logs has: its team (declared by each kind, with
    its own related name), a date (``date_field``) and the month it falls in,
    who logged it, the form's client token, and its history."""

    date_field: ClassVar[str]

    month = models.DateField(editable=False, db_index=True)
    # Set by the form; posting the same form twice then finds the first row.
    client_token = models.UUIDField(null=True, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = history_records(excluded_fields=["updated_at"], inherit=True)

    objects = TeamSubmissionQuerySet.as_manager()

    class Meta:
        abstract = True

    def clean(self) -> None:
        day = getattr(self, self.date_field)
        if isinstance(day, date):
            self.month = periods.month_of(day)

    @property
    def responsible_team(self) -> Team:
        return self.team  # type: ignore[attr-defined]


class LeadLogEntry(TeamFigure):
    """Leads a team delivered on one day (or a batch it logs under one date)."""

    date_field = "date"

    team = models.ForeignKey(
        Team,
        on_delete=models.PROTECT,
        related_name="lead_log_entries",
        help_text="The team that delivers the leads.",
    )
    date = models.DateField(validators=[periods.check_day])
    leads_delivered = models.IntegerField(
        validators=[_not_negative("Leads"), _at_most_per_entry("Leads")],
        help_text=f"At most {LEADS_PER_ENTRY_MAX:,} in one entry.",
    )
    qualified_leads = models.IntegerField(
        default=0,
        validators=[
            _not_negative("Qualified leads"),
            _at_most_per_entry("Qualified leads"),
        ],
        help_text="How many of the delivered leads were qualified.",
    )
    source = models.CharField(
        "source or campaign",
        max_length=150,
        blank=True,
        default="",
        validators=[single_line],
    )
    note = models.TextField(blank=True, default="", validators=[multi_line])

    class Meta:
        verbose_name_plural = "lead log entries"
        ordering = ["-date", "-pk"]
        indexes = [models.Index(fields=["team", "month"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(leads_delivered__lte=LEADS_PER_ENTRY_MAX)
                & Q(qualified_leads__lte=LEADS_PER_ENTRY_MAX),
                name="lead_log_counts_at_most_per_entry",
            ),
            models.CheckConstraint(
                condition=Q(date__gte=periods.FIRST_DAY)
                & Q(date__lte=periods.LAST_DAY),
                name="lead_log_date_in_range",
            ),
            models.CheckConstraint(
                condition=Q(leads_delivered__gte=0),
                name="lead_log_delivered_not_negative",
                violation_error_message="Leads cannot be negative.",
            ),
            models.CheckConstraint(
                condition=Q(qualified_leads__gte=0),
                name="lead_log_qualified_not_negative",
                violation_error_message="Qualified leads cannot be negative.",
            ),
            models.CheckConstraint(
                condition=Q(qualified_leads__lte=F("leads_delivered")),
                name="lead_log_qualified_within_delivered",
                violation_error_message="Qualified leads cannot be more than the "
                "leads delivered.",
            ),
            models.CheckConstraint(
                condition=Q(month__lte=F("date")),
                name="lead_log_month_not_after_date",
            ),
            models.UniqueConstraint(
                fields=["team", "client_token"],
                name="lead_log_one_row_per_client_token",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.team}: {self.leads_delivered} leads on {self.date:%d %b %Y}"

    def clean(self) -> None:
        super().clean()
        if (
            isinstance(self.leads_delivered, int)
            and isinstance(self.qualified_leads, int)
            and 0 <= self.leads_delivered < self.qualified_leads
        ):
            raise ValidationError(
                {
                    "qualified_leads": ValidationError(
                        "Qualified leads (%(qualified)s) cannot be more than the "
                        "leads delivered (%(delivered)s).",
                        code="more_than_delivered",
                        params={
                            "qualified": self.qualified_leads,
                            "delivered": self.leads_delivered,
                        },
                    )
                }
            )


class ClosedCustomer(TeamFigure):
    """A customer a sales team closed, handed over to the team that serves it."""

    date_field = "closed_on"

    team = models.ForeignKey(
        Team,
        on_delete=models.PROTECT,
        related_name="closed_customers",
        help_text="The team that closed the customer.",
    )
    customer = models.CharField(
        "customer name", max_length=200, validators=[single_line]
    )
    closed_on = models.DateField(validators=[periods.check_day])
    deal_value = models.DecimalField(
        max_digits=14,
        decimal_places=2,
        default=Decimal("0"),
        validators=[_not_negative("The deal value")],
    )
    handover_notes = models.TextField(
        validators=[multi_line],
        blank=True,
        default="",
        help_text="What the team taking over the customer needs to know.",
    )
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-closed_on", "-pk"]
        indexes = [models.Index(fields=["team", "month"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(closed_on__gte=periods.FIRST_DAY)
                & Q(closed_on__lte=periods.LAST_DAY),
                name="closed_customer_date_in_range",
            ),
            models.CheckConstraint(
                condition=Q(deal_value__gte=0),
                name="closed_customer_value_not_negative",
                violation_error_message="The deal value cannot be negative.",
            ),
            models.CheckConstraint(
                condition=Q(month__lte=F("closed_on")),
                name="closed_customer_month_not_after_date",
            ),
            models.CheckConstraint(
                condition=Q(acknowledged_by__isnull=True, acknowledged_at__isnull=True)
                | Q(acknowledged_by__isnull=False, acknowledged_at__isnull=False),
                name="closed_customer_acknowledged_by_and_at",
            ),
            models.UniqueConstraint(
                fields=["team", "client_token"],
                name="closed_customer_one_row_per_client_token",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer} (closed by {self.team} on {self.closed_on:%d %b %Y})"

    def clean(self) -> None:
        super().clean()
        if isinstance(self.customer, str) and self.customer:
            self.customer = self.customer.strip()
            if not self.customer:
                raise ValidationError({"customer": "Name the customer."})

    @property
    def is_acknowledged(self) -> bool:
        return self.acknowledged_at is not None


class MeasurementQuerySet(models.QuerySet):
    def visible_to(self, user) -> MeasurementQuerySet:
        """Measurements of agreements the user's teams are party to, or all
        for executives."""
        everything = can_read_everything(user)
        if everything is not None:
            return self if everything else self.none()
        mine = member_team_ids(user)
        return self.filter(
            Q(objective__agreement__provider__in=mine)
            | Q(objective__agreement__consumer__in=mine)
        )

    def for_month(self, month) -> MeasurementQuerySet:
        return self.filter(month=month)


# Allowed values by the objective's unit, and what to say when a value is
# outside them. The unit lives on the objective, so the database can only check
# "not negative" (true of every unit); clean() checks a percentage's upper bound.
UNIT_RANGES: dict[str, tuple[Decimal, Decimal | None, str]] = {
    Objective.Unit.PERCENT: (
        Decimal("0"),
        Decimal("100"),
        "A percentage must be between 0 and 100.",
    ),
    Objective.Unit.HOURS: (Decimal("0"), None, "Hours cannot be negative."),
    Objective.Unit.COUNT: (Decimal("0"), None, "A count cannot be negative."),
    Objective.Unit.MONEY: (Decimal("0"), None, "An amount cannot be negative."),
}


class Measurement(models.Model):
    """A value the provider's lead enters for a manual objective, once a month."""

    objective = models.ForeignKey(
        Objective, on_delete=models.PROTECT, related_name="measurements"
    )
    month = models.DateField(
        db_index=True,
        validators=[periods.check_month],
        help_text="The first day of the month.",
    )
    value = models.DecimalField(max_digits=12, decimal_places=2)
    note = models.TextField(blank=True, default="", validators=[multi_line])
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = history_records(excluded_fields=["updated_at"])

    objects = MeasurementQuerySet.as_manager()

    class Meta:
        ordering = ["-month", "objective"]
        constraints = [
            models.CheckConstraint(
                condition=Q(month__gte=periods.FIRST_MONTH)
                & Q(month__lte=periods.LAST_MONTH),
                name="measurement_month_in_range",
            ),
            models.UniqueConstraint(
                fields=["objective", "month"],
                name="one_measurement_per_objective_and_month",
                violation_error_message="This objective already has a measurement "
                "for this month.",
            ),
            models.CheckConstraint(
                condition=Q(value__gte=0),
                name="measurement_value_not_negative",
                violation_error_message="The value cannot be negative.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.objective}: {self.value} ({self.month:%b %Y})"

    def clean(self) -> None:
        from agreements.periods import month_of

        errors = {}
        if isinstance(self.month, date):
            self.month = month_of(self.month)
        if self.objective_id is not None:
            objective = self.objective
            if objective.metric_source != Objective.Source.MANUAL:
                errors["objective"] = (
                    f"“{objective.name}” is counted from "
                    f"{objective.get_metric_source_display().lower()}, not "
                    "measured by hand: log those instead."
                )
            elif isinstance(self.value, Decimal):
                low, high, message = UNIT_RANGES[objective.unit]
                if self.value < low or (high is not None and self.value > high):
                    errors["value"] = ValidationError(message, code="out_of_range")
        if errors:
            raise ValidationError(errors)

    @property
    def responsible_team(self) -> Team:
        return self.objective.agreement.provider
