"""Create the demo organisation. Idempotent: running it twice changes nothing."""

from __future__ import annotations

import datetime
import logging
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.management.base import BaseCommand
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from agreements import periods
from agreements.demo import (
    HELPDESK,
    HUBSPOT,
    STATUS_PAGE,
    RecordSetup,
    availability_measure,
    date_lifecycle,
    requests_measure,
    seed_figures,
    seed_friction,
    seed_record_setup,
    seed_records,
)
from agreements.models import Agreement, Membership, Team
from agreements.services import (
    agreement_create,
    agreement_propose,
    agreement_revise,
    agreement_sign,
    agreement_update,
)
from reports.models import Breach, Scorecard, ScorecardLine
from reports.notifications import schedule
from reports.notifications.jobs import months_close_due
from reports.notifications.models import Notification
from reports.services import breach_acknowledge, breach_resolve

TEAMS = [
    ("Marketing", "marketing", Team.Kind.MARKETING),
    ("Sales", "sales", Team.Kind.SALES),
    ("Customer Service", "customer-service", Team.Kind.CUSTOMER_SERVICE),
]

# username, first name, last name, title, (team slug, role) or None
PERSONAS = [
    (
        "marketing-lead",
        "Mia",
        "Lindqvist",
        "Marketing team lead",
        ("marketing", "lead"),
    ),
    ("sales-lead", "Sam", "Ortega", "Sales team lead", ("sales", "lead")),
    ("sales-manager", "Priya", "Nair", "Sales manager", ("sales", "manager")),
    ("service-head", "Victor", "Hale", "VP of Service", ("customer-service", "head")),
    ("executive", "Elena", "Brandt", "Chief operating officer", None),
    ("admin", "Ada", "Admin", "Administrator", None),
]

EXECUTIVES_GROUP = "Executives"
# Loggers that would repeat, line by line, what the summary says.
QUIET_LOGGERS = ("celery.app.trace", "reports.notifications.jobs")


def _objective(
    name,
    source,
    comparator,
    target,
    unit="count",
    weight=1,
    warn=None,
    measure=None,
):
    """An objective row; ``measure`` (one measured from records) names its
    source and calendar, turned into the rows when the agreement is made."""
    row = {
        "name": name,
        "metric_source": source,
        "comparator": comparator,
        "target": Decimal(str(target)),
        "unit": unit,
        "weight": Decimal(str(weight)),
        "warning_threshold": None if warn is None else Decimal(str(warn)),
    }
    if measure is not None:
        row["measure"] = measure
    return row


# title, provider, consumer, summary, clause, remedy, credit, objectives
CHAIN = [
    (
        "Lead delivery",
        "marketing",
        "sales",
        "Marketing feeds Sales a steady flow of leads, most of them qualified.",
        "If a month falls short, Marketing makes up the shortfall in the next "
        "month on top of that month's target, and reviews the campaign mix with "
        "the Sales lead.",
        Agreement.Remedy.MAKE_UP,
        None,
        [
            _objective(
                "Leads delivered",
                "leads_delivered",
                "at_least",
                200,
                weight=1,
                warn=210,
            ),
            _objective("Qualified leads", "qualified_leads", "at_least", 120, weight=2),
        ],
    ),
    (
        "Lead follow-up",
        "sales",
        "marketing",
        "Sales contacts every lead quickly, so Marketing's spend is not wasted.",
        "Two missed months in a row are escalated to the head of Sales, who "
        "presents a recovery plan to Marketing.",
        Agreement.Remedy.ESCALATE,
        None,
        [
            _objective(
                "Leads first touched within 4 business hours",
                "request_times",
                "at_least",
                90,
                unit="percent",
                measure=requests_measure(HUBSPOT, 240),
            ),
        ],
    ),
    (
        "Customer handover",
        "sales",
        "customer-service",
        "Sales closes customers and hands each one over with onboarding notes, and "
        "tells Customer Service what customers struggle with.",
        "For each missed objective Sales owes Customer Service an internal credit "
        "towards onboarding staff time.",
        Agreement.Remedy.CREDIT,
        Decimal("500.00"),
        [
            _objective(
                "Customers closed", "customers_closed", "at_least", 50, weight=3
            ),
            _objective(
                "Friction reports filed", "friction_reports", "at_least", 1, weight=1
            ),
        ],
    ),
    (
        "Onboarding and uptime",
        "customer-service",
        "sales",
        "Customer Service onboards handed-over customers quickly and keeps the "
        "customer portal up.",
        "A miss is escalated to the VP of Service, who reports the cause and the fix "
        "to the head of Sales within a week.",
        Agreement.Remedy.ESCALATE,
        None,
        [
            _objective(
                "Customers onboarded within 14 days",
                "manual",
                "at_least",
                95,
                unit="percent",
                weight=2,
                warn=97,
            ),
            _objective(
                "Portal uptime",
                "availability",
                "at_least",
                99,
                unit="percent",
                weight=1,
                warn="99.5",
                measure=availability_measure(STATUS_PAGE),
            ),
            _objective(
                "Requested information within 3 business hours",
                "request_times",
                "at_least",
                95,
                unit="percent",
                weight=1,
                measure=requests_measure(
                    HELPDESK,
                    180,
                    segment_goals=[{"segment": "P1", "target_minutes": 60}],
                ),
            ),
        ],
    ),
]

