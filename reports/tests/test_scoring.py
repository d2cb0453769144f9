"""The arithmetic of a scorecard, on hand-computed cases."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reports.scoring import (
    Outcome,
    Status,
    Terms,
    agreement_score,
    attainment,
    evaluate,
    worst_status,
)

AT_LEAST_50 = Terms(comparator="at_least", target=D(50))
AT_MOST_3 = Terms(comparator="at_most", target=D(3), cumulative=False)
UPTIME = Terms(
    comparator="at_least", target=D(99), warning_threshold=D("99.5"), cumulative=False
)


@pytest.mark.parametrize(
    ("terms", "actual", "expected"),
    [
        (AT_LEAST_50, D(38), D(76)),
        (AT_LEAST_50, D(50), D(100)),
        (AT_LEAST_50, D(60), D(120)),
        (AT_LEAST_50, D(0), D(0)),
        (AT_MOST_3, D(6), D(50)),
        (AT_MOST_3, D("1.5"), D(200)),
        (AT_MOST_3, D(0), D(100)),  # nothing to wait for: the ceiling was kept
    ],
)
def test_attainment(terms, actual, expected):
    assert attainment(terms, actual) == expected


@pytest.mark.parametrize(
    ("terms", "actual", "status"),
    [
        (AT_LEAST_50, D(50), Status.MET),
        (AT_LEAST_50, D(49), Status.MISSED),
        (AT_MOST_3, D(3), Status.MET),
        (AT_MOST_3, D("3.1"), Status.MISSED),
        (UPTIME, D("99.7"), Status.MET),
        (UPTIME, D("99.2"), Status.AT_RISK),  # kept, but inside the warning band
        (UPTIME, D("98.9"), Status.MISSED),
        (AT_LEAST_50, None, Status.NO_DATA),
    ],
)
def test_final_status(terms, actual, status):
    assert evaluate(terms, actual).status == status


def test_at_most_warning_band():
    terms = Terms(comparator="at_most", target=D(3), warning_threshold=D("2.5"))
    assert evaluate(terms, D("2.7")).status == Status.AT_RISK
    assert evaluate(terms, D("2.4")).status == Status.MET


def test_live_month_projects_the_pace():
    # 19 customers after 40 % of the month: at this pace 47.5 of 50.
    outcome = evaluate(AT_LEAST_50, D(19), elapsed=0.4)
    assert outcome.expected_so_far == D(20)
    assert outcome.projected == D("47.5")
    assert outcome.status == Status.AT_RISK


def test_live_month_on_pace_is_met():
    outcome = evaluate(AT_LEAST_50, D(26), elapsed=0.5)
    assert outcome.projected == D(52)
    assert outcome.status == Status.MET


def test_live_month_already_over_a_ceiling_is_missed():
    terms = Terms(comparator="at_most", target=D(5))
    assert evaluate(terms, D(6), elapsed=0.3).status == Status.MISSED
    assert evaluate(terms, D(3), elapsed=0.3).status == Status.AT_RISK  # pace 10
    assert evaluate(terms, D(1), elapsed=0.5).status == Status.MET


def test_live_month_at_its_first_instant_does_not_divide_by_zero():
    outcome = evaluate(AT_LEAST_50, D(0), elapsed=0.0)
    assert outcome.projected is None
    assert outcome.status == Status.AT_RISK


def test_a_measured_level_is_not_pro_rated():
    assert evaluate(UPTIME, D("99.8"), elapsed=0.2).status == Status.MET
    assert evaluate(UPTIME, D("99.8"), elapsed=0.2).projected is None


def test_weighted_score_caps_each_objective_at_100():
    lines = [
        (Terms("at_least", D(200), weight=D(1)), Outcome(D(300), D(150), "met")),
        (Terms("at_least", D(120), weight=D(3)), Outcome(D(60), D(50), "missed")),
    ]
    # (1 × 100 + 3 × 50) / 4
    assert agreement_score(lines) == D("62.5")


def test_score_leaves_out_objectives_without_data():
    lines = [
        (Terms("at_least", D(10), weight=D(2)), Outcome(D(8), D(80), "missed")),
        (Terms("at_least", D(10), weight=D(5)), Outcome(None, None, "no_data")),
    ]
    assert agreement_score(lines) == D(80)
    assert agreement_score([lines[1]]) is None


def test_worst_status_orders_missed_risk_nodata_met():
    assert worst_status(["met", "at_risk", "missed"]) == "missed"
    assert worst_status(["met", "no_data"]) == "no_data"
    assert worst_status(["met", "at_risk", "no_data"]) == "at_risk"
    assert worst_status([]) == "no_data"


@given(
    target=st.decimals(min_value=D("0.01"), max_value=D(10**6), places=2),
    actual=st.decimals(min_value=D(0), max_value=D(10**7), places=2),
    comparator=st.sampled_from(["at_least", "at_most"]),
    elapsed=st.one_of(st.none(), st.floats(min_value=0, max_value=1)),
)
def test_evaluate_never_fails_and_attainment_is_not_negative(
    target, actual, comparator, elapsed
):
    outcome = evaluate(Terms(comparator, target), actual, elapsed=elapsed)
    assert outcome.attainment >= 0
    assert outcome.status in Status.LABELS
