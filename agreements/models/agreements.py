from __future__ import annotations

import uuid
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower
from simple_history.models import HistoricalRecords

from .teams import Team


class AgreementQuerySet(models.QuerySet):
    def visible_to(self, user) -> AgreementQuerySet:
        """Agreements the user may read: their teams' agreements, or all for
        executives. Everything else is a 404 for them."""
        from agreements.rules import is_executive

        if not user.is_authenticated or not user.is_active:
            return self.none()
        if is_executive(user):
            return self
        teams = Team.objects.filter(memberships__user=user).values("pk")
        return self.filter(Q(provider__in=teams) | Q(consumer__in=teams))

    def active(self) -> AgreementQuerySet:
        return self.filter(status=Agreement.Status.ACTIVE)

    def involving(self, team: Team) -> AgreementQuerySet:
        return self.filter(Q(provider=team) | Q(consumer=team))


class Agreement(models.Model):
    """A promise of service levels from a provider team to a consumer team.

    Versions of one agreement share a ``lineage``; a revision is a new row that
    ``supersedes`` the previous version and replaces it when it becomes active.
    """

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PROPOSED = "proposed", "Proposed"
        ACTIVE = "active", "Active"
        RETIRED = "retired", "Retired"

    class Remedy(models.TextChoices):
        NONE = "none", "No structured remedy"
        MAKE_UP = "make_up", "Make up the shortfall next month"
        ESCALATE = "escalate", "Escalate to the provider's head"
        CREDIT = "credit", "Internal credit per miss"

    provider = models.ForeignKey(
        Team,
        on_delete=models.PROTECT,
        related_name="agreements_provided",
        help_text="The team that makes the promise.",
    )
    consumer = models.ForeignKey(
        Team,
        on_delete=models.PROTECT,
        related_name="agreements_consumed",
        help_text="The team the promise is made to.",
    )
    title = models.CharField(max_length=150)
    summary = models.TextField(blank=True)
    effective_from = models.DateField()
    effective_to = models.DateField(
        null=True, blank=True, help_text="Leave empty for an open-ended agreement."
    )
    review_on = models.DateField(
        null=True, blank=True, help_text="When both teams should look at it again."
    )
    compensation_clause = models.TextField(
        help_text="What happens when an objective is missed."
    )
    remedy = models.CharField(
        max_length=10, choices=Remedy.choices, default=Remedy.NONE
    )
    remedy_credit = models.DecimalField(
        "credit per miss",
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.01"))],
        help_text="Only for an internal credit remedy.",
    )
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.DRAFT, db_index=True
    )
    lineage = models.UUIDField(default=uuid.uuid4, editable=False, db_index=True)
    version = models.PositiveIntegerField(default=1, editable=False)
    supersedes = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="superseded_by",
    )
    # Optimistic locking: each save of a draft bumps it, and a save based on an
    # older value is refused instead of overwriting someone else's edit.
    edit_count = models.PositiveIntegerField(default=0, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    proposed_at = models.DateTimeField(null=True, blank=True, editable=False)
    activated_at = models.DateTimeField(null=True, blank=True, editable=False)
    retired_at = models.DateTimeField(null=True, blank=True, editable=False)
    history = HistoricalRecords(excluded_fields=["updated_at"])

    objects = AgreementQuerySet.as_manager()

    class Meta:
        ordering = ["provider__name", "consumer__name", "title", "-version"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(provider=F("consumer")),
                name="agreement_parties_differ",
                violation_error_message="The provider and the consumer must be "
                "two different teams.",
            ),
            models.CheckConstraint(
                condition=Q(effective_to__isnull=True)
                | Q(effective_to__gte=F("effective_from")),
                name="agreement_ends_after_start",
                violation_error_message="The end date must not be before the "
                "start date.",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["draft", "proposed", "active", "retired"]),
                name="agreement_status_valid",
            ),
            models.CheckConstraint(
                condition=~Q(remedy="credit") | Q(remedy_credit__gt=0),
                name="agreement_credit_has_amount",
                violation_error_message="An internal credit remedy needs a credit "
                "amount above zero.",
            ),
            models.CheckConstraint(
                condition=Q(version__gte=1), name="version_positive"
            ),
            models.UniqueConstraint(
                fields=["lineage", "version"], name="one_row_per_version"
            ),
            models.UniqueConstraint(
                fields=["lineage"],
                condition=Q(status="active"),
                name="one_active_version",
                violation_error_message="Another version of this agreement is "
                "already active.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.provider} → {self.consumer}, v{self.version})"

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("agreements:detail", args=[self.pk])

    def clean(self) -> None:
        errors = {}
        if self.provider_id and self.provider_id == self.consumer_id:
            errors["consumer"] = (
                "The provider and the consumer must be two different teams."
            )
        if (
            self.effective_from
            and self.effective_to
            and self.effective_to < self.effective_from
        ):
            errors["effective_to"] = "The end date must not be before the start date."
        if self.remedy == self.Remedy.CREDIT and not self.remedy_credit:
            errors["remedy_credit"] = "Give the credit owed for each miss."
        if self.remedy != self.Remedy.CREDIT and self.remedy_credit:
            errors["remedy_credit"] = (
                "A credit amount only applies to the internal credit remedy."
            )
        if errors:
            raise ValidationError(errors)

    @property
    def parties(self) -> tuple[Team, Team]:
        return (self.provider, self.consumer)

    @property
    def is_editable(self) -> bool:
        return self.status == self.Status.DRAFT

    @property
    def remedy_text(self) -> str:
        if self.remedy == self.Remedy.CREDIT:
            return f"Internal credit of {self.remedy_credit} per miss"
        if self.remedy == self.Remedy.NONE:
            return ""
        return self.Remedy(self.remedy).label


class Objective(models.Model):
    """One service level inside an agreement, measured each month."""

    class Source(models.TextChoices):
        LEADS_DELIVERED = "leads_delivered", "Leads delivered"
        QUALIFIED_LEADS = "qualified_leads", "Qualified leads"
        CUSTOMERS_CLOSED = "customers_closed", "Customers closed"
        FRICTION_REPORTS = "friction_reports", "Friction reports filed"
        MANUAL = "manual", "Manual measurement"

    class Comparator(models.TextChoices):
        AT_LEAST = "at_least", "at least"
        AT_MOST = "at_most", "at most"

    class Unit(models.TextChoices):
        COUNT = "count", "count"
        PERCENT = "percent", "%"
        HOURS = "hours", "hours"
        MONEY = "money", "money"

    class Period(models.TextChoices):
        MONTHLY = "monthly", "Monthly"

    COUNTED_SOURCES = (
        Source.LEADS_DELIVERED,
        Source.QUALIFIED_LEADS,
        Source.CUSTOMERS_CLOSED,
        Source.FRICTION_REPORTS,
    )

    agreement = models.ForeignKey(
        Agreement, on_delete=models.CASCADE, related_name="objectives"
    )
    name = models.CharField(max_length=120)
    metric_source = models.CharField(max_length=20, choices=Source.choices)
    comparator = models.CharField(
        max_length=10, choices=Comparator.choices, default=Comparator.AT_LEAST
    )
    target = models.DecimalField(max_digits=12, decimal_places=2)
    unit = models.CharField(max_length=10, choices=Unit.choices, default=Unit.COUNT)
    weight = models.DecimalField(
        max_digits=6,
        decimal_places=2,
        default=Decimal("1"),
        help_text="Share of the agreement's score, relative to the other objectives.",
    )
    warning_threshold = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="Early-warning level in the same unit: met, but at risk, "
        "between the target and this value.",
    )
    period = models.CharField(
        max_length=10, choices=Period.choices, default=Period.MONTHLY
    )
    position = models.PositiveSmallIntegerField(default=0)
    history = HistoricalRecords()

    class Meta:
        ordering = ["agreement", "position", "pk"]
        constraints = [
            models.UniqueConstraint(
                "agreement",
                Lower("name"),
                name="objective_name_unique_in_agreement",
                violation_error_message="Two objectives of one agreement cannot "
                "have the same name.",
            ),
            models.CheckConstraint(
                condition=Q(target__gt=0),
                name="objective_target_positive",
                violation_error_message="The target must be above zero.",
            ),
            models.CheckConstraint(
                condition=~Q(unit="percent") | Q(target__lte=100),
                name="objective_percent_at_most_100",
                violation_error_message="A percentage target cannot be over 100.",
            ),
            models.CheckConstraint(
                condition=Q(weight__gt=0),
                name="objective_weight_positive",
                violation_error_message="The weight must be above zero.",
            ),
            models.CheckConstraint(
                condition=Q(metric_source="manual") | Q(unit="count"),
                name="objective_counted_source_in_count",
                violation_error_message="Leads, customers and friction reports "
                "are counted: their unit is count.",
            ),
            models.CheckConstraint(
                condition=Q(comparator__in=["at_least", "at_most"]),
                name="objective_comparator_valid",
            ),
            models.CheckConstraint(
                condition=Q(
                    metric_source__in=[
                        "leads_delivered",
                        "qualified_leads",
                        "customers_closed",
                        "friction_reports",
                        "manual",
                    ]
                ),
                name="objective_source_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        errors = {}
        if self.target is not None and self.target <= 0:
            errors["target"] = "The target must be above zero."
        if (
            self.unit == self.Unit.PERCENT
            and self.target is not None
            and self.target > 100
        ):
            errors["target"] = "A percentage target cannot be over 100."
        if self.weight is not None and self.weight <= 0:
            errors["weight"] = "The weight must be above zero."
        if self.metric_source in self.COUNTED_SOURCES and self.unit != self.Unit.COUNT:
            errors["unit"] = (
                "Leads, customers and friction reports are counted: use count."
            )
        threshold = self.warning_threshold
        if threshold is not None and self.target is not None:
            if self.unit == self.Unit.PERCENT and not 0 <= threshold <= 100:
                errors["warning_threshold"] = "A percentage must be between 0 and 100."
            elif threshold < 0:
                errors["warning_threshold"] = "The warning level cannot be negative."
            elif (
                self.comparator == self.Comparator.AT_LEAST and threshold < self.target
            ):
                errors["warning_threshold"] = (
                    "For an “at least” objective the warning level is at or above "
                    "the target (an early warning before a miss)."
                )
            elif self.comparator == self.Comparator.AT_MOST and threshold > self.target:
                errors["warning_threshold"] = (
                    "For an “at most” objective the warning level is at or below "
                    "the target (an early warning before a miss)."
                )
        if errors:
            raise ValidationError(errors)

    @property
    def describe(self) -> str:
        """“at least 200 leads”, “at most 3 hours”, “at least 99 %”."""
        target = f"{self.target.normalize():f}"
        unit = {
            self.Unit.COUNT: "",
            self.Unit.PERCENT: " %",
            self.Unit.HOURS: " hours",
            self.Unit.MONEY: "",
        }[self.unit]
        return f"{self.get_comparator_display()} {target}{unit}"


class Signature(models.Model):
    """A lead, manager or head signing an agreement for one of its parties."""

    agreement = models.ForeignKey(
        Agreement, on_delete=models.CASCADE, related_name="signatures"
    )
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="+")
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    role = models.CharField(max_length=10, help_text="The signer's role at signing.")
    signed_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["signed_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["agreement", "team"],
                name="one_signature_per_party",
                violation_error_message="This team has already signed.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.signed_by} for {self.team}"