# An earlier version of "Lead delivery", superseded by the one above.
LEAD_DELIVERY_V1 = [
    _objective("Leads delivered", "leads_delivered", "at_least", 180, warn=190),
    _objective("Qualified leads", "qualified_leads", "at_least", 100),
]

# Proposals signed by the team that made them, each waiting for the other
# party's signer: every persona who signs finds one on their home page.
PROPOSALS = [
    (
        "Customer references",
        "customer-service",
        "marketing",
        "Customer Service finds happy customers willing to be case studies.",
        "A miss is made up the next month.",
        Agreement.Remedy.MAKE_UP,
        None,
        [_objective("Reference customers found", "manual", "at_least", 2)],
    ),
    (
        "Campaign previews",
        "marketing",
        "customer-service",
        "Marketing shows Customer Service each campaign before it reaches "
        "customers, so that support knows what customers will ask about.",
        "A campaign launched without a preview is escalated to the head of Marketing.",
        Agreement.Remedy.ESCALATE,
        None,
        [
            _objective(
                "Campaigns previewed a week ahead",
                "manual",
                "at_least",
                90,
                unit="percent",
                warn=95,
            )
        ],
    ),
    (
        "Renewal alerts",
        "customer-service",
        "sales",
        "Customer Service flags customers at risk of not renewing, early enough "
        "for Sales to act.",
        "A month below target is reviewed by the VP of Service with the Sales lead.",
        Agreement.Remedy.ESCALATE,
        None,
        [
            _objective(
                "Renewals flagged 60 days ahead",
                "manual",
                "at_least",
                90,
                unit="percent",
            )
        ],
    ),
]

# Signed by both parties this week, in force from next month.
STARTS_NEXT_MONTH = (
    "Trade fair leads",
    "marketing",
    "sales",
    "Marketing passes on every badge scan from the spring trade fair within a "
    "day, so Sales can call while the visit is fresh.",
    "Leads passed on late are made up with a follow-up mailing.",
    Agreement.Remedy.MAKE_UP,
    None,
    [
        _objective(
            "Scans passed on within a day", "manual", "at_least", 95, unit="percent"
        )
    ],
)


