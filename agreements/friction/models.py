"""Friction reports (customer pain points a team passes on to another team's
head) and their comments."""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.db import models
from django.db.models import Case, F, IntegerField, Q, Value, When
from django.db.models.functions import Length, Lower
from django.db.models.lookups import LessThanOrEqual
from django.utils import timezone
from django.utils.text import slugify

from .. import periods
from ..history import history_records
from ..models.common import can_read_everything, member_team_ids, text_search
from ..models.teams import Team
from ..validators import multi_line, single_line
from .knowledge_models import PainPoint

TAGS_MAX_LENGTH = 255
TAG_MAX_LENGTH = 40
COMMENT_MAX_LENGTH = 4000


def normalise_tags(value: str | Iterable[str] | None) -> str:
    """``"Billing, late invoices ,billing"`` → ``"billing,late-invoices"``.

    Tags are stored lower-case, as slugs, sorted, without duplicates, joined by
    commas: one text column that filters exactly (``tagged()``) on SQLite and
    PostgreSQL alike, and whose changes history records like any other field.
    """
    if value is None:
        return ""
    parts = value.split(",") if isinstance(value, str) else list(value)
    tags = {slugify(part.strip(), allow_unicode=True) for part in parts}
    return ",".join(sorted(tag for tag in tags if tag))


def split_tags(value: str) -> list[str]:
    return [tag for tag in (value or "").split(",") if tag]


def tag_q(tag: str, field: str = "tags") -> Q:
    """Rows whose normalised tag list in ``field`` contains exactly ``tag``."""
    tag = normalise_tags(tag)
    if not tag:
        return Q()
    return (
        Q(**{field: tag})
        | Q(**{f"{field}__startswith": f"{tag},"})
        | Q(**{f"{field}__endswith": f",{tag}"})
        | Q(**{f"{field}__contains": f",{tag},"})
    )


class FrictionReportQuerySet(models.QuerySet):
    def visible_to(self, user) -> FrictionReportQuerySet:
        """Reports the user may read: filed by or addressed to one of their
        teams, or all for executives."""
        everything = can_read_everything(user)
        if everything is not None:
            return self if everything else self.none()
        mine = member_team_ids(user)
        return self.filter(Q(reporting_team__in=mine) | Q(addressed_team__in=mine))

    def for_month(self, month) -> FrictionReportQuerySet:
        return self.filter(month=month)

    def tagged(self, tag: str) -> FrictionReportQuerySet:
        """Reports carrying exactly this tag (not merely a tag containing it)."""
        tag = normalise_tags(tag)
        if "," in tag:  # several tags given: not one tag to match exactly
            return self.none()
        return self.filter(tag_q(tag))

    def open(self) -> FrictionReportQuerySet:
        return self.exclude(status__in=FrictionReport.CLOSED_STATUSES)

    def with_urgency(self) -> FrictionReportQuerySet:
        """Alias ``closed_rank`` (0 open, 1 closed) and ``severity_rank`` (0
        critical … 3 low), the terms ``by_urgency`` sorts by."""
        ranks = FrictionReport.SEVERITY_RANKS
        return self.alias(
            closed_rank=Case(
                When(status__in=FrictionReport.CLOSED_STATUSES, then=Value(1)),
                default=Value(0),
                output_field=IntegerField(),
            ),
            severity_rank=Case(
                *(When(severity=value, then=Value(rank)) for value, rank in ranks),
                default=Value(len(ranks)),
                output_field=IntegerField(),
            ),
        )

    def by_urgency(self) -> FrictionReportQuerySet:
        """Open reports before closed ones, then the most severe first, then
        the oldest first: what needs someone now comes to the top."""
        return self.with_urgency().order_by(*FrictionReport.URGENCY_ORDER)

    def search(self, text: str) -> FrictionReportQuerySet:
        text = (text or "").strip()
        if not text:
            return self
        matches = text_search(
            FrictionReport.objects.all(),
            text,
            ["customer", "description", "business_impact", "suggested_action"],
        )
        # A subquery keeps the annotation out of this queryset, so it can still
        # be aggregated and combined with other filters.
        return self.filter(pk__in=matches.values("pk"))


