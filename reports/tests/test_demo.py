"""The demo organisation as ``seed_demo`` leaves it: what a VP sees first."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from agreements import periods
from reports.models import Scorecard, ScorecardLine

pytestmark = pytest.mark.django_db


def test_seed_demo_scores_every_month_in_force_with_a_mix_of_results():
    call_command("seed_demo")
    months = periods.recent_months(12)
    stored = Scorecard.objects.all()
    # Every finished month of the year has its figures: none is "no data",
    # and nothing is scored before the figures begin.
    assert set(stored.values_list("month", flat=True)) <= set(months)
    assert not ScorecardLine.objects.filter(status="no_data").exists()
    statuses = set(stored.values_list("status", flat=True))
    assert {"met", "close_call", "missed"} <= statuses
