"""Records a team's tools send in, and how an objective is measured from them.

A ``RecordSource`` is one feed (a helpdesk's requests, a status page's
incidents). Every record is keyed by its source and the id the source gives
it (``external_id``), so sending it again finds the row it made; the
source's own ``updated_at`` orders updates (``services.records_upsert``).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q

from .. import periods
from ..calendars.models import WorkingCalendar
from ..history import history_records
from ..imports.headers import LEAD_STATUS_LABELS, LIFECYCLE_STAGE_LABELS, value_label
from ..models.agreements import Objective
from ..models.common import can_read_everything, member_team_ids
from ..models.teams import Team
from ..validators import multi_line, single_line
from . import measure


class RecordSourceQuerySet(models.QuerySet):
    def visible_to(self, user) -> RecordSourceQuerySet:
        """The sources of the user's teams, or all of them for executives;
        any other is a 404 for them."""
        everything = can_read_everything(user)
        if everything is not None:
            return self if everything else self.none()
        return self.filter(team__in=member_team_ids(user))


class RecordSource(models.Model):
    """One feed of records a team sends: requests, incidents (an incidents
    source also sends its maintenance windows) or leads from a CRM."""

    class Kind(models.TextChoices):
        REQUESTS = "requests", "Requests"
        INCIDENTS = "incidents", "Incidents and maintenance"
        LEADS = "leads", "Leads from a CRM"

    team = models.ForeignKey(
        Team,
        on_delete=models.PROTECT,
        related_name="record_sources",
        help_text="The team that owns the feed.",
    )
    name = models.CharField(
        max_length=100,
        validators=[single_line],
        help_text="E.g. the tool it comes from: Helpdesk, Status page.",
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    # How a CSV file's columns map onto a record's fields, saved from the
    # last import so the next one need not ask again.
    column_mapping = models.JSONField(null=True, blank=True)
    # Signs the requests of the source's webhook (``hooks``); empty, the
    # webhook is off. Set by ``sources.source_webhook_secret_rotate``.
    webhook_secret = models.CharField(max_length=100, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    # The secret stays out of the history: a rotated one must not live on.
    history = history_records(excluded_fields=["webhook_secret"])

    objects = RecordSourceQuerySet.as_manager()

    class Meta:
        ordering = ["team", "name", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["team", "name"],
                name="record_source_name_unique_per_team",
                violation_error_message="The team already has a source of this name.",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=["requests", "incidents", "leads"]),
                name="record_source_kind_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.team})"

    @property
    def webhook_enabled(self) -> bool:
        return bool(self.webhook_secret)

    @property
    def kind_words(self) -> str:
        """The kind inside a sentence: "requests", "leads from a CRM"."""
        label = str(self.get_kind_display())
        return label[:1].lower() + label[1:]

    @property
    def responsible_team(self) -> Team:
        """The team whose rules apply (``agreements.rules``)."""
        return self.team

    def clean(self) -> None:
        if isinstance(self.name, str):
            self.name = self.name.strip()
            if not self.name:
                raise ValidationError({"name": "Name the source."})


class ImportBatchQuerySet(models.QuerySet):
    def pending(self) -> ImportBatchQuerySet:
        return self.filter(status=ImportBatch.Status.PENDING)

    def expired(self, now: datetime) -> ImportBatchQuerySet:
        """Pending files uploaded more than ``PENDING_FOR`` ago: abandoned."""
        return self.pending().filter(created_at__lt=now - ImportBatch.PENDING_FOR)


class ImportBatch(models.Model):
    """One uploaded CSV file: waiting (its bytes kept here, not in the
    session) between the upload and the confirmation, then what importing
    it did, and whether it was undone.

    The records import fills ``source``; the figures import (lead log,
    closed customers) shares the table for its pending files, with
    ``kind`` figures, the team and the figures import in ``figures_kind``.
    """

    # An upload left unconfirmed this long is dropped (``clear_pending_imports``).
    PENDING_FOR = timedelta(days=1)

    class Kind(models.TextChoices):
        RECORDS = "records", "Records"
        FIGURES = "figures", "Figures"

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting to be imported"
        IMPORTED = "imported", "Imported"
        # Imported by a worker, chunk after chunk (``background``).
        RUNNING = "running", "Importing"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"
        UNDONE = "undone", "Undone"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    team = models.ForeignKey(
        Team, on_delete=models.PROTECT, related_name="import_batches"
    )
    source = models.ForeignKey(
        RecordSource,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="import_batches",
    )
    figures_kind = models.CharField(max_length=30, blank=True, default="")
    # The step URLs carry it, so a page left open on another file imports
    # nothing.
    token = models.CharField(max_length=32, unique=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="import_batches",
    )
    file_name = models.CharField(max_length=255)
    size = models.PositiveIntegerField(help_text="The file's size in bytes.")
    # SHA-256 of the decoded text, line endings normalised: the same data
    # saved again with a byte-order mark or as Windows-1252 has the same one.
    fingerprint = models.CharField(max_length=64, db_index=True)
    # The file while it waits; cleared once imported or cancelled.
    data = models.BinaryField(null=True, blank=True, editable=False)
    mapping = models.JSONField(null=True, blank=True)
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.PENDING
    )
    # Why records of locked months come late, kept for the worker that
    # imports the file in the background.
    reason = models.TextField(blank=True, default="")
    # A background import's progress: rows written of the file's rows.
    rows_total = models.PositiveIntegerField(default=0)
    rows_done = models.PositiveIntegerField(default=0)
    # Why a background import failed.
    error = models.TextField(blank=True, default="")
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    stale = models.PositiveIntegerField(default=0)
    # The months (first days) the import wrote records of: it can be undone
    # while every one of them is open.
    months = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    imported_at = models.DateTimeField(null=True, blank=True)
    undone_at = models.DateTimeField(null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # The file itself stays out of the history: it is dropped once used.
    history = history_records(excluded_fields=["data"])

    objects = ImportBatchQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["status", "created_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="records", source__isnull=False)
                | Q(kind="figures", source__isnull=True),
                name="import_batch_source_for_records_only",
            ),
            models.CheckConstraint(
                condition=Q(
                    status__in=[
                        "pending",
                        "running",
                        "imported",
                        "failed",
                        "cancelled",
                        "undone",
                    ]
                ),
                name="import_batch_status_valid",
            ),
            models.CheckConstraint(
                # The worker reads the file while it imports it.
                condition=Q(status__in=["pending", "running"]) | Q(data__isnull=True),
                name="import_batch_keeps_the_file_only_while_pending",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.get_status_display().lower()})"

    @property
    def month_dates(self) -> list[date]:
        return [periods.parse_month(text) for text in self.months]

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged + self.stale

    @property
    def percent_done(self) -> int:
        if not self.rows_total:
            return 0
        return min(100, self.rows_done * 100 // self.rows_total)


def _not_blank(field: str, prefix: str) -> models.CheckConstraint:
    return models.CheckConstraint(
        condition=~Q(**{field: ""}), name=f"{prefix}_{field}_not_blank"
    )


def _import_batch() -> models.ForeignKey:
    """The CSV import that last created or updated a record (``ImportBatch``)."""
    return models.ForeignKey(
        "ImportBatch",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )


def _unique_per_source(prefix: str) -> models.UniqueConstraint:
    return models.UniqueConstraint(
        fields=["source", "external_id"],
        name=f"{prefix}_external_id_unique_per_source",
        violation_error_message="The source already sent a record with this id.",
    )


class ServiceRequest(models.Model):
    """A request made to a provider team: when it came in, when it was first
    answered and resolved, and when its clock was paused (``pauses``)."""

    source = models.ForeignKey(
        RecordSource, on_delete=models.PROTECT, related_name="requests"
    )
    external_id = models.CharField(max_length=200, validators=[single_line])
    provider = models.ForeignKey(
        Team,
        on_delete=models.PROTECT,
        related_name="requests_received",
        help_text="The team asked.",
    )
    consumer = models.ForeignKey(
        Team,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="requests_made",
        help_text="The team that asked, when the source knows it.",
    )
    segment = models.CharField(
        max_length=50,
        blank=True,
        default="",
        validators=[single_line],
        help_text="E.g. a priority (P1) or a request type.",
    )
    started_at = models.DateTimeField()
    first_response_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(
        help_text="When the source last changed the request (orders updates)."
    )
    batch = _import_batch()
    received_at = models.DateTimeField(auto_now=True)
    history = history_records()

    class Meta:
        ordering = ["source", "started_at", "pk"]
        indexes = [models.Index(fields=["provider", "started_at"])]
        constraints = [
            _unique_per_source("service_request"),
            _not_blank("external_id", "service_request"),
            models.CheckConstraint(
                condition=Q(first_response_at__isnull=True)
                | Q(first_response_at__gte=F("started_at")),
                name="service_request_responded_after_start",
                violation_error_message="A request cannot be answered before it "
                "starts.",
            ),
            models.CheckConstraint(
                condition=Q(resolved_at__isnull=True)
                | Q(resolved_at__gte=F("started_at")),
                name="service_request_resolved_after_start",
                violation_error_message="A request cannot be resolved before it "
                "starts.",
            ),
        ]

    def __str__(self) -> str:
        return f"Request {self.external_id} to {self.provider}"

    def as_record(self) -> measure.RequestRecord:
        """The request for ``measure`` (reads its pauses: prefetch them)."""
        return measure.RequestRecord(
            external_id=self.external_id,
            started_at=self.started_at,
            first_response_at=self.first_response_at,
            resolved_at=self.resolved_at,
            segment=self.segment,
            pauses=tuple((p.started_at, p.ended_at) for p in self.pauses.all()),
        )


class RequestPause(models.Model):
    """A time the request's clock stood still (e.g. waiting for the asker)."""

    request = models.ForeignKey(
        ServiceRequest, on_delete=models.CASCADE, related_name="pauses"
    )
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(
        null=True, blank=True, help_text="Empty while the request is still paused."
    )
    history = history_records()

    class Meta:
        ordering = ["request", "started_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True) | Q(ended_at__gte=F("started_at")),
                name="request_pause_ends_after_it_starts",
                violation_error_message="A pause cannot end before it starts.",
            ),
        ]

    def __str__(self) -> str:
        return f"Pause of {self.request} from {self.started_at:%Y-%m-%d %H:%M}"


