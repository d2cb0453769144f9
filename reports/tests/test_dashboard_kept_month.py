"""The organisation's judgement of a month not finalised yet (closing, or
locked before its close) is kept while that month's figures stand: figures
arriving for the running month do not make every agreement be judged again,
and a change to the month itself is shown at once."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from agreements.models import Membership
from agreements.tests.factories import MembershipFactory, UserFactory
from reports.selectors import overview

from .builders import JANUARY, build_org, log_leads

pytestmark = pytest.mark.django_db

DASHBOARD = reverse("reports:dashboard")


@pytest.fixture
def builds(monkeypatch) -> list[dt.date]:
    """The months the organisation's unfinalised month was judged for."""
    judged: list[dt.date] = []
    build = overview._report_month_build

    def counting(agreements, month, now):
        judged.append(month)
        return build(agreements, month, now)

    monkeypatch.setattr(overview, "_report_month_build", counting)
    return judged


def board(client, **params):
    response = client.get(DASHBOARD, params)
    assert response.status_code == 200
    return response.context["board"]


def test_figures_of_the_running_month_leave_the_judged_month_kept(
    client, executive, frozen, memory_cache, builds
):
    agreements = build_org(3)
    client.force_login(executive)
    first = board(client)
    assert first.report_month == JANUARY and not first.closing
    assert builds == [JANUARY]

    # February's figures: the page is built again (its February column
    # moves), January's judgement is not.
    log_leads(agreements[0].provider, dt.date(2026, 2, 9), 500, 300)
    second = board(client)
    assert builds == [JANUARY]
    assert second.summary == first.summary
    assert second.late == first.late

    # The status filter reads the kept statuses too.
    missed = board(client, status="missed")
    assert builds == [JANUARY]
    assert len(missed.rows) == first.summary["missed"]


def test_a_change_to_the_judged_month_is_shown_at_once(
    client, executive, frozen, memory_cache, builds
):
    agreements = build_org(2)
    client.force_login(executive)
    assert board(client).late == []

    # Agreement 0's January uptime taken back: nothing in by the deadline.
    agreements[0].objectives.get(name="Uptime").measurements.get().delete()
    late = board(client).late
    assert builds == [JANUARY, JANUARY]
    assert [(r.team.pk, r.count) for r in late] == [(agreements[0].provider_id, 1)]


def test_a_change_without_a_month_moves_every_month(
    client, executive, frozen, memory_cache, builds
):
    agreements = build_org(1)
    uptime = agreements[0].objectives.get(name="Uptime")
    uptime.measurements.all().delete()
    client.force_login(executive)
    late = board(client).late
    assert [r.team.name for r in late] == [agreements[0].provider.name]

    team = agreements[0].provider
    team.name = "Renamed provider"
    team.save()
    assert [r.team.name for r in board(client).late] == ["Renamed provider"]
    assert builds == [JANUARY, JANUARY]


def test_a_head_s_narrower_view_is_judged_on_every_build(
    client, frozen, memory_cache, builds
):
    agreements = build_org(2)
    head = UserFactory()
    MembershipFactory(user=head, team=agreements[0].provider, role=Membership.Role.HEAD)
    client.force_login(head)
    assert len(board(client).rows) == 1
    assert len(board(client, page=1).rows) == 1
    # Two builds of the page, each judging January for the head's teams.
    assert builds == [JANUARY, JANUARY]
