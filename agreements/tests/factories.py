from __future__ import annotations

import datetime
import decimal

import factory
from django.contrib.auth import get_user_model

from agreements.models import Membership, Team


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
    """A draft agreement; pass ``status`` and add signatures for other states."""

    class Meta:
        model = "agreements.Agreement"

    provider = factory.SubFactory(TeamFactory)
    consumer = factory.SubFactory(TeamFactory)
    title = factory.Sequence(lambda n: f"Agreement {n}")
    summary = "Who promises what to whom."
    effective_from = factory.LazyFunction(lambda: datetime.date(2026, 1, 1))
    compensation_clause = "The provider makes up any shortfall the next month."
    created_by = factory.SubFactory(UserFactory)


class ObjectiveFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "agreements.Objective"

    agreement = factory.SubFactory(AgreementFactory)
    name = factory.Sequence(lambda n: f"Objective {n}")
    metric_source = "leads_delivered"
    comparator = "at_least"
    target = decimal.Decimal("100")
    unit = "count"
    weight = decimal.Decimal("1")