class Command(BaseCommand):
    help = (
        "Create the demo teams, one user per persona, the signed demo chain and "
        "twelve months of its figures, records and friction reports (idempotent)."
    )

    def handle(self, *args, **options) -> None:
        # What the month ends and the in-process email tasks log is the
        # seed's own summary, said once at the end.
        quiet = [logging.getLogger(name) for name in QUIET_LOGGERS]
        levels = [logger.level for logger in quiet]
        for logger in quiet:
            logger.setLevel(logging.WARNING)
        try:
            self._seed()
        finally:
            for logger, level in zip(quiet, levels, strict=True):
                logger.setLevel(level)

    @transaction.atomic
    def _seed(self) -> None:
        created = 0
        teams = {}
        for name, slug, kind in TEAMS:
            team, was_created = Team.objects.get_or_create(
                slug=slug, defaults={"name": name, "kind": kind}
            )
            teams[slug] = team
            created += was_created

        executives, was_created = Group.objects.get_or_create(name=EXECUTIVES_GROUP)
        created += was_created
        view_everything = Permission.objects.get(
            codename="view_everything", content_type__app_label="agreements"
        )
        if not executives.permissions.filter(pk=view_everything.pk).exists():
            executives.permissions.add(view_everything)

        User = get_user_model()
        for username, first, last, _title, membership in PERSONAS:
            user = User.objects.filter(username=username).first()
            if user is None:
                user = User(
                    username=username,
                    first_name=first,
                    last_name=last,
                    email=f"{username}@example.com",
                    is_staff=username == "admin",
                    is_superuser=username == "admin",
                )
                user.set_password(settings.DEMO_PASSWORD)
                user.full_clean()
                user.save()
                created += 1
            if membership:
                slug, role = membership
                _, was_created = Membership.objects.get_or_create(
                    user=user, team=teams[slug], defaults={"role": role}
                )
                created += was_created
            if (
                username == "executive"
                and not user.groups.filter(pk=executives.pk).exists()
            ):
                user.groups.add(executives)

        users = {
            u.username: u
            for u in User.objects.filter(username__in=[p[0] for p in PERSONAS])
        }
        # The agreements name the calendar and the record sources; the
        # records must be in before the past months are closed.
        setup = seed_record_setup(teams, users)
        created += setup.created
        created += self._seed_agreements(teams, users, setup)
        created += seed_figures(teams, users)
        created += seed_friction(teams, users)
        created += seed_records(setup, users)
        closed = self._close_past_months(users)

        self.stdout.write(
            self.style.SUCCESS(f"Demo data ready ({created} objects created).")
        )
        if closed:
            self.stdout.write(
                f"Closed {closed} past months: scorecards finalised, breaches "
                "opened; the latest months' emails are in "
                f"{getattr(settings, 'EMAIL_FILE_PATH', 'the outbox')}."
            )
        self.stdout.write(f"Demo logins (password: {settings.DEMO_PASSWORD}):")
        for username, first, last, title, _membership in PERSONAS:
            self.stdout.write(f"  {username:<16} {first} {last}, {title}")

    def _close_past_months(self, users: dict) -> int:
        """Do what the monthly job would have done for the demo's past months:
        finalise their scorecards, and email the latest ones; then date each
        close when it would have run, and let the providers act on their
        breaches as they would have. Idempotent: a month already closed is
        left alone."""
        reports = months_close_due()
        for report in reports:
            _date_close(report.month)
        if reports:
            _settle_breaches(users)
            _date_notifications()
        return len(reports)

    def _seed_agreements(self, teams: dict, users: dict, setup: RecordSetup) -> int:
        """The demo chain, in force since the first month of its figures and
        signed by both parties the week before; "Lead delivery" revised six
        months ago (its first version retired); three proposals waiting for
        the other party's signature; one signed agreement that starts next
        month. Every date is when it would have happened."""
        lead_of = {
            "marketing": users["marketing-lead"],
            "sales": users["sales-lead"],
            "customer-service": users["service-head"],
        }
        months = periods.recent_months(12)
        start = months[0]
        created = 0
        for spec in CHAIN:
            title, provider, consumer = spec[:3]
            if Agreement.objects.filter(
                title=title, provider=teams[provider], consumer=teams[consumer]
            ).exists():
                continue
            if title == "Lead delivery":
                first = self._agreement(
                    spec, teams, lead_of, start, LEAD_DELIVERY_V1, setup
                )
                self._sign_both(first, lead_of)
                date_lifecycle(first, signed_before=start)
                revision = agreement_revise(agreement=first, user=lead_of[provider])
                revision = agreement_update(
                    agreement=revision,
                    user=lead_of[provider],
                    expected_edit_count=revision.edit_count,
                    effective_from=months[6],
                    objectives=spec[7],
                )
                agreement_propose(agreement=revision, user=lead_of[provider])
                self._sign_both(revision, lead_of)
                date_lifecycle(revision, signed_before=months[6], supersedes=first)
                created += 2
            else:
                agreement = self._agreement(spec, teams, lead_of, start, spec[7], setup)
                self._sign_both(agreement, lead_of)
                date_lifecycle(agreement, signed_before=start)
                created += 1

        next_month = periods.next_month(months[-1])
        today = periods.today()
        for days_ago, spec in zip((2, 4, 6), PROPOSALS, strict=True):
            title, provider, _consumer = spec[:3]
            if Agreement.objects.filter(title=title).exists():
                continue
            agreement = self._agreement(
                spec, teams, lead_of, next_month, spec[7], setup
            )
            agreement_sign(
                agreement=agreement, user=lead_of[provider], team=teams[provider]
            )
            date_lifecycle(agreement, on=today - datetime.timedelta(days=days_ago))
            created += 1

        title = STARTS_NEXT_MONTH[0]
        if not Agreement.objects.filter(title=title).exists():
            agreement = self._agreement(
                STARTS_NEXT_MONTH,
                teams,
                lead_of,
                next_month,
                STARTS_NEXT_MONTH[7],
                setup,
            )
            self._sign_both(agreement, lead_of)
            date_lifecycle(agreement, on=today - datetime.timedelta(days=3))
            created += 1
        return created

    @staticmethod
    def _agreement(
        spec, teams, lead_of, effective_from, objectives, setup: RecordSetup
    ) -> Agreement:
        title, provider, consumer, summary, clause, remedy, credit, _ = spec
        agreement = agreement_create(
            user=lead_of[provider],
            provider=teams[provider],
            consumer=teams[consumer],
            title=title,
            summary=summary,
            effective_from=effective_from,
            review_on=periods.add_months(effective_from, 12),
            compensation_clause=clause,
            remedy=remedy,
            remedy_credit=credit,
            objectives=[setup.resolve(row) for row in objectives],
        )
        return agreement_propose(agreement=agreement, user=lead_of[provider])

    @staticmethod
    def _sign_both(agreement: Agreement, lead_of: dict) -> None:
        for team in (agreement.provider, agreement.consumer):
            agreement_sign(agreement=agreement, user=lead_of[team.slug], team=team)