class Incident(models.Model):
    """A time a service was down (major) or degraded (partial)."""

    class Impact(models.TextChoices):
        MAJOR = measure.Impact.MAJOR.value, "Major outage"
        PARTIAL = measure.Impact.PARTIAL.value, "Partial outage"

    source = models.ForeignKey(
        RecordSource, on_delete=models.PROTECT, related_name="incidents"
    )
    external_id = models.CharField(max_length=200, validators=[single_line])
    component = models.CharField(
        max_length=200,
        blank=True,
        default="",
        validators=[single_line],
        help_text="Empty: the whole service.",
    )
    impact = models.CharField(max_length=10, choices=Impact.choices)
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(
        null=True, blank=True, help_text="Empty while the incident is open."
    )
    updated_at = models.DateTimeField(
        help_text="When the source last changed the incident (orders updates)."
    )
    batch = _import_batch()
    received_at = models.DateTimeField(auto_now=True)
    history = history_records()

    class Meta:
        ordering = ["source", "started_at", "pk"]
        indexes = [models.Index(fields=["source", "started_at"])]
        constraints = [
            _unique_per_source("incident"),
            _not_blank("external_id", "incident"),
            models.CheckConstraint(
                condition=Q(impact__in=["major", "partial"]),
                name="incident_impact_valid",
            ),
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True) | Q(ended_at__gte=F("started_at")),
                name="incident_ends_after_it_starts",
                violation_error_message="An incident cannot end before it starts.",
            ),
        ]

    def __str__(self) -> str:
        return f"Incident {self.external_id} ({self.get_impact_display().lower()})"

    def as_record(self) -> measure.IncidentRecord:
        return measure.IncidentRecord(
            external_id=self.external_id,
            started_at=self.started_at,
            ended_at=self.ended_at,
            impact=self.impact,
            component=self.component,
        )


