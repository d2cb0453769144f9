"""The one vocabulary of a month's standing, on hand-computed cases: for each
(comparator, target, warning band, actual, share of business days gone) the
one word, and the arithmetic behind it."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agreements.models import Terms
from reports.scoring import (
    Outcome,
    Status,
    attainment,
    expected_text,
    headline,
    judge_final,
    judge_live,
    weighted_attainment,
    worst_status,
)

AT_LEAST_50 = Terms(comparator="at_least", target=D(50))
AT_LEAST_200_WARN_220 = Terms(
    comparator="at_least", target=D(200), warning_threshold=D(220)
)
AT_MOST_10 = Terms(comparator="at_most", target=D(10))
AT_MOST_3_HOURS = Terms(comparator="at_most", target=D(3), cumulative=False)
UPTIME = Terms(
    comparator="at_least", target=D(99), warning_threshold=D("99.5"), cumulative=False
)
ONE_REPORT = Terms(comparator="at_least", target=D(1))


@pytest.mark.parametrize(
    ("terms", "actual", "expected"),
    [
        (AT_LEAST_50, D(38), D(76)),
        (AT_LEAST_50, D(50), D(100)),
        (AT_LEAST_50, D(60), D(120)),
        (AT_LEAST_50, D(0), D(0)),
        (AT_MOST_3_HOURS, D(6), D(50)),
        (AT_MOST_3_HOURS, D("1.5"), D(200)),
        (AT_MOST_3_HOURS, D(0), D(100)),  # nothing to wait for: the ceiling kept
    ],
)
def test_attainment(terms, actual, expected):
    assert attainment(terms, actual) == expected


# A finished month: its figures alone decide.
FINAL_CASES = [
    (AT_LEAST_50, D(50), Status.MET),
    (AT_LEAST_50, D(49), Status.MISSED),
    (AT_LEAST_50, None, Status.NO_DATA),
    (AT_LEAST_200_WARN_220, D(203), Status.CLOSE_CALL),  # 101.5 %: a close call
    (AT_LEAST_200_WARN_220, D(220), Status.MET),
    (AT_LEAST_200_WARN_220, D(199), Status.MISSED),
    (AT_MOST_3_HOURS, D(3), Status.MET),
    (AT_MOST_3_HOURS, D("3.1"), Status.MISSED),
    (UPTIME, D("99.8"), Status.MET),
    (UPTIME, D("99.2"), Status.CLOSE_CALL),  # kept, but inside the warning band
    (UPTIME, D("98.9"), Status.MISSED),
    (UPTIME, None, Status.NO_DATA),
]


@pytest.mark.parametrize(("terms", "actual", "status"), FINAL_CASES)
def test_a_finished_month_is_met_a_close_call_missed_or_no_data(terms, actual, status):
    assert judge_final(terms, actual).status == status
    assert status in Status.FINAL


# A running month (``running``) or a closing one: (terms, actual, share of
# business days gone, running, status, expected so far).
LIVE_CASES = [
    # 45 of 200 on the first day: "Met" and "1680 of 200" before; now too early.
    (AT_LEAST_200_WARN_220, D(45), 0.05, True, Status.TOO_EARLY, D(10)),
    # A quarter gone but fewer than 5 expected: still too early.
    (ONE_REPORT, D(0), 0.9, True, Status.TOO_EARLY, D("0.9")),
    # 38 logged, 50 expected by now (target 100 at half the month): 76 at the
    # current pace, more than 20 % short.
    (
        Terms(comparator="at_least", target=D(100)),
        D(38),
        0.5,
        True,
        Status.OFF_TRACK,
        D(50),
    ),
    (
        Terms(comparator="at_least", target=D(100)),
        D(45),
        0.5,
        True,
        Status.AT_RISK,  # 90 at the current pace: within 20 % of 100
        D(50),
    ),
    (
        Terms(comparator="at_least", target=D(100)),
        D(50),
        0.5,
        True,
        Status.ON_TRACK,
        D(50),
    ),
    # 5 logged, 5.2 expected: behind, however the 5.2 is rounded on the page.
    (
        Terms(comparator="at_least", target=D(20)),
        D(5),
        0.26,
        True,
        Status.AT_RISK,
        D("5.20"),
    ),
    # On pace to end inside the warning band: at risk.
    (AT_LEAST_200_WARN_220, D(105), 0.5, True, Status.AT_RISK, D(100)),
    (AT_LEAST_200_WARN_220, D(115), 0.5, True, Status.ON_TRACK, D(100)),
    # A count that has reached its target is already met, however early.
    (AT_LEAST_50, D(50), 0.1, True, Status.ALREADY_MET, D(5)),
    (ONE_REPORT, D(1), 0.02, True, Status.ALREADY_MET, D("0.02")),
    # A ceiling: passing it is off track at once; on pace below it, on track.
    (AT_MOST_10, D(11), 0.3, True, Status.OFF_TRACK, D(3)),
    (AT_MOST_10, D(4), 0.1, True, Status.TOO_EARLY, D(1)),
    (AT_MOST_10, D(3), 0.5, True, Status.ON_TRACK, D(5)),  # 5 expected: not < 5
    # Measured values are judged as they stand, in a running month's words.
    (UPTIME, D("99.8"), 0.2, True, Status.ON_TRACK, None),
    (UPTIME, D("99.2"), 0.2, True, Status.AT_RISK, None),
    (UPTIME, D("98.0"), 0.2, True, Status.OFF_TRACK, None),
    (UPTIME, None, 0.2, True, Status.NO_DATA_YET, None),
    (AT_MOST_3_HOURS, D(4), 0.9, True, Status.OFF_TRACK, None),
    # A closing month (over, figures still due): the pace is the month.
    (AT_LEAST_50, D(45), 1.0, False, Status.AT_RISK, D(50)),
    (AT_LEAST_50, D(30), 1.0, False, Status.OFF_TRACK, D(50)),
    (AT_LEAST_50, D(50), 1.0, False, Status.ALREADY_MET, D(50)),
    (ONE_REPORT, D(0), 1.0, False, Status.OFF_TRACK, D(1)),  # never too early
    (AT_MOST_10, D(9), 1.0, False, Status.ON_TRACK, D(10)),
]


@pytest.mark.parametrize(
    ("terms", "actual", "fraction", "running", "status", "expected"), LIVE_CASES
)
def test_a_running_or_closing_month_is_judged_on_its_pace(
    terms, actual, fraction, running, status, expected
):
    outcome = judge_live(terms, actual, fraction=fraction, running=running)
    assert outcome.status == status
    assert status in Status.LIVE
    if expected is None:
        assert outcome.expected_so_far is None
    else:
        assert outcome.expected_so_far == expected


def test_the_pace_shows_the_precision_that_decided_the_status():
    # "5, about 5 expected by now → at risk" hid the 5.2 that decided it.
    assert expected_text(D(5), D("5.2")) == "5.2"
    assert expected_text(D(5), D("5.04")) == "5.04"
    assert expected_text(D(5), D("5.001")) == "5.01"  # rounded away from 5
    assert expected_text(D(38), D(50)) == "50"
    assert expected_text(D(50), D("49.6")) == "50"  # 50 ≥ 50: on track reads true
    assert expected_text(D(49), D("49.6")) == "50"
    assert expected_text(None, D("12.4")) == "12"
    assert expected_text(D(1), None) == ""


def test_weighted_attainment_caps_each_objective_and_counts_no_data_as_zero():
    lines = [
        (Terms("at_least", D(100), weight=D(1)), Outcome(D(150), D(150), "met")),
        (Terms("at_least", D(100), weight=D(3)), Outcome(D(50), D(50), "missed")),
    ]
    # (100 × 1 + 50 × 3) / 4: over-delivering on one cannot hide the miss.
    assert weighted_attainment(lines) == D("62.5")
    never = (Terms("at_least", D(99)), Outcome(None, None, Status.NO_DATA))
    # A figure owed and never reported: 0 %, not left out (it read "100 / 100"
    # beside "No data" before).
    assert weighted_attainment([lines[0], never]) == D(50)
    assert weighted_attainment([]) is None


def test_an_agreement_reads_as_its_worst_line_and_k_of_n_met():
    assert worst_status(["met", "close_call", "missed"]) == "missed"
    assert worst_status(["met", "close_call", "no_data"]) == "no_data"
    assert worst_status(["met", "close_call"]) == "close_call"
    assert worst_status(["on_track", "at_risk", "too_early"]) == "at_risk"
    assert worst_status(["already_met", "no_data_yet"]) == "no_data_yet"
    assert worst_status([]) == "no_data"
    assert worst_status([], final=False) == "no_data_yet"
    assert headline(["met", "close_call", "missed"], final=True) == (
        "2 of 3 objectives met"
    )
    assert headline(["on_track", "off_track"], final=False) == (
        "1 of 2 objectives on track or met"
    )


def test_every_word_has_a_label_a_meaning_a_colour_and_an_icon():
    for key in Status.ALL:
        assert Status.LABELS[key]
        assert Status.MEANINGS[key]
        assert Status.COLOURS[key].startswith("#")
        assert Status.ICONS[key]
        assert key in Status.SEVERITY
    assert set(Status.LIVE).isdisjoint(Status.FINAL)


def test_the_site_stylesheet_uses_the_vocabulary_colours():
    from pathlib import Path

    css = (Path(__file__).resolve().parents[2] / "static/css/site.css").read_text()
    for key in Status.ALL:
        assert f"--sp-{key.replace('_', '-')}: {Status.COLOURS[key]};" in css, key
        assert f".sp-score-{key} " in css and f".sp-cell-{key} " in css, key


targets = st.decimals(min_value=D("0.01"), max_value=D(10**6), places=2)
actuals = st.decimals(min_value=D(0), max_value=D(10**7), places=2)
fractions = st.floats(min_value=0, max_value=1)


@given(
    target=targets,
    warn=st.one_of(st.none(), st.decimals(min_value=D(0), max_value=D(2), places=2)),
    actual=actuals,
    fraction=fractions,
    running=st.booleans(),
)
def test_a_live_count_below_its_target_is_never_called_met(
    target, warn, actual, fraction, running
):
    warning = None if warn is None else target * (1 + warn)
    terms = Terms("at_least", target, warning_threshold=warning)
    outcome = judge_live(terms, actual, fraction=fraction, running=running)
    assert outcome.status in Status.LIVE
    if actual < target:
        assert outcome.status not in (Status.ALREADY_MET, Status.MET)
    else:
        assert outcome.status == Status.ALREADY_MET


@given(
    target=targets,
    actual=st.one_of(st.none(), actuals),
    comparator=st.sampled_from(["at_least", "at_most"]),
    cumulative=st.booleans(),
)
def test_a_finished_month_depends_only_on_its_figures(
    target, actual, comparator, cumulative
):
    terms = Terms(comparator, target, cumulative=cumulative)
    outcome = judge_final(terms, actual)
    assert outcome.status in Status.FINAL
    assert outcome.expected_so_far is None and outcome.projected is None
    if actual is not None:
        assert outcome.attainment >= 0
        met = actual >= target if comparator == "at_least" else actual <= target
        assert (outcome.status != Status.MISSED) == met
