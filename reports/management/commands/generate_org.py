"""Build a synthetic organisation for benchmarks: teams, signed agreements,
objectives and months of figures, written in bulk.

    python manage.py generate_org --teams 200 --agreements 1000 --months 24

Every team gets a lead and a head, and the organisation one executive, each
with an address at ``generated.example``, so the month end has someone to
email (``--no-members`` leaves them out). Deterministic for a given --seed.
Refuses to run on a database that already
holds agreements unless --replace is given (it then deletes all portal data).
"""

from __future__ import annotations

import argparse
import random
import time
import uuid
from datetime import timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Permission
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from agreements import periods
from agreements.models import (
    Agreement,
    ClosedCustomer,
    FrictionReport,
    LeadLogEntry,
    Measurement,
    Membership,
    Objective,
    PainPoint,
    Signature,
    Team,
)
from reports.models import Breach, MonthTotals, Scorecard, ScorecardLine
from slaportal import freshness

Source = Objective.Source
BATCH = 2000
MEMBER_DOMAIN = "generated.example"

# (source, unit, comparator, target range) to draw objectives from.
OBJECTIVE_KINDS = [
    (Source.LEADS_DELIVERED, "count", "at_least", (100, 400)),
    (Source.QUALIFIED_LEADS, "count", "at_least", (50, 200)),
    (Source.CUSTOMERS_CLOSED, "count", "at_least", (5, 40)),
    (Source.FRICTION_REPORTS, "count", "at_least", (1, 3)),
    (Source.MANUAL, "percent", "at_least", (90, 99)),
    (Source.MANUAL, "hours", "at_most", (2, 24)),
]