class MaintenanceWindow(models.Model):
    """Planned work announced by the source; agreements may leave it out of
    the time they promise."""

    source = models.ForeignKey(
        RecordSource, on_delete=models.PROTECT, related_name="maintenance_windows"
    )
    external_id = models.CharField(max_length=200, validators=[single_line])
    component = models.CharField(
        max_length=200,
        blank=True,
        default="",
        validators=[single_line],
        help_text="Empty: the whole service.",
    )
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField()
    reason = models.TextField(validators=[multi_line])
    updated_at = models.DateTimeField(
        help_text="When the source last changed the window (orders updates)."
    )
    batch = _import_batch()
    received_at = models.DateTimeField(auto_now=True)
    history = history_records()

    class Meta:
        ordering = ["source", "started_at", "pk"]
        indexes = [models.Index(fields=["source", "started_at"])]
        constraints = [
            _unique_per_source("maintenance_window"),
            _not_blank("external_id", "maintenance_window"),
            models.CheckConstraint(
                condition=~Q(reason=""),
                name="maintenance_window_has_a_reason",
                violation_error_message="Say why the maintenance was needed.",
            ),
            models.CheckConstraint(
                condition=Q(ended_at__gte=F("started_at")),
                name="maintenance_window_ends_after_it_starts",
                violation_error_message="A maintenance window cannot end before "
                "it starts.",
            ),
        ]

    def __str__(self) -> str:
        return f"Maintenance {self.external_id}"

    def as_record(self) -> measure.MaintenanceRecord:
        return measure.MaintenanceRecord(
            external_id=self.external_id,
            started_at=self.started_at,
            ended_at=self.ended_at,
            component=self.component,
            reason=self.reason,
        )


