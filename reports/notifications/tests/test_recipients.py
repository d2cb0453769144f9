"""Who gets which month-end email."""

from __future__ import annotations

import pytest
import time_machine

from reports.models import Delivery
from reports.notifications.jobs import computed_briefs, month_close, stored_briefs
from reports.notifications.preferences import preferences_update
from reports.notifications.recipients import plan_month_emails

from .moments import AFTER_CLOSE, JANUARY

Kind = Delivery.Kind
pytestmark = pytest.mark.django_db


def planned(plan) -> dict[str, set[str]]:
    by_kind: dict[str, set[str]] = {}
    for p in plan.deliveries:
        by_kind.setdefault(p.kind, set()).add(p.recipient.username)
    return by_kind


def test_digest_goes_to_executives_and_heads_scorecards_to_party_leaders(org):
    with time_machine.travel(AFTER_CLOSE, tick=False):
        plan = plan_month_emails(JANUARY, computed_briefs(JANUARY))
    assert planned(plan) == {
        Kind.DIGEST: {"executive", "marketing-head", "service-head"},
        # Leads, managers and heads of both parties; plain members and
        # outsiders get nothing.
        Kind.SCORECARD: {
            "marketing-lead",
            "marketing-head",
            "sales-lead",
            "sales-manager",
            "service-head",
        },
    }
    notes = {
        p.recipient.username: p.note for p in plan.deliveries if p.kind == "scorecard"
    }
    assert notes["sales-lead"] == "2 agreements"  # one email for both agreements
    assert notes["marketing-lead"] == "1 agreement"


def test_superusers_and_the_executives_group_get_the_digest(org, db):
    from django.contrib.auth.models import Group, Permission

    from agreements.tests.factories import UserFactory

    UserFactory(username="boss", is_superuser=True)
    group = Group.objects.create(name="Executives")
    group.permissions.add(Permission.objects.get(codename="view_everything"))
    coo = UserFactory(username="coo")
    coo.groups.add(group)
    UserFactory(username="gone", is_superuser=True, is_active=False)
    plan = plan_month_emails(JANUARY, [])
    assert {"boss", "coo"} <= planned(plan)[Kind.DIGEST]
    assert "gone" not in planned(plan)[Kind.DIGEST]


def test_stored_and_computed_plans_agree(org):
    with time_machine.travel(AFTER_CLOSE, tick=False):
        computed = planned(plan_month_emails(JANUARY, computed_briefs(JANUARY)))
        month_close(month=JANUARY, enqueue=False)
        stored = planned(plan_month_emails(JANUARY, stored_briefs(JANUARY)))
    assert computed == stored


def test_switched_off_scorecards_become_a_breach_notice_when_breached(org):
    people = org.people
    preferences_update(user=people["marketing-lead"], scorecards=False)  # breached
    preferences_update(user=people["service-head"], scorecards=False, digest=False)
    with time_machine.travel(AFTER_CLOSE, tick=False):
        plan = plan_month_emails(JANUARY, computed_briefs(JANUARY))
    by_kind = planned(plan)
    assert by_kind[Kind.BREACH] == {"marketing-lead"}
    assert "marketing-lead" not in by_kind[Kind.SCORECARD]
    # The handover agreement was met: nothing owed, nothing sent.
    assert "service-head" not in by_kind[Kind.SCORECARD]
    assert "service-head" not in by_kind[Kind.DIGEST]
    left_out = {(u.username, kind, why) for u, kind, why in plan.left_out}
    assert ("service-head", Kind.DIGEST, "switched off") in left_out
    assert ("service-head", Kind.SCORECARD, "switched off") in left_out


def test_people_without_an_address_are_left_out_with_the_reason(org):
    lead = org.people["marketing-lead"]
    lead.email = ""
    lead.save()
    with time_machine.travel(AFTER_CLOSE, tick=False):
        plan = plan_month_emails(JANUARY, computed_briefs(JANUARY))
    assert "marketing-lead" not in planned(plan)[Kind.SCORECARD]
    assert (lead, Kind.SCORECARD, "no email address") in plan.left_out
