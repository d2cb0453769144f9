"""The benchmark organisation: every agreement it generates is scored for
every month it has figures for, whatever day it is generated on."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from agreements import periods
from agreements.models import Agreement, in_force_q

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("now", ["2026-12-04T12:00Z", "2027-01-02T08:00Z"])
def test_every_generated_agreement_is_in_force_in_every_generated_month(
    time_machine, now
):
    time_machine.move_to(now, tick=False)
    call_command(
        "generate_org", teams=4, agreements=3, objectives=2, months=3, stdout=None
    )
    current = periods.current_month()
    for back in range(3):
        month = periods.add_months(current, -back)
        assert Agreement.objects.filter(in_force_q(month)).count() == 3, month


def test_every_generated_team_has_a_lead_and_a_head_to_email(time_machine):
    from django.contrib.auth import get_user_model

    from agreements.models import Membership, Team

    time_machine.move_to("2026-12-04T12:00Z", tick=False)
    call_command(
        "generate_org", teams=4, agreements=3, objectives=2, months=1, stdout=None
    )
    for team in Team.objects.all():
        roles = set(
            team.memberships.exclude(user__email="").values_list("role", flat=True)
        )
        assert roles == {Membership.Role.LEAD, Membership.Role.HEAD}, team
    executive = get_user_model().objects.get(username="generated-executive")
    assert executive.has_perm("agreements.view_everything")
    call_command(
        "generate_org", teams=2, agreements=1, months=1, replace=True, stdout=None
    )
    assert Membership.objects.count() == 4
