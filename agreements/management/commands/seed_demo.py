"""Create the demo organisation. Idempotent: running it twice changes nothing."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from agreements import periods
from agreements.demo import seed_figures, seed_friction
from agreements.models import Agreement, Membership, Team
from agreements.services import (
    agreement_create,
    agreement_propose,
    agreement_revise,
    agreement_sign,
    agreement_update,
)

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


def _objective(name, source, comparator, target, unit="count", weight=1, warn=None):
    return {
        "name": name,
        "metric_source": source,
        "comparator": comparator,
        "target": Decimal(str(target)),
        "unit": unit,
        "weight": Decimal(str(weight)),
        "warning_threshold": None if warn is None else Decimal(str(warn)),
    }


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
            _objective("Leads delivered", "leads_delivered", "at_least", 200, weight=1),
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
                "Median hours to first contact",
                "manual",
                "at_most",
                3,
                unit="hours",
                warn="2.5",
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
                "manual",
                "at_least",
                99,
                unit="percent",
                weight=1,
                warn="99.5",
            ),
        ],
    ),
]

# An earlier version of "Lead delivery", superseded by the one above.
LEAD_DELIVERY_V1 = [
    _objective("Leads delivered", "leads_delivered", "at_least", 180),
    _objective("Qualified leads", "qualified_leads", "at_least", 100),
]

PROPOSED = (
    "Customer references",
    "customer-service",
    "marketing",
    "Customer Service finds happy customers willing to be case studies.",
    "A miss is made up the next month.",
    Agreement.Remedy.MAKE_UP,
    None,
    [_objective("Reference customers found", "manual", "at_least", 2)],
)


def _months_ago(today: datetime.date, months: int) -> datetime.date:
    index = today.year * 12 + today.month - 1 - months
    return datetime.date(index // 12, index % 12 + 1, 1)


class Command(BaseCommand):
    help = (
        "Create the demo teams, one user per persona, the signed demo chain and "
        "twelve months of its figures and friction reports (idempotent)."
    )

    @transaction.atomic
    def handle(self, *args, **options) -> None:
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
        created += self._seed_agreements(teams, users)
        created += seed_figures(teams, users)
        created += seed_friction(teams, users)
        closed = self._close_past_months()

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

    def _close_past_months(self) -> int:
        """Do what the monthly job would have done for the demo's past months:
        finalise their scorecards, and email the latest ones. Idempotent: a
        month already closed is left alone."""
        from reports.notifications.jobs import months_close_due

        return len(months_close_due())

    def _seed_agreements(self, teams: dict, users: dict) -> int:
        """The demo chain, all active and signed by both parties; one proposal
        waiting for a signature; one retired, superseded version."""
        lead_of = {
            "marketing": users["marketing-lead"],
            "sales": users["sales-lead"],
            "customer-service": users["service-head"],
        }
        today = timezone.localdate()
        start = _months_ago(today, 12)
        created = 0
        for spec in CHAIN:
            title, provider, consumer = spec[:3]
            if Agreement.objects.filter(
                title=title, provider=teams[provider], consumer=teams[consumer]
            ).exists():
                continue
            if title == "Lead delivery":
                first = self._agreement(spec, teams, lead_of, start, LEAD_DELIVERY_V1)
                self._sign_both(first, lead_of)
                revision = agreement_revise(agreement=first, user=lead_of[provider])
                revision = agreement_update(
                    agreement=revision,
                    user=lead_of[provider],
                    expected_edit_count=revision.edit_count,
                    effective_from=_months_ago(today, 6),
                    objectives=spec[7],
                )
                agreement_propose(agreement=revision, user=lead_of[provider])
                self._sign_both(revision, lead_of)
                self._date_supersession(first, revision)
                created += 2
            else:
                agreement = self._agreement(spec, teams, lead_of, start, spec[7])
                self._sign_both(agreement, lead_of)
                # In force since it took effect, a year of figures ago.
                Agreement.objects.filter(pk=agreement.pk).update(
                    activated_at=periods.month_start(start)
                )
                created += 1

        title, provider, consumer = PROPOSED[:3]
        if not Agreement.objects.filter(title=title).exists():
            agreement = self._agreement(
                PROPOSED, teams, lead_of, _months_ago(today, -1), PROPOSED[7]
            )
            agreement_sign(
                agreement=agreement, user=lead_of[provider], team=teams[provider]
            )
            created += 1
        return created

    @staticmethod
    def _date_supersession(first: Agreement, revision: Agreement) -> None:
        """Version 2 took over when it came into force, six months ago, not
        today when the demo was seeded: otherwise both versions would count
        for the current month."""
        switch = periods.month_start(revision.effective_from)
        Agreement.objects.filter(pk=first.pk).update(
            activated_at=periods.month_start(first.effective_from),
            retired_at=switch - datetime.timedelta(seconds=1),
        )
        Agreement.objects.filter(pk=revision.pk).update(activated_at=switch)

    @staticmethod
    def _agreement(spec, teams, lead_of, effective_from, objectives) -> Agreement:
        title, provider, consumer, summary, clause, remedy, credit, _ = spec
        agreement = agreement_create(
            user=lead_of[provider],
            provider=teams[provider],
            consumer=teams[consumer],
            title=title,
            summary=summary,
            effective_from=effective_from,
            review_on=_months_ago(effective_from, -12),
            compensation_clause=clause,
            remedy=remedy,
            remedy_credit=credit,
            objectives=objectives,
        )
        return agreement_propose(agreement=agreement, user=lead_of[provider])

    @staticmethod
    def _sign_both(agreement: Agreement, lead_of: dict) -> None:
        for team in (agreement.provider, agreement.consumer):
            agreement_sign(agreement=agreement, user=lead_of[team.slug], team=team)
