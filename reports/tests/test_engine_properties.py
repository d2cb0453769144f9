"""Properties of finalising, over generated figures (hypothesis)."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reports.models import Breach, Scorecard, ScorecardLine
from reports.services import scorecards_finalise

from .builders import AFTER_JANUARY_LOCKED, JANUARY, leads_agreement, log_leads

pytestmark = pytest.mark.django_db

entries = st.lists(
    st.tuples(
        st.integers(min_value=1, max_value=31),  # day of January
        st.integers(min_value=0, max_value=150),  # delivered
        st.integers(min_value=0, max_value=150),  # qualified (capped below)
    ),
    max_size=8,
)


def snapshot() -> list[tuple]:
    lines = sorted(
        (line.objective.name, line.actual, line.attainment, line.status)
        for line in ScorecardLine.objects.select_related("objective")
    )
    status, score = Scorecard.objects.values_list("status", "score").get()
    return [*lines, ("card", status, score)]


def finalise_with(rows, marketing, sales) -> tuple[list, int]:
    """Log ``rows`` in that order, finalise twice; roll everything back."""
    with transaction.atomic():
        leads_agreement(marketing, sales)
        for day, delivered, qualified in rows:
            log_leads(
                marketing, dt.date(2026, 1, day), delivered, min(qualified, delivered)
            )
        with time_machine.travel(AFTER_JANUARY_LOCKED, tick=False):
            scorecards_finalise(month=JANUARY)
            first = snapshot()
            writes = Scorecard.history.count() + ScorecardLine.history.count()
            writes += Breach.history.count()
            scorecards_finalise(month=JANUARY)
            again = snapshot()
            writes_after = Scorecard.history.count() + ScorecardLine.history.count()
            writes_after += Breach.history.count()
        assert again == first, "finalising twice changed the scorecard"
        assert writes_after == writes, "finalising twice wrote history"
        transaction.set_rollback(True)
    return first


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(rows=entries, order=st.randoms(use_true_random=False))
def test_finalising_is_idempotent_and_ignores_submission_order(
    rows, order, marketing, sales
):
    forwards = finalise_with(rows, marketing, sales)
    shuffled = list(rows)
    order.shuffle(shuffled)
    assert finalise_with(shuffled, marketing, sales) == forwards
