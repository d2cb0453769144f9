"""What a person may do with an agreement now: ``agreement_actions`` asks the
rules one agreement at a time, ``agreement_actions_for`` answers a whole page
in one pass. They must never disagree, for anyone, in any state."""

from __future__ import annotations

import itertools

import pytest
from django.contrib.auth import get_user_model

from agreements.models import Agreement, Membership, Signature
from agreements.rules import (
    AGREEMENT_ACTIONS,
    agreement_actions,
    agreement_actions_for,
)
from agreements.tests.factories import AgreementFactory, MembershipFactory
from conftest import make_member

pytestmark = pytest.mark.django_db

PERSONAS = (
    "marketing_lead",
    "marketing_head",
    "marketing_member",
    "sales_lead",
    "sales_manager",
    "sales_head",
    "sales_member",
    "service_lead",
    "service_head",
    "executive",
    "outsider",
)


@pytest.fixture
def every_state(marketing, sales, service, marketing_lead, sales_lead):
    """Agreements between each pair of the three teams, in every status, with
    every set of party signatures (none, provider's, consumer's, both)."""
    for (provider, consumer), status in itertools.product(
        itertools.permutations((marketing, sales, service), 2), Agreement.Status
    ):
        for signers in ((), (provider,), (consumer,), (provider, consumer)):
            agreement = AgreementFactory(
                provider=provider,
                consumer=consumer,
                status=status,
                created_by=marketing_lead,
            )
            for team in signers:
                Signature.objects.create(
                    agreement=agreement, team=team, signed_by=sales_lead, role="lead"
                )


@pytest.fixture
def lead_of_both_parties(marketing, sales):
    """Leads Marketing and manages Sales: may sign for either party."""
    user = make_member("two-hats", marketing, Membership.Role.LEAD)
    MembershipFactory(user=user, team=sales, role=Membership.Role.MANAGER)
    return user


@pytest.fixture
def former_lead(marketing):
    """Still a lead of Marketing on paper, but their account is deactivated."""
    return make_member("former-lead", marketing, Membership.Role.LEAD, is_active=False)


def _agreements() -> list[Agreement]:
    return list(Agreement.objects.prefetch_related("signatures").order_by("pk"))


def _fresh(user):
    # Nothing cached on the user object carries over from one way of asking
    # to the other.
    return get_user_model().objects.get(pk=user.pk)


@pytest.mark.parametrize("persona", [*PERSONAS, "lead_of_both_parties", "former_lead"])
def test_agreement_actions_for_answers_as_the_rules(persona, every_state, request):
    user = request.getfixturevalue(persona)
    agreements = _agreements()
    assert len(agreements) == 6 * len(Agreement.Status) * 4

    one_by_one = {a.pk: agreement_actions(_fresh(user), a) for a in agreements}
    at_once = agreement_actions_for(_fresh(user), agreements)

    assert at_once == one_by_one
    # The same types too: the API renders them as they are.
    for pk, actions in at_once.items():
        assert [type(v) for v in actions.values()] == [
            type(v) for v in one_by_one[pk].values()
        ]


def test_the_comparison_covers_each_action_both_ways(every_state, request):
    """The test above proves nothing if every answer were False: across the
    personas, each action is both offered and refused somewhere."""
    seen: dict[str, set] = {}
    for persona in ("marketing_lead", "sales_manager", "service_head", "outsider"):
        user = request.getfixturevalue(persona)
        for actions in agreement_actions_for(user, _agreements()).values():
            for name, value in actions.items():
                seen.setdefault(name, set()).add(bool(value))
    assert seen == {name: {True, False} for name in [*AGREEMENT_ACTIONS, "sign_for"]}


def test_agreement_actions_for_reads_the_teams_once(
    every_state, sales_manager, django_assert_num_queries
):
    agreements = _agreements()
    user = _fresh(sales_manager)
    with django_assert_num_queries(1):
        agreement_actions_for(user, agreements)


def test_agreement_actions_for_of_no_agreements_is_empty(marketing_lead):
    assert agreement_actions_for(marketing_lead, []) == {}
