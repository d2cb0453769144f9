from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any, NamedTuple

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower

from .. import periods
from ..access import is_executive
from ..history import history_records
from ..validators import multi_line, positive, single_line
from .teams import Team

# Both parties signed: in force now, in the future, or in the past.
SIGNED = ("active", "retired")


def in_force_q(month: dt.date, prefix: str = "") -> Q:
    """Agreements in force during ``month`` (``prefix="agreement__"`` to
    filter objectives): signed by both parties before the month locked, not
    retired before it began, and dated to cover it.

    An agreement signed after a month locked is never scored for that month:
    nobody could have reported for it under the agreement, so nothing is
    owed (a revision signed late leaves the earlier version in force there).
    """
    p = prefix
    month = periods.month_of(month)
    active = Q(**{f"{p}status": "active"})
    # A retired agreement still counts for the months up to its retirement.
    retired_later = Q(
        **{f"{p}status": "retired", f"{p}retired_at__gte": periods.month_start(month)}
    )
    signed_in_time = Q(**{f"{p}activated_at__isnull": True}) | Q(
        **{f"{p}activated_at__lt": periods.deadline(month)}
    )
    starts = Q(**{f"{p}effective_from__lt": periods.next_month(month)})
    ends = Q(**{f"{p}effective_to__isnull": True}) | Q(
        **{f"{p}effective_to__gte": month}
    )
    return (active | retired_later) & signed_in_time & starts & ends


class Terms(NamedTuple):
    """What an objective promises, as the scorecard engine judges it.
    Immutable; a named tuple, built several thousand times a computed
    month, costs under half what a frozen dataclass does."""

    comparator: str  # "at_least" | "at_most"
    target: Decimal
    weight: Decimal = Decimal(1)
    warning_threshold: Decimal | None = None
    cumulative: bool = True  # counted over the month: pace applies


def in_force_test(month: dt.date) -> Callable[[Agreement], bool]:
    """``Agreement.is_in_force`` for ``month``, its bounds worked out once
    for every agreement it is asked about (a month's deadline is a time
    zone's midnight, which is not free to find a thousand times)."""
    month = periods.month_of(month)
    begins, ends = periods.month_start(month), periods.next_month(month)
    deadline = periods.deadline(month)
    active, retired = Agreement.Status.ACTIVE, Agreement.Status.RETIRED

    def in_force(agreement: Agreement) -> bool:
        status = agreement.status
        if status == retired:
            retired_at = agreement.retired_at
            if retired_at is None or retired_at < begins:
                return False
        elif status != active:
            return False
        return (
            (agreement.activated_at is None or agreement.activated_at < deadline)
            and agreement.effective_from < ends
            and (agreement.effective_to is None or agreement.effective_to >= month)
        )

    return in_force