class Command(BaseCommand):
    help = "Build a synthetic organisation of any size for the benchmarks."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--teams", type=int, default=200)
        parser.add_argument("--agreements", type=int, default=1000)
        parser.add_argument(
            "--objectives", type=int, default=5, help="Per agreement, on average."
        )
        parser.add_argument("--months", type=int, default=24)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument(
            "--members",
            action=argparse.BooleanOptionalAction,
            default=True,
            help="Give every team a lead and a head, and add an executive.",
        )
        parser.add_argument(
            "--replace",
            action="store_true",
            help="Delete every team, agreement and figure first.",
        )

    def handle(self, *args, **opts) -> None:
        if opts["teams"] < 2 or opts["agreements"] < 1 or opts["months"] < 1:
            raise CommandError("Need at least 2 teams, 1 agreement and 1 month.")
        if Agreement.objects.exists():
            if not opts["replace"]:
                raise CommandError(
                    "This database already holds agreements. Use an empty "
                    "database, or --replace to delete all portal data first."
                )
            self._wipe()
        started = time.perf_counter()
        rng = random.Random(opts["seed"])
        with transaction.atomic():
            counts = self._generate(rng, opts)
            # Written in bulk, without history's signals.
            freshness.months_moved(None)
        counts["seconds"] = round(time.perf_counter() - started, 1)
        self.stdout.write(
            ", ".join(f"{key} {value:,}" for key, value in counts.items())
        )

    def _wipe(self) -> None:
        self.stdout.write("Deleting existing portal data ...")
        for model in (
            MonthTotals,
            Breach,
            ScorecardLine,
            Scorecard,
            Measurement,
            LeadLogEntry,
            ClosedCustomer,
            FrictionReport,
            PainPoint,
            Signature,
            Objective,
        ):
            model.objects.all().delete()
        Agreement.objects.update(supersedes=None)
        Agreement.objects.all().delete()
        Membership.objects.all().delete()
        Team.objects.all().delete()
        get_user_model().objects.filter(email__endswith=f"@{MEMBER_DOMAIN}").delete()

    def _progress(self, text: str) -> None:
        self.stdout.write(f"  {text}")
        self.stdout.flush()

    def _generate(self, rng: random.Random, opts: dict) -> dict[str, int]:
        User = get_user_model()
        author, _ = User.objects.get_or_create(
            username="generator", defaults={"email": "generator@example.com"}
        )
        kinds = [k.value for k in Team.Kind]
        teams = Team.objects.bulk_create(
            [
                Team(name=f"Team {n:04d}", slug=f"team-{n:04d}", kind=kinds[n % 4])
                for n in range(opts["teams"])
            ],
            batch_size=BATCH,
        )
        teams = list(Team.objects.order_by("pk"))
        self._progress(f"{len(teams):,} teams")
        counts = {"teams": len(teams)}
        if opts["members"]:
            counts["people"] = self._members(teams)
            self._progress(f"{counts['people']:,} people")

        current = periods.current_month()
        months = [periods.add_months(current, -n) for n in range(opts["months"])]
        first_month = months[-1]
        # Signed before their first month: an agreement signed after a month
        # locked is not scored for it, and every month here is to be scored.
        signed = periods.month_start(first_month)
        agreements = []
        for n in range(opts["agreements"]):
            provider, consumer = rng.sample(teams, 2)
            agreements.append(
                Agreement(
                    provider=provider,
                    consumer=consumer,
                    title=f"Agreement {n:05d}",
                    effective_from=first_month,
                    compensation_clause="Make up the shortfall the next month.",
                    remedy=Agreement.Remedy.MAKE_UP,
                    status=Agreement.Status.ACTIVE,
                    lineage=uuid.UUID(int=rng.getrandbits(128)),
                    created_by=author,
                    activated_at=signed,
                )
            )
        Agreement.objects.bulk_create(agreements, batch_size=BATCH)
        agreements = list(Agreement.objects.order_by("pk"))
        self._progress(f"{len(agreements):,} agreements")

        objectives = []
        for agreement in agreements:
            count = max(1, opts["objectives"] + rng.randint(-2, 2))
            for position, (source, unit, comparator, (low, high)) in enumerate(
                rng.sample(OBJECTIVE_KINDS * 2, count), start=1
            ):
                objectives.append(
                    Objective(
                        agreement=agreement,
                        name=f"Objective {position}",
                        metric_source=source,
                        comparator=comparator,
                        target=Decimal(rng.randint(low, high)),
                        unit=unit,
                        weight=Decimal(rng.randint(1, 3)),
                        position=position,
                    )
                )
        Objective.objects.bulk_create(objectives, batch_size=BATCH)
        self._progress(f"{len(objectives):,} objectives")

        providers = sorted({a.provider_id for a in agreements})
        partners: dict[int, list[int]] = {}
        for agreement in agreements:
            partners.setdefault(agreement.provider_id, []).append(agreement.consumer_id)
        manual = list(
            Objective.objects.filter(metric_source=Source.MANUAL).values_list(
                "pk", "unit", "target"
            )
        )
        counts["agreements"] = len(agreements)
        counts["objectives"] = len(objectives)
        counts["lead log entries"] = 0
        counts["closed customers"] = 0
        counts["friction reports"] = 0
        counts["measurements"] = 0
        for month in months:
            days = (periods.next_month(month) - month).days
            leads, customers, friction, measures = [], [], [], []
            for team_id in providers:
                for _ in range(4):
                    day = month + timedelta(days=rng.randrange(days))
                    delivered = rng.randint(20, 110)
                    leads.append(
                        LeadLogEntry(
                            team_id=team_id,
                            date=day,
                            month=month,
                            leads_delivered=delivered,
                            qualified_leads=rng.randint(0, delivered),
                            source="Campaign",
                            created_by=author,
                        )
                    )
                for n in range(rng.randint(2, 12)):
                    customers.append(
                        ClosedCustomer(
                            team_id=team_id,
                            customer=f"Customer {team_id}-{month:%Y%m}-{n}",
                            closed_on=month + timedelta(days=rng.randrange(days)),
                            month=month,
                            deal_value=Decimal(rng.randint(1, 90) * 1000),
                            created_by=author,
                        )
                    )
                for consumer_id in rng.sample(
                    partners[team_id], min(2, len(partners[team_id]))
                ):
                    friction.append(
                        FrictionReport(
                            reporting_team_id=team_id,
                            addressed_team_id=consumer_id,
                            customer=f"Customer {team_id}",
                            category=rng.choice(list(FrictionReport.Category.values)),
                            severity=rng.choice(list(FrictionReport.Severity.values)),
                            description="Synthetic friction report.",
                            month=month,
                            created_by=author,
                        )
                    )
            for pk, unit, target in manual:
                if unit == "percent":
                    value = min(Decimal(100), target + Decimal(rng.randint(-6, 4)))
                else:
                    value = max(Decimal(0), target + Decimal(rng.randint(-3, 5)))
                measures.append(
                    Measurement(
                        objective_id=pk, month=month, value=value, created_by=author
                    )
                )
            LeadLogEntry.objects.bulk_create(leads, batch_size=BATCH)
            ClosedCustomer.objects.bulk_create(customers, batch_size=BATCH)
            FrictionReport.objects.bulk_create(friction, batch_size=BATCH)
            Measurement.objects.bulk_create(measures, batch_size=BATCH)
            counts["lead log entries"] += len(leads)
            counts["closed customers"] += len(customers)
            counts["friction reports"] += len(friction)
            counts["measurements"] += len(measures)
            self._progress(f"figures for {month:%Y-%m}")
        return counts

    def _members(self, teams: list[Team]) -> int:
        """A lead and a head for every team, and one executive."""
        User = get_user_model()
        password = make_password(None)  # unusable: nobody logs in as them
        users = [
            User(
                username=f"{team.slug}-{role}",
                email=f"{team.slug}-{role}@{MEMBER_DOMAIN}",
                first_name=team.name,
                last_name=role.title(),
                password=password,
            )
            for team in teams
            for role in ("lead", "head")
        ]
        users.append(
            User(
                username="generated-executive",
                email=f"executive@{MEMBER_DOMAIN}",
                first_name="Executive",
                password=password,
            )
        )
        User.objects.bulk_create(users, batch_size=BATCH)
        by_name = dict(
            User.objects.filter(email__endswith=f"@{MEMBER_DOMAIN}").values_list(
                "username", "pk"
            )
        )
        roles = {"lead": Membership.Role.LEAD, "head": Membership.Role.HEAD}
        Membership.objects.bulk_create(
            [
                Membership(
                    team=team, user_id=by_name[f"{team.slug}-{role}"], role=roles[role]
                )
                for team in teams
                for role in roles
            ],
            batch_size=BATCH,
        )
        User.objects.get(pk=by_name["generated-executive"]).user_permissions.add(
            Permission.objects.get(
                codename="view_everything", content_type__app_label="agreements"
            )
        )
        return len(users)