# Which kinds of source each record-based objective reads: time to respond
# from requests, or from leads (handed over → first touch).
SOURCE_KINDS = {
    Objective.Source.REQUEST_TIMES: (
        RecordSource.Kind.REQUESTS,
        RecordSource.Kind.LEADS,
    ),
    Objective.Source.AVAILABILITY: (RecordSource.Kind.INCIDENTS,),
}


class RecordMeasure(models.Model):
    """How an objective measured from records is computed: from which source,
    in which calendar, and (for requests) against which target, or (for
    availability) how partial outages and maintenance count. The objective's
    own target and comparator judge the resulting percentage."""

    class Event(models.TextChoices):
        FIRST_RESPONSE = measure.Event.FIRST_RESPONSE.value, "First response"
        RESOLUTION = measure.Event.RESOLUTION.value, "Resolution"

    objective = models.OneToOneField(
        Objective, on_delete=models.CASCADE, related_name="record_measure"
    )
    source = models.ForeignKey(
        RecordSource, on_delete=models.PROTECT, related_name="measures"
    )
    calendar = models.ForeignKey(
        WorkingCalendar,
        on_delete=models.PROTECT,
        related_name="record_measures",
        help_text="Business time for requests; the month's time zone for both.",
    )
    # Requests.
    event = models.CharField(
        max_length=20,
        choices=Event.choices,
        blank=True,
        default="",
        help_text="What stops a request's clock.",
    )
    target = models.DurationField(
        null=True,
        blank=True,
        help_text="Business time within which a request must reach the event.",
    )
    share = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[
            MinValueValidator(Decimal("0.01"), "The share must be above zero."),
            MaxValueValidator(Decimal(100), "The share cannot be over 100 %."),
        ],
        help_text="Percentage of requests that must meet their target, e.g. 95.",
    )
    segment_goals = models.JSONField(
        default=list,
        blank=True,
        help_text='Targets by segment, first match wins: [{"segment": "P1", '
        '"target_minutes": 60}, …]; * matches anything.',
    )
    # Availability.
    partial_weight = models.DecimalField(
        max_digits=3,
        decimal_places=2,
        default=Decimal(0),
        validators=[
            MinValueValidator(Decimal(0), "The weight is 0 to 1."),
            MaxValueValidator(Decimal(1), "The weight is 0 to 1."),
        ],
        help_text="How much a minute of partial outage counts as down: 0 not at "
        "all, 1 fully.",
    )
    exclude_maintenance = models.BooleanField(
        default=True,
        help_text="Leave maintenance windows out of the time promised.",
    )
    component = models.CharField(
        max_length=200,
        blank=True,
        default="",
        validators=[single_line],
        help_text="Only this component's incidents (and those of the whole "
        "service); empty for all.",
    )
    history = history_records()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(partial_weight__gte=0, partial_weight__lte=1),
                name="record_measure_partial_weight_0_to_1",
                violation_error_message="The weight of a partial outage is 0 to 1.",
            ),
            models.CheckConstraint(
                condition=Q(share__isnull=True) | Q(share__gt=0, share__lte=100),
                name="record_measure_share_a_percentage",
                violation_error_message="The share is a percentage above zero, at "
                "most 100.",
            ),
            models.CheckConstraint(
                condition=Q(target__isnull=True) | Q(target__gt=timedelta(0)),
                name="record_measure_target_positive",
                violation_error_message="The target must be above zero.",
            ),
            models.CheckConstraint(
                condition=Q(event__in=["", "first_response", "resolution"]),
                name="record_measure_event_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.objective} from {self.source}"

    def clean(self) -> None:
        errors: dict[str, str] = {}
        try:  # an objective not saved yet, when built with its agreement
            objective: Objective | None = self.objective
        except Objective.DoesNotExist:
            objective = None
        wanted = SOURCE_KINDS.get(objective.metric_source) if objective else None
        if objective is not None and wanted is None:
            errors["objective"] = (
                f"“{objective}” is measured from "
                f"{objective.get_metric_source_display().lower()}, not from "
                "request or incident records."
            )
        leads = self.source_id is not None and self.source.kind == (
            RecordSource.Kind.LEADS
        )
        if wanted is not None and self.source_id and self.source.kind not in wanted:
            kinds = " or ".join(RecordSource(kind=k).kind_words for k in wanted)
            errors["source"] = (
                f"{self.source} sends {self.source.kind_words}; "
                f"“{objective}” needs a source of {kinds}."
            )
        agreement = objective.agreement if objective is not None else None
        provider = agreement.provider if agreement is not None else None
        # A team's own records measure it; leads may also come from the CRM
        # of the team that hands them over (the consumer).
        teams = (
            {agreement.provider_id, agreement.consumer_id}
            if agreement is not None and leads
            else {provider.pk}
            if provider is not None
            else set()
        )
        if provider is not None and self.source_id and self.source.team_id not in teams:
            errors["source"] = (
                f"{self.source} is {self.source.team}'s feed: “{objective}” is "
                f"measured from records {provider} sends"
                + (f" or leads {agreement.consumer} hands over." if leads else ".")
            )
        if leads and self.event and self.event != measure.Event.FIRST_RESPONSE:
            errors["event"] = "A lead's clock stops at its first touch."
        if (
            provider is not None
            and self.calendar_id
            and self.calendar.team_id not in (None, provider.pk)
        ):
            errors["calendar"] = (
                f"{self.calendar} belongs to {self.calendar.team}: use an "
                f"organisation-wide calendar or one of {provider}'s."
            )
        if objective is not None and objective.metric_source == (
            Objective.Source.REQUEST_TIMES
        ):
            errors.update(self._request_errors())
        elif wanted is not None:
            errors.update(self._availability_errors())
        if errors:
            raise ValidationError(errors)

    def _request_errors(self) -> dict[str, str]:
        errors = {}
        if not self.event:
            errors["event"] = "Choose what stops a request's clock."
        if self.target is None:
            errors["target"] = "Give the business time a request may take."
        elif self.target.total_seconds() <= 0:
            errors["target"] = "The target must be above zero."
        elif self.target > timedelta(minutes=measure.MAX_TARGET_MINUTES):
            errors["target"] = "The target is at most a year of business time."
        if self.share is None:
            errors["share"] = "Give the percentage of requests that must meet it."
        try:
            measure.segment_goals(self.segment_goals)
        except ValueError as exc:
            errors["segment_goals"] = str(exc)
        if self.partial_weight:
            errors["partial_weight"] = "Partial outages only count for availability."
        if self.component:
            errors["component"] = "A component only applies to availability."
        return errors

    def _availability_errors(self) -> dict[str, str]:
        errors = {}
        for field, label in (
            ("event", "An event"),
            ("target", "A target time"),
            ("share", "A share"),
        ):
            if getattr(self, field) not in (None, ""):
                errors[field] = (
                    f"{label} only applies to requests; availability is judged "
                    "by the objective's target."
                )
        if self.segment_goals:
            errors["segment_goals"] = "Segment goals only apply to requests."
        return errors

    @property
    def goals(self) -> tuple[measure.SegmentGoal, ...]:
        return measure.segment_goals(self.segment_goals)

    def describe(self) -> str:
        """“First response within 3 h of business time (Office hours), from
        Helpdesk”; “from Status page, 24/7, maintenance excluded”."""
        if self.objective.metric_source == Objective.Source.REQUEST_TIMES:
            minutes = int(self.target.total_seconds() // 60) if self.target else 0
            hours, rest = divmod(minutes, 60)
            span = (
                f"{hours} h" + (f" {rest:02d} min" if rest else "")
                if hours
                else (f"{minutes} min")
            )
            text = (
                f"{self.get_event_display()} within {span} of business time "
                f"({self.calendar}), from {self.source.name}"
            )
            goals = ", ".join(
                f"{goal.pattern} {int(goal.target.total_seconds() // 60)} min"
                for goal in self.goals
            )
            return text + (f"; segments: {goals}" if goals else "")
        parts = [f"from {self.source.name}", f"{self.calendar}"]
        parts.append(
            "maintenance excluded" if self.exclude_maintenance else "maintenance counts"
        )
        if self.partial_weight:
            parts.append(f"partial outages count {self.partial_weight.normalize():f}")
        if self.component:
            parts.append(f"component {self.component}")
        return ", ".join(parts)


class LeadQuerySet(models.QuerySet):
    def counted(self) -> LeadQuerySet:
        """The leads that count: not the same person as a lead another team
        handed over first (``duplicate_of``)."""
        return self.filter(duplicate_of=None)


class Lead(models.Model):
    """A lead one team hands over to another, as the CRM keeps it. It counts
    as a lead delivered by ``team`` in the month it was handed over
    (``started_at``), and as a qualified one when ``qualified``; its first
    touch (``first_touch_at``) measures the follow-up like a request's
    first response."""

    source = models.ForeignKey(
        RecordSource, on_delete=models.PROTECT, related_name="leads"
    )
    external_id = models.CharField(max_length=200, validators=[single_line])
    team = models.ForeignKey(
        Team,
        on_delete=models.PROTECT,
        related_name="leads_handed_over",
        help_text="The team that handed the lead over (counted for it).",
    )
    started_at = models.DateTimeField(help_text="When the lead was handed over.")
    # The month of ``started_at`` in the organisation's zone, for counting.
    month = models.DateField(editable=False)
    qualified = models.BooleanField(default=False)
    qualified_at = models.DateTimeField(null=True, blank=True)
    owner_assigned_at = models.DateTimeField(null=True, blank=True)
    first_touch_at = models.DateTimeField(null=True, blank=True)
    owner = models.CharField(
        max_length=200, blank=True, default="", validators=[single_line]
    )
    email = models.CharField(
        max_length=254, blank=True, default="", validators=[single_line]
    )
    name = models.CharField(
        max_length=200, blank=True, default="", validators=[single_line]
    )
    company = models.CharField(
        max_length=200, blank=True, default="", validators=[single_line]
    )
    status = models.CharField(
        max_length=100, blank=True, default="", validators=[single_line]
    )
    stage = models.CharField(
        max_length=100,
        blank=True,
        default="",
        validators=[single_line],
        help_text="The lifecycle stage, e.g. Marketing Qualified Lead.",
    )
    # The row as the CRM's export or API gave it, for audit.
    raw = models.JSONField(default=dict, blank=True)
    duplicate_of = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="duplicates",
        help_text="The same person handed over first by another team: this "
        "one is flagged and not counted.",
    )
    updated_at = models.DateTimeField(
        help_text="When the source last changed the lead (orders updates)."
    )
    batch = _import_batch()
    received_at = models.DateTimeField(auto_now=True)
    # When the portal first had it: whether a month's leads came in on time.
    first_received_at = models.DateTimeField(auto_now_add=True)
    history = history_records(excluded_fields=["raw"])

    objects = LeadQuerySet.as_manager()

    class Meta:
        ordering = ["source", "started_at", "pk"]
        indexes = [
            models.Index(fields=["team", "month"]),
            models.Index(fields=["email"]),
        ]
        constraints = [
            _unique_per_source("lead"),
            _not_blank("external_id", "lead"),
            models.CheckConstraint(
                condition=Q(first_touch_at__isnull=True)
                | Q(first_touch_at__gte=F("started_at")),
                name="lead_touched_after_hand_over",
                violation_error_message="A lead cannot be touched before it is "
                "handed over.",
            ),
        ]

    def __str__(self) -> str:
        return f"Lead {self.external_id} from {self.team}"

    def save(self, *args, **kwargs) -> None:
        self.derive()
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "month", "email"}
        super().save(*args, **kwargs)

    def derive(self) -> None:
        """The month it counts in and its address as compared: set by
        ``save``, and by a bulk write (``bulk``), which skips ``save``."""
        self.month = periods.month_of(self.started_at)
        self.email = (self.email or "").strip().lower()

    @property
    def stage_label(self) -> str:
        """The lifecycle stage as people read it: HubSpot's internal value
        (``salesqualifiedlead``) as its label; kept as sent."""
        return value_label(self.stage, LIFECYCLE_STAGE_LABELS)

    @property
    def status_label(self) -> str:
        """The lead status as people read it (``IN_PROGRESS``: In Progress)."""
        return value_label(self.status, LEAD_STATUS_LABELS)

    def as_record(self) -> measure.RequestRecord:
        """The lead as a request for ``measure``: handed over → first touch."""
        return measure.RequestRecord(
            external_id=self.external_id,
            started_at=self.started_at,
            first_response_at=self.first_touch_at,
            resolved_at=None,
            segment=self.stage,
            pauses=(),
        )