class AgreementQuerySet(models.QuerySet):
    def visible_to(self, user) -> AgreementQuerySet:
        """Agreements the user may read: their teams' agreements, or all for
        executives. Everything else is a 404 for them."""
        if not user.is_authenticated or not user.is_active:
            return self.none()
        if is_executive(user):
            return self
        teams = Team.objects.filter(memberships__user=user).values("pk")
        return self.filter(Q(provider__in=teams) | Q(consumer__in=teams))

    def active(self) -> AgreementQuerySet:
        return self.filter(status=Agreement.Status.ACTIVE)

    def signed(self) -> AgreementQuerySet:
        """Signed by both parties: active or retired."""
        return self.filter(status__in=SIGNED)

    def in_force(self, month: dt.date) -> AgreementQuerySet:
        """The versions in force in ``month`` (``in_force_q``)."""
        return self.filter(in_force_q(month))

    def involving(self, team: Team) -> AgreementQuerySet:
        return self.filter(Q(provider=team) | Q(consumer=team))

    def involving_any(self, team_ids) -> AgreementQuerySet:
        return self.filter(Q(provider__in=team_ids) | Q(consumer__in=team_ids))


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

    class Phase:
        """Where an agreement stands today, as its pages say it: the status
        alone cannot tell a signed agreement that has not started yet from
        one in force."""

        DRAFT = "draft"
        PROPOSED = "proposed"
        SIGNED = "signed"  # signed by both, starts later
        IN_FORCE = "in_force"
        ENDED = "ended"  # signed, its end date has passed
        RETIRED = "retired"

        LABELS = {
            DRAFT: "Draft",
            PROPOSED: "Proposed",
            SIGNED: "Signed, not started",
            IN_FORCE: "In force",
            ENDED: "Ended",
            RETIRED: "Retired",
        }

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
    title = models.CharField(max_length=150, validators=[single_line])
    summary = models.TextField(blank=True, validators=[multi_line])
    effective_from = models.DateField(validators=[periods.check_day])
    effective_to = models.DateField(
        null=True,
        blank=True,
        validators=[periods.check_day],
        help_text="Leave empty for an open-ended agreement.",
    )
    review_on = models.DateField(
        null=True,
        blank=True,
        validators=[periods.check_day],
        help_text="When both teams should look at it again, on or after the start.",
    )
    # What happens when an objective is missed: in words, as a structured
    # remedy, or both (clean() asks for one of them).
    compensation_clause = models.TextField(
        blank=True,
        validators=[multi_line],
        help_text="What happens when an objective is missed.",
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
        validators=[positive],
        help_text="Only for an internal credit remedy.",
    )
    remedy_credit_unit = models.CharField(
        "credit unit",
        max_length=30,
        blank=True,
        validators=[single_line],
        help_text="What the credit is counted in, e.g. EUR or support hours.",
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
    history = history_records(excluded_fields=["updated_at"])

    # Set by the scorecard engine (reports.selectors.engine.versions_in_force),
    # which reads every version's objectives in one query, as plain values.
    objective_rows: list[Any]
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
                condition=Q(effective_from__gte=periods.FIRST_DAY)
                & Q(effective_from__lte=periods.LAST_DAY)
                & (Q(effective_to__isnull=True) | Q(effective_to__lte=periods.LAST_DAY))
                & (Q(review_on__isnull=True) | Q(review_on__lte=periods.LAST_DAY)),
                name="agreement_dates_in_range",
                violation_error_message="Dates lie between 1 January 2000 and "
                "31 December 2100.",
            ),
            models.CheckConstraint(
                condition=Q(review_on__isnull=True)
                | Q(review_on__gte=F("effective_from")),
                name="agreement_review_after_start",
                violation_error_message="The review date must not be before the "
                "start date.",
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
        # Lists sorted by title stop after their first rows (the dashboard's
        # breaches: the first titles with one, not every breach sorted).
        indexes = [models.Index(fields=["title"], name="agreement_title")]

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
        if (
            self.effective_from
            and self.review_on
            and self.review_on < self.effective_from
        ):
            errors["review_on"] = "The review date must not be before the start date."
        if not (self.compensation_clause or "").strip() and (
            self.remedy in ("", self.Remedy.NONE)
        ):
            errors["compensation_clause"] = (
                "Say what happens when an objective is missed: in words, or "
                "choose a structured remedy."
            )
        if self.remedy == self.Remedy.CREDIT and not self.remedy_credit:
            errors["remedy_credit"] = "Give the credit owed for each miss."
        if self.remedy != self.Remedy.CREDIT and self.remedy_credit:
            errors["remedy_credit"] = (
                "A credit amount only applies to the internal credit remedy."
            )
        if self.remedy != self.Remedy.CREDIT and self.remedy_credit_unit:
            errors["remedy_credit_unit"] = (
                "A credit unit only applies to the internal credit remedy."
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
            amount = (
                f"{self.remedy_credit.normalize():,f}" if self.remedy_credit else ""
            )
            unit = f" {self.remedy_credit_unit}" if self.remedy_credit_unit else ""
            return f"Internal credit of {amount}{unit} per miss"
        if self.remedy == self.Remedy.NONE:
            return ""
        return self.Remedy(self.remedy).label

    @property
    def is_signed(self) -> bool:
        """Signed by both parties (in force now, later, or in the past)."""
        return self.status in SIGNED

    def is_in_force(self, month: dt.date) -> bool:
        """``in_force_q`` for an agreement already in memory."""
        return in_force_test(month)(self)

    def phase(self, today: dt.date | None = None) -> str:
        """One of ``Agreement.Phase`` on ``today`` (the organisation's today)."""
        today = today or periods.today()
        if self.status == self.Status.ACTIVE:
            if self.effective_from > today:
                return self.Phase.SIGNED
            if self.effective_to is not None and self.effective_to < today:
                return self.Phase.ENDED
            return self.Phase.IN_FORCE
        return self.status

    @property
    def phase_label(self) -> str:
        return self.Phase.LABELS[self.phase()]

    @property
    def phase_text(self) -> str:
        """“Signed, starts 1 Jan 2027”, “In force since 1 Jan 2026”, …"""
        phase = self.phase()
        start = _day(self.effective_from)
        if phase == self.Phase.SIGNED:
            return f"Signed, starts {start}"
        if phase == self.Phase.IN_FORCE:
            return f"In force since {start}"
        if phase == self.Phase.ENDED:
            return f"Ended {_day(self.effective_to)}"
        if phase == self.Phase.RETIRED and self.retired_at:
            return f"Retired {_day(periods.local_now(self.retired_at).date())}"
        return self.Phase.LABELS[phase]


def _day(day: dt.date) -> str:
    return f"{day.day} {day:%b %Y}"


class Objective(models.Model):
    """One service level inside an agreement, measured each month."""

    class Source(models.TextChoices):
        LEADS_DELIVERED = "leads_delivered", "Leads delivered"
        QUALIFIED_LEADS = "qualified_leads", "Qualified leads"
        CUSTOMERS_CLOSED = "customers_closed", "Customers closed"
        FRICTION_REPORTS = "friction_reports", "Friction reports filed"
        MANUAL = "manual", "Manual measurement"
        REQUEST_TIMES = "request_times", "Time to respond, from requests"
        AVAILABILITY = "availability", "Availability, from incidents"

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
    # Measured from request and incident records (agreements/records), with
    # a ``RecordMeasure`` saying how; the agreement editor does not offer
    # them yet (the API and the services do).
    RECORD_SOURCES = (Source.REQUEST_TIMES, Source.AVAILABILITY)
    # The units each way of measuring may be given in: what is counted is a
    # count, a figure from records is a share (%), a manual measurement any.
    # The model's clean refuses any other; the editor offers only these.
    UNITS_BY_SOURCE: dict[str, tuple[str, ...]] = {
        **dict.fromkeys(COUNTED_SOURCES, (Unit.COUNT,)),
        **dict.fromkeys(RECORD_SOURCES, (Unit.PERCENT,)),
        Source.MANUAL: tuple(Unit.values),
    }
    # While the agreement services validate an edit: the objective's
    # ``RecordMeasure`` (agreements.records), to save after the objective.
    new_measure: Any = None

    agreement = models.ForeignKey(
        Agreement, on_delete=models.CASCADE, related_name="objectives"
    )
    name = models.CharField(max_length=120, validators=[single_line])
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
    history = history_records()

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
                condition=Q(
                    metric_source__in=["manual", "request_times", "availability"]
                )
                | Q(unit="count"),
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
                        "request_times",
                        "availability",
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
        fits = self.UNITS_BY_SOURCE.get(self.metric_source, tuple(self.Unit.values))
        if self.unit not in fits:
            errors["unit"] = (
                "Leads, customers and friction reports are counted: use count."
                if self.metric_source in self.COUNTED_SOURCES
                else "A figure measured from records is a share of requests or "
                "of time: use %."
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
    def terms(self) -> Terms:
        """What the objective promises, as the scorecard engine judges it."""
        return Terms(
            comparator=self.comparator,
            target=Decimal(self.target),
            weight=Decimal(self.weight),
            warning_threshold=self.warning_threshold,
            cumulative=self.metric_source in self.COUNTED_SOURCES,
        )

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
    history = history_records()

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