def _date_close(month: datetime.date) -> None:
    """A month's stored scorecards and breaches, dated when the month-end job
    would have written them (the day after the grace period, 08:00)."""
    when = schedule.close_due_at(month)
    cards = Scorecard.objects.filter(month=month)
    ids = list(cards.values_list("pk", flat=True))
    cards.update(finalised_at=when)
    Scorecard.history.filter(id__in=ids).update(history_date=when)
    ScorecardLine.history.filter(scorecard_id__in=ids).update(history_date=when)
    Breach.objects.filter(month=month).update(opened_at=when)
    Breach.history.filter(month=month).update(history_date=when)


# What the providers wrote when they had delivered the remedy.
RESOLUTIONS = {
    Agreement.Remedy.MAKE_UP: "Made up in the following month, on top of its "
    "target; the campaign mix was reviewed with the Sales lead.",
    Agreement.Remedy.CREDIT: "Credit booked to Customer Service's onboarding budget.",
    Agreement.Remedy.ESCALATE: "Escalated; the cause and the fix were reported "
    "to the other team's head within the week.",
}


def _settle_breaches(users: dict) -> None:
    """Older breaches resolved, the last two months' acknowledged, the latest
    month's still open: a list a VP would recognise. Each step by the
    provider's lead (or head), dated a few days after the breach opened."""
    if Breach.objects.exclude(status=Breach.Status.OPEN).exists():
        return
    signer = {
        "marketing": users["marketing-lead"],
        "sales": users["sales-lead"],
        "customer-service": users["service-head"],
    }
    breaches = Breach.objects.select_related("agreement__provider").order_by("month")
    latest = breaches.last().month if breaches else None
    for breach in breaches:
        age = (latest.year - breach.month.year) * 12 + latest.month - breach.month.month
        if age < 1:
            continue  # the newest are still open
        user = signer[breach.agreement.provider.slug]
        acknowledged = breach.opened_at + datetime.timedelta(days=1, hours=2)
        breach_acknowledge(breach=breach, user=user, note="Seen; we are on it.")
        resolved = None
        if age >= 3:
            resolved = breach.opened_at + datetime.timedelta(days=12, hours=5)
            breach_resolve(
                breach=breach,
                user=user,
                note=RESOLUTIONS.get(breach.agreement.remedy, "Remedy delivered."),
            )
        Breach.objects.filter(pk=breach.pk).update(
            acknowledged_at=acknowledged, resolved_at=resolved
        )
        steps = list(breach.history.order_by("history_date", "history_id"))
        for record, when in zip(steps[1:], [acknowledged, resolved], strict=False):
            if when is not None:
                type(record).objects.filter(pk=record.pk).update(history_date=when)


def _date_notifications() -> None:
    """Each person's inbox as they would have left it: every notice dated
    when its event happened (a signature asked for, an agreement in force, a
    breach opened, acknowledged or resolved) and read a day later, but for
    the latest close's news and signatures still awaited."""
    latest = Scorecard.objects.aggregate(month=Max("month"))["month"]
    if latest is None:
        return
    news_since = schedule.close_due_at(latest)
    now = timezone.now()
    Event = Notification.Event
    done = (Agreement.Status.ACTIVE, Agreement.Status.RETIRED)
    dated = []
    for notice in Notification.objects.select_related("agreement", "breach"):
        agreement, breach = notice.agreement, notice.breach
        when = None
        if breach is not None:
            when = {
                Event.BREACH_OPENED: breach.opened_at,
                Event.BREACH_ACKNOWLEDGED: breach.acknowledged_at,
                Event.BREACH_RESOLVED: breach.resolved_at,
            }.get(notice.event)
        elif agreement is not None and agreement.activated_at is not None:
            when = {
                Event.SIGNATURE_AWAITED: agreement.activated_at
                - datetime.timedelta(days=1),
                Event.AGREEMENT_ACTIVE: agreement.activated_at,
            }.get(notice.event)
        if when is None or when > now:
            continue
        awaited = notice.event == Event.SIGNATURE_AWAITED and (
            agreement is None or agreement.status not in done
        )
        notice.created_at, notice.read_at = when, None
        if when < news_since and not awaited:
            notice.read_at = min(when + datetime.timedelta(days=1), now)
        dated.append(notice)
    Notification.objects.bulk_update(dated, ["created_at", "read_at"])
