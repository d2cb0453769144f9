"""The notifications' own tables: the month-end runs, the delivery ledger
(one row per email, sent exactly once), each person's email preferences and
their in-portal inbox. They belong to the ``reports`` app label, as they
always have."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


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


class LedgerQuerySet(models.QuerySet):
    """What the email ledger (``Delivery``) and the channel ledger
    (``ChannelDelivery``) share: rows ``pending``, ``sending`` or done,
    claimed at ``claimed_at``, perhaps held until ``not_before``."""

    def due(self, *, now) -> LedgerQuerySet:
        """Rows not held, or held until a moment that has come."""
        return self.filter(models.Q(not_before=None) | models.Q(not_before__lte=now))

    def stuck(self, *, now, lease) -> LedgerQuerySet:
        """Rows nobody is working on: pending and due with no recent attempt,
        or claimed by a worker that has not finished within the lease (it
        died)."""
        cutoff = now - lease
        due = models.Q(not_before=None) | models.Q(not_before__lte=now)
        return self.filter(
            models.Q(status="pending", claimed_at__lt=cutoff)
            | (models.Q(status="pending", claimed_at=None, created_at__lt=cutoff) & due)
            | models.Q(status="sending", claimed_at__lt=cutoff)
        )

    def released(self, *, now) -> LedgerQuerySet:
        """Held rows (quiet hours) whose time has come, never tried yet."""
        return self.filter(status="pending", claimed_at=None, not_before__lte=now)


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
        EVENT = "event", "Event notice"
        SUMMARY = "summary", "Daily summary"

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
    not_before = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Held until then: outside the recipient's working hours.",
    )

    objects = LedgerQuerySet.as_manager()

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
                        "event",
                        "summary",
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


class EmailTiming(models.TextChoices):
    """When the email of an event goes out (its inbox entry always appears)."""

    AT_ONCE = "now", "At once"
    DAILY = "daily", "In a daily summary"
    OFF = "off", "Not by email (only in the portal)"


TIMINGS = ["now", "daily", "off"]


class NotificationPreference(models.Model):
    """Which emails a person wants. No row means every email is wanted, and
    event emails go out at once.

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
    friction_email = models.CharField(
        "friction reports",
        max_length=5,
        choices=EmailTiming.choices,
        default=EmailTiming.AT_ONCE,
        help_text="A report filed to a team you head; what became of a report "
        "your team filed (status changes, comments). Critical and high-severity "
        "reports are emailed at once unless you switch these emails off.",
    )
    agreement_email = models.CharField(
        "agreements",
        max_length=5,
        choices=EmailTiming.choices,
        default=EmailTiming.AT_ONCE,
        help_text="Your signature awaited, changes requested on your proposal, "
        "an agreement active or retired, a review date reached.",
    )
    breach_email = models.CharField(
        "breach updates",
        max_length=5,
        choices=EmailTiming.choices,
        default=EmailTiming.AT_ONCE,
        help_text="A breach owed to your team acknowledged or resolved by the "
        "provider. A new breach is always emailed at once.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "email preference"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(friction_email__in=TIMINGS)
                & models.Q(agreement_email__in=TIMINGS)
                & models.Q(breach_email__in=TIMINGS),
                name="notification_preference_timings_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"Email preferences of {self.user}"


class NotificationQuerySet(models.QuerySet):
    def unread(self) -> NotificationQuerySet:
        return self.filter(read_at=None)


class Notification(models.Model):
    """One event, for one person: an entry in their in-portal inbox, and
    the email that goes with it (``email``: at once, in the day's summary, or
    none). At most one per person, event and occurrence (``key``), so an
    event announced twice notifies nobody twice. Kept ``KEEP_DAYS`` days."""

    KEEP_DAYS = 90

    class Event(models.TextChoices):
        FRICTION_FILED = "friction_filed", "Friction report filed"
        FRICTION_STATUS = "friction_status", "Friction report status changed"
        FRICTION_COMMENT = "friction_comment", "Friction report comment"
        FRICTION_ASSIGNED = "friction_assigned", "Friction report assigned"
        SIGNATURE_AWAITED = "signature_awaited", "Signature awaited"
        CHANGES_REQUESTED = "changes_requested", "Changes requested"
        AGREEMENT_ACTIVE = "agreement_active", "Agreement active"
        AGREEMENT_RETIRED = "agreement_retired", "Agreement retired"
        BREACH_OPENED = "breach_opened", "Breach opened"
        BREACH_ACKNOWLEDGED = "breach_acknowledged", "Breach acknowledged"
        BREACH_RESOLVED = "breach_resolved", "Breach resolved"
        REVIEW_DUE = "review_due", "Review date reached"
        FIGURES_MISSING = "figures_missing", "Figures missing"

    class Email(models.TextChoices):
        AT_ONCE = "now", "At once"
        DAILY = "daily", "In the daily summary"
        NONE = "none", "Not emailed"

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    event = models.CharField(max_length=20, choices=Event.choices)
    key = models.CharField(
        max_length=80, help_text="Tells apart the occurrences of one event."
    )
    text = models.CharField(max_length=400)
    url = models.CharField(max_length=300, help_text="The page of its object.")
    # What it is about, for the visibility check: its text is shown only to
    # someone who may open these on their pages.
    agreement = models.ForeignKey(
        "agreements.Agreement",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )
    breach = models.ForeignKey(
        "reports.Breach",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )
    friction_report = models.ForeignKey(
        "agreements.FrictionReport",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )
    email = models.CharField(max_length=5, choices=Email.choices, default=Email.NONE)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    read_at = models.DateTimeField(null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "event", "key"],
                name="one_notification_per_recipient_event",
            ),
            models.CheckConstraint(
                condition=models.Q(email__in=["now", "daily", "none"]),
                name="notification_email_valid",
            ),
        ]
        indexes = [
            # The bell's count, and the inbox page.
            models.Index(fields=["recipient", "read_at"]),
            models.Index(fields=["recipient", "-created_at"]),
            # The daily summaries and the cleanup.
            models.Index(fields=["email", "created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_event_display()} for {self.recipient}"

    @property
    def is_read(self) -> bool:
        return self.read_at is not None
