"""A finalised month's stored totals: what the executive dashboard reads
instead of every scorecard, written by finalising and kept by the breach
services."""

from __future__ import annotations

import datetime as dt
import importlib

import pytest
from django.apps import apps
from django.urls import reverse

from agreements.models import Agreement, Membership
from agreements.tests.factories import MembershipFactory
from reports.models import Breach, MonthTotals
from reports.selectors.cards import cards_for
from reports.selectors.overview import _late_from_cards, _late_order
from reports.services import breach_acknowledge, breach_resolve, scorecards_finalise

from .builders import JANUARY, UTC, build_org, measure

pytestmark = pytest.mark.django_db

DASHBOARD = reverse("reports:dashboard")


def computed_from_cards(month: dt.date) -> tuple[dict, list]:
    """The month's statuses and late reporters, computed from the figures as
    if it had never been finalised."""
    cards = cards_for([month], agreements=Agreement.objects.all(), finalised=set())
    summary, late = _late_from_cards(cards)
    late.sort(key=_late_order)
    return dict(summary), [
        (r.team.pk, r.count, [(i.agreement_id, i.name, i.actual) for i in r.items])
        for r in late
    ]


def shown(client) -> tuple[dict, list]:
    board = client.get(DASHBOARD).context["board"]
    return {k: n for k, n in board.summary.items() if n}, [
        (r.team.pk, r.count, [(i.agreement_id, i.name, i.actual) for i in r.items])
        for r in board.late
    ]


def breach_counts() -> dict[str, int]:
    return {
        key: Breach.objects.filter(month=JANUARY, status=key).count()
        for key in Breach.Status.values
    }


def late_uptime(agreement: Agreement, value: str = "99.5") -> None:
    """The agreement's uptime, measured only after January locked."""
    uptime = agreement.objectives.get(name="Uptime")
    uptime.measurements.all().delete()
    measure(uptime, JANUARY, value, at=dt.datetime(2026, 2, 6, tzinfo=UTC))


def test_stored_totals_equal_the_totals_computed_from_the_cards(
    client, executive, frozen
):
    agreements = build_org(6)
    late_uptime(agreements[1])
    late_uptime(agreements[2], "98")
    scorecards_finalise(month=JANUARY)
    totals = MonthTotals.objects.get(month=JANUARY)
    expected = computed_from_cards(JANUARY)
    client.force_login(executive)
    assert shown(client) == expected
    assert {k: n for k, n in totals.statuses.items() if n} == expected[0]
    assert totals.late_teams == len(expected[1]) == 2
    assert totals.breaches == breach_counts()
    assert sum(totals.breaches.values()) > 0


def test_a_correction_refinalised_updates_the_stored_totals(client, executive, frozen):
    agreements = build_org(4)
    scorecards_finalise(month=JANUARY)
    before = MonthTotals.objects.get(month=JANUARY)
    # A head corrects January: agreement 0's uptime (98, missed) made good,
    # agreement 1's (99.5) replaced by a miss, both after the deadline.
    late_uptime(agreements[0], "99.9")
    late_uptime(agreements[1], "90")
    report = scorecards_finalise(month=JANUARY, reason="correction: re-measured")
    assert report.breaches_opened == 1 and report.breaches_cleared == 1
    after = MonthTotals.objects.get(month=JANUARY)
    assert after.pk == before.pk
    assert after.breaches == breach_counts()
    assert after.breaches_resolved == before.breaches_resolved + 1
    assert after.late_teams == 2
    client.force_login(executive)
    assert shown(client) == computed_from_cards(JANUARY)


def test_acknowledging_and_resolving_a_breach_moves_it_in_the_totals(
    client, executive, frozen
):
    build_org(3)
    scorecards_finalise(month=JANUARY)
    breach = Breach.objects.select_related("agreement").order_by("pk").first()
    lead = MembershipFactory(
        team=breach.agreement.provider, role=Membership.Role.LEAD
    ).user
    breach_acknowledge(breach=breach, user=lead)
    assert MonthTotals.objects.get(month=JANUARY).breaches == breach_counts()
    breach_resolve(breach=breach, user=lead, note="Made up in February.")
    totals = MonthTotals.objects.get(month=JANUARY)
    assert totals.breaches == breach_counts()
    assert totals.breaches_resolved == 1
    client.force_login(executive)
    board = client.get(DASHBOARD).context["board"]
    assert board.breach_counts == {
        key: Breach.objects.filter(status=key).count() for key in Breach.Status.values
    }
    assert board.breach_total == Breach.objects.exclude(status="resolved").count()


def test_the_upgrade_backfills_the_totals_of_months_finalised_before(frozen):
    agreements = build_org(5)
    late_uptime(agreements[3])
    scorecards_finalise(month=JANUARY)
    stored = MonthTotals.objects.values().get(month=JANUARY)
    MonthTotals.objects.all().delete()
    migration = importlib.import_module("reports.migrations.0009_month_totals")
    migration.backfill(apps, None)
    backfilled = MonthTotals.objects.values().get(month=JANUARY)
    ignored = ("id", "computed_at")
    assert {k: v for k, v in backfilled.items() if k not in ignored} == {
        k: v for k, v in stored.items() if k not in ignored
    }
    assert backfilled["late_teams"] == 1