class FrictionReport(models.Model):
    """A customer pain point one team reports to another team's head."""

    Category = PainPoint.Category

    class Severity(models.TextChoices):
        LOW = "low", "Low"
        MEDIUM = "medium", "Medium"
        HIGH = "high", "High"
        CRITICAL = "critical", "Critical"

    class Status(models.TextChoices):
        NEW = "new", "New"
        ACKNOWLEDGED = "acknowledged", "Acknowledged"
        IN_PROGRESS = "in_progress", "In progress"
        RESOLVED = "resolved", "Resolved"
        WONT_FIX = "wont_fix", "Won't fix"

    # Where each status may go next. Resolved and won't fix are final: a
    # problem that comes back is a new report, so the counts stay honest.
    TRANSITIONS = {
        Status.NEW: (Status.ACKNOWLEDGED,),
        Status.ACKNOWLEDGED: (Status.IN_PROGRESS, Status.RESOLVED, Status.WONT_FIX),
        Status.IN_PROGRESS: (Status.RESOLVED, Status.WONT_FIX),
        Status.RESOLVED: (),
        Status.WONT_FIX: (),
    }
    CLOSED_STATUSES = (Status.RESOLVED, Status.WONT_FIX)
    # The most severe first (``FrictionReportQuerySet.with_urgency``).
    SEVERITY_RANKS = (
        (Severity.CRITICAL, 0),
        (Severity.HIGH, 1),
        (Severity.MEDIUM, 2),
        (Severity.LOW, 3),
    )
    URGENCY_ORDER = ("closed_rank", "severity_rank", "created_at", "pk")

    reporting_team = models.ForeignKey(
        Team, on_delete=models.PROTECT, related_name="friction_reports_filed"
    )
    addressed_team = models.ForeignKey(
        Team,
        on_delete=models.PROTECT,
        related_name="friction_reports_received",
        help_text="The team whose head receives the report.",
    )
    addressed_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="friction_reports_received",
        help_text="The head of the addressed team when the report was filed.",
    )
    customer = models.CharField(max_length=200, validators=[single_line])
    category = models.CharField(max_length=12, choices=Category.choices)
    severity = models.CharField(
        max_length=10, choices=Severity.choices, default=Severity.MEDIUM
    )
    description = models.TextField(validators=[multi_line])
    business_impact = models.TextField(blank=True, default="", validators=[multi_line])
    suggested_action = models.TextField(blank=True, default="", validators=[multi_line])
    tags = models.CharField(
        validators=[single_line],
        max_length=TAGS_MAX_LENGTH,
        blank=True,
        default="",
        help_text="Comma-separated, e.g. “invoices, late payment”.",
    )
    status = models.CharField(
        max_length=12, choices=Status.choices, default=Status.NEW, db_index=True
    )
    month = models.DateField(
        db_index=True,
        validators=[periods.check_month],
        help_text="The month it is filed for.",
    )
    pain_point = models.ForeignKey(
        PainPoint,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="reports",
    )
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="friction_reports_assigned",
        help_text="The member of the addressed team who looks after it.",
    )
    due_date = models.DateField(
        null=True,
        blank=True,
        editable=False,
        help_text="When the addressed team means to have it resolved.",
    )
    client_token = models.UUIDField(null=True, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True, editable=False)
    closed_at = models.DateTimeField(null=True, blank=True, editable=False)
    history = history_records(excluded_fields=["updated_at"])

    objects = FrictionReportQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["reporting_team", "month"]),
            models.Index(fields=["addressed_team", "status"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(reporting_team=F("addressed_team")),
                name="friction_report_teams_differ",
                violation_error_message="A team cannot address a friction report "
                "to itself.",
            ),
            models.CheckConstraint(
                condition=Q(
                    status__in=[
                        "new",
                        "acknowledged",
                        "in_progress",
                        "resolved",
                        "wont_fix",
                    ]
                ),
                name="friction_report_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(severity__in=["low", "medium", "high", "critical"]),
                name="friction_report_severity_valid",
            ),
            models.CheckConstraint(
                condition=Q(
                    category__in=[
                        "product",
                        "onboarding",
                        "billing",
                        "support",
                        "pricing",
                        "other",
                    ]
                ),
                name="friction_report_category_valid",
            ),
            models.CheckConstraint(
                condition=~Q(tags__contains=" ") & Q(tags=Lower("tags")),
                name="friction_report_tags_normalised",
            ),
            models.CheckConstraint(
                condition=Q(closed_at__isnull=True)
                | Q(status__in=["resolved", "wont_fix"]),
                name="friction_report_closed_at_only_when_closed",
            ),
            models.UniqueConstraint(
                fields=["reporting_team", "client_token"],
                name="friction_report_one_row_per_client_token",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer}: {self.get_category_display()} ({self.reporting_team})"

    def clean(self) -> None:
        errors = {}
        if isinstance(self.customer, str) and self.customer:
            self.customer = self.customer.strip()
            if not self.customer:
                errors["customer"] = "Name the customer."
        if isinstance(self.description, str) and self.description.isspace():
            errors["description"] = "Describe what the customer runs into."
        self.tags = normalise_tags(self.tags)
        too_long = [tag for tag in split_tags(self.tags) if len(tag) > TAG_MAX_LENGTH]
        if too_long:
            errors["tags"] = (
                f"A tag can be at most {TAG_MAX_LENGTH} characters: shorten "
                f"“{too_long[0]}”."
            )
        elif len(self.tags) > TAGS_MAX_LENGTH:
            errors["tags"] = "Too many tags: keep the most telling few."
        if self.reporting_team_id and self.reporting_team_id == self.addressed_team_id:
            errors["addressed_team"] = (
                "A team cannot address a friction report to itself."
            )
        if errors:
            raise ValidationError(errors)

    @property
    def tag_list(self) -> list[str]:
        return split_tags(self.tags)

    @property
    def is_closed(self) -> bool:
        return self.status in self.CLOSED_STATUSES

    @property
    def responsible_team(self) -> Team:
        return self.reporting_team

    @property
    def is_overdue(self) -> bool:
        """Past its due date (in the organisation's time zone) and not
        resolved: both teams see it as overdue."""
        return (
            self.due_date is not None
            and not self.is_closed
            and self.due_date < periods.today()
        )

    @property
    def age_days(self) -> int:
        """Whole days since it was filed; a closed report's age stops at the
        day it was closed."""
        end = self.closed_at or timezone.now()
        return max((end - self.created_at).days, 0)

    @property
    def age_text(self) -> str:
        """``"under a day"``, ``"1 day"``, ``"12 days"``."""
        days = self.age_days
        if days == 0:
            return "under a day"
        return "1 day" if days == 1 else f"{days} days"

    def allowed_transitions(self) -> tuple[str, ...]:
        return self.TRANSITIONS[self.status]

    def can_move_to(self, status: str) -> bool:
        return status in self.TRANSITIONS.get(self.status, ())


class FrictionCommentQuerySet(models.QuerySet):
    def visible_to(self, user) -> FrictionCommentQuerySet:
        """Comments on reports the user may read."""
        return self.filter(report__in=FrictionReport.objects.visible_to(user))


class FrictionComment(models.Model):
    """A comment on a friction report; a status change is recorded as a
    comment too (``new_status``), so a report's page reads as one timeline."""

    report = models.ForeignKey(
        FrictionReport, on_delete=models.CASCADE, related_name="comments"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    team = models.ForeignKey(
        Team,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The side the author spoke for: the reporting or the addressed team.",
    )
    body = models.TextField(
        blank=True,
        default="",
        max_length=COMMENT_MAX_LENGTH,
        validators=[multi_line, MaxLengthValidator(COMMENT_MAX_LENGTH)],
    )
    new_status = models.CharField(
        max_length=12,
        choices=FrictionReport.Status.choices,
        blank=True,
        default="",
        help_text="Set when the comment records a status change.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    history = history_records()

    objects = FrictionCommentQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(body="") | ~Q(new_status=""),
                name="friction_comment_not_empty",
                violation_error_message="Write a comment.",
            ),
            models.CheckConstraint(
                condition=LessThanOrEqual(Length("body"), COMMENT_MAX_LENGTH),
                name="friction_comment_not_too_long",
                violation_error_message=f"A comment can be at most "
                f"{COMMENT_MAX_LENGTH} characters.",
            ),
        ]

    def __str__(self) -> str:
        return f"Comment by {self.author} on {self.report}"
