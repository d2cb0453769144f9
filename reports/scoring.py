"""Attainment, status and score: pure arithmetic, no database.

The scorecard engine (``reports.selectors.engine``) gathers actual values in a fixed
number of queries and hands them to these functions, so every rule about what
"met" means lives here and is tested on hand-computed cases.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

HUNDRED = Decimal(100)
ZERO = Decimal(0)


class Status:
    MET = "met"
    AT_RISK = "at_risk"
    MISSED = "missed"
    NO_DATA = "no_data"

    LABELS = {
        MET: "Met",
        AT_RISK: "At risk",
        MISSED: "Missed",
        NO_DATA: "No data",
    }
    # An agreement's status is its worst objective's; a missing figure ranks
    # above "met" so that an incomplete month is never shown as all green.
    SEVERITY = {MISSED: 3, AT_RISK: 2, NO_DATA: 1, MET: 0}
    CHOICES = list(LABELS.items())


@dataclass(frozen=True)
class Terms:
    """What an objective promises, as the engine needs it."""

    comparator: str  # "at_least" | "at_most"
    target: Decimal
    weight: Decimal = Decimal(1)
    warning_threshold: Decimal | None = None
    cumulative: bool = True  # counted over the month (pace applies)


@dataclass(frozen=True)
class Outcome:
    actual: Decimal | None
    attainment: Decimal | None  # percent; may exceed 100
    status: str
    expected_so_far: Decimal | None = None  # live month only
    projected: Decimal | None = None  # live month only


def quantize(value: Decimal | None, places: str = "0.1") -> Decimal | None:
    if value is None:
        return None
    return Decimal(value).quantize(Decimal(places), rounding=ROUND_HALF_UP)


def attainment(terms: Terms, actual: Decimal) -> Decimal:
    """At least: actual ÷ target. At most: target ÷ actual, 100 % when actual
    is 0 (nothing happened, so the ceiling was kept). Never divides by zero:
    targets are above zero by a database constraint."""
    if terms.comparator == "at_most":
        if actual <= 0:
            return HUNDRED
        return terms.target / actual * HUNDRED
    return actual / terms.target * HUNDRED


def _final_status(terms: Terms, actual: Decimal) -> str:
    warn = terms.warning_threshold
    if terms.comparator == "at_most":
        if actual > terms.target:
            return Status.MISSED
        if warn is not None and actual > warn:
            return Status.AT_RISK
        return Status.MET
    if actual < terms.target:
        return Status.MISSED
    if warn is not None and actual < warn:
        return Status.AT_RISK
    return Status.MET


def evaluate(
    terms: Terms, actual: Decimal | None, *, elapsed: float | None = None
) -> Outcome:
    """Judge one objective for a month.

    ``elapsed`` is the fraction of a live month gone by (0–1); ``None`` means
    the month is over. During the month a cumulative objective is judged by
    its pace: projected = actual ÷ elapsed fraction.
    """
    if actual is None:
        return Outcome(actual=None, attainment=None, status=Status.NO_DATA)
    actual = Decimal(actual)
    reached = attainment(terms, actual)
    live = elapsed is not None and elapsed < 1
    if not live or not terms.cumulative:
        return Outcome(actual, reached, _final_status(terms, actual))

    fraction = Decimal(str(max(elapsed, 0.0)))
    expected = terms.target * fraction
    projected = actual / fraction if fraction > 0 else None
    if terms.comparator == "at_most":
        if actual > terms.target:
            status = Status.MISSED  # already over the ceiling: cannot recover
        elif projected is not None and projected > terms.target:
            status = Status.AT_RISK
        else:
            status = Status.MET
    elif actual >= terms.target:
        status = _final_status(terms, actual)
    elif projected is None or projected < terms.target:
        status = Status.AT_RISK
    else:
        status = Status.MET
    return Outcome(actual, reached, status, expected, projected)


def agreement_score(lines: list[tuple[Terms, Outcome]]) -> Decimal | None:
    """Weighted mean of the objectives' attainment, each capped at 100 % so
    that over-delivering on one objective cannot hide a miss on another.
    Objectives without data are left out; ``None`` if none has data."""
    total_weight = ZERO
    total = ZERO
    for terms, outcome in lines:
        if outcome.attainment is None:
            continue
        total += terms.weight * min(outcome.attainment, HUNDRED)
        total_weight += terms.weight
    if total_weight == 0:
        return None
    return total / total_weight


def worst_status(statuses: list[str]) -> str:
    if not statuses:
        return Status.NO_DATA
    return max(statuses, key=lambda s: Status.SEVERITY[s])
