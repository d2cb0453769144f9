from __future__ import annotations

import datetime as dt
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model

from agreements import periods
from agreements.models import (
    Agreement,
    ClosedCustomer,
    FrictionComment,
    FrictionReport,
    LeadLogEntry,
    Measurement,
    Membership,
    Objective,
    PainPoint,
    Team,
)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password("correct-horse-battery")


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Team {n}")
    slug = factory.LazyAttribute(lambda t: t.name.lower().replace(" ", "-"))
    kind = Team.Kind.OTHER


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    team = factory.SubFactory(TeamFactory)
    role = Membership.Role.MEMBER


class AgreementFactory(factory.django.DjangoModelFactory):
    """An active agreement (both parties signed) unless told otherwise."""

    class Meta:
        model = Agreement

    provider = factory.SubFactory(TeamFactory)
    consumer = factory.SubFactory(TeamFactory)
    title = factory.Sequence(lambda n: f"Agreement {n}")
    effective_from = dt.date(2020, 1, 1)
    compensation_clause = "The provider makes up the shortfall the next month."
    status = Agreement.Status.ACTIVE
    created_by = factory.SubFactory(UserFactory)
    # Signed when it began, unless told otherwise: an agreement signed after
    # a month locked is not scored for that month.
    activated_at = factory.LazyAttribute(
        lambda a: (
            periods.month_start(a.effective_from)
            if a.status in (Agreement.Status.ACTIVE, Agreement.Status.RETIRED)
            else None
        )
    )


class ObjectiveFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Objective

    agreement = factory.SubFactory(AgreementFactory)
    name = factory.Sequence(lambda n: f"Objective {n}")
    metric_source = Objective.Source.LEADS_DELIVERED
    target = Decimal("100")
    unit = Objective.Unit.COUNT


class LeadLogEntryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LeadLogEntry

    team = factory.SubFactory(TeamFactory, kind=Team.Kind.MARKETING)
    date = factory.LazyFunction(periods.today)
    month = factory.LazyAttribute(lambda e: periods.month_of(e.date))
    leads_delivered = 10
    qualified_leads = 5
    source = "Newsletter"
    created_by = factory.SubFactory(UserFactory)


class ClosedCustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ClosedCustomer

    team = factory.SubFactory(TeamFactory, kind=Team.Kind.SALES)
    customer = factory.Faker("company")
    closed_on = factory.LazyFunction(periods.today)
    month = factory.LazyAttribute(lambda c: periods.month_of(c.closed_on))
    deal_value = Decimal("12000.00")
    handover_notes = "Wants a kick-off call in the first week."
    created_by = factory.SubFactory(UserFactory)


class MeasurementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Measurement

    objective = factory.SubFactory(
        ObjectiveFactory,
        metric_source=Objective.Source.MANUAL,
        unit=Objective.Unit.PERCENT,
        target=Decimal("99"),
    )
    month = factory.LazyFunction(periods.current_month)
    value = Decimal("99.5")
    created_by = factory.SubFactory(UserFactory)


class PainPointFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PainPoint

    title = factory.Sequence(lambda n: f"Pain point {n}")
    description = "Customers keep running into this."
    category = PainPoint.Category.PRODUCT


class FrictionReportFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FrictionReport

    reporting_team = factory.SubFactory(TeamFactory, kind=Team.Kind.SALES)
    addressed_team = factory.SubFactory(TeamFactory, kind=Team.Kind.CUSTOMER_SERVICE)
    customer = factory.Faker("company")
    category = FrictionReport.Category.PRODUCT
    severity = FrictionReport.Severity.MEDIUM
    description = "The export button times out for large accounts."
    month = factory.LazyFunction(periods.current_month)
    created_by = factory.SubFactory(UserFactory)


class FrictionCommentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FrictionComment

    report = factory.SubFactory(FrictionReportFactory)
    author = factory.SubFactory(UserFactory)
    team = factory.LazyAttribute(lambda comment: comment.report.addressed_team)
    body = "We are looking into it."
