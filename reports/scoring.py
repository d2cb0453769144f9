"""How a month stands: one vocabulary, and the arithmetic behind each word.

Pure functions, no database. The scorecard engine (``reports.selectors.engine``)
gathers actual values in a fixed number of queries and hands them here, so
every rule about what "on track" or "met" means lives in this module and is
tested on hand-computed cases. Pages, emails, exports and the API show these
words, colours and icons and never decide one themselves.

A month that is still running, or closing (over, figures still due), is judged
on its pace: the target pro-rated to the share of the month's business days
gone. A finished (locked) month is judged on its figures alone.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal
from functools import cache
from typing import NamedTuple, overload

from agreements.models import Terms

HUNDRED = Decimal(100)
ZERO = Decimal(0)

# "Too early to tell" until a quarter of the business days are gone, or while
# fewer than this many are expected so far: a pace read off one or two
# entries says nothing.
EARLY_FRACTION = 0.25
EARLY_EXPECTED = Decimal(5)
# At the current pace, within this share of the target is "at risk"; further
# off is "off track".
AT_RISK_WITHIN = Decimal("0.2")


class Status:
    """Every word for an objective's (or an agreement's) month."""

    # A month still running, or closing.
    ON_TRACK = "on_track"
    AT_RISK = "at_risk"
    OFF_TRACK = "off_track"
    ALREADY_MET = "already_met"
    TOO_EARLY = "too_early"
    NO_DATA_YET = "no_data_yet"
    # A finished month.
    MET = "met"
    CLOSE_CALL = "close_call"
    MISSED = "missed"
    NO_DATA = "no_data"

    LIVE = (ON_TRACK, AT_RISK, OFF_TRACK, ALREADY_MET, TOO_EARLY, NO_DATA_YET)
    FINAL = (MET, CLOSE_CALL, MISSED, NO_DATA)
    ALL = LIVE + FINAL

    LABELS = {
        ON_TRACK: "On track",
        AT_RISK: "At risk",
        OFF_TRACK: "Off track",
        ALREADY_MET: "Already met",
        TOO_EARLY: "Too early to tell",
        NO_DATA_YET: "No data yet",
        MET: "Met",
        CLOSE_CALL: "Met, close call",
        MISSED: "Missed",
        NO_DATA: "No data",
    }
    # What each word means, for legends, tooltips and the API schema.
    MEANINGS = {
        ON_TRACK: "at the current pace the target will be met",
        AT_RISK: "at the current pace a close call, or within 20 % of the target",
        OFF_TRACK: "at the current pace more than 20 % short, or a ceiling passed",
        ALREADY_MET: "a count that has reached its target",
        TOO_EARLY: "less than a quarter of the business days gone, "
        "or fewer than 5 expected so far",
        NO_DATA_YET: "no value entered yet",
        MET: "the target was met",
        CLOSE_CALL: "met, but inside the warning band",
        MISSED: "the target was missed",
        NO_DATA: "owed and never reported: a miss of reporting",
    }
    # The colours of static/css/site.css (a test keeps them equal), written
    # out for emails and SVG, where CSS variables do not reach.
    COLOURS = {
        ON_TRACK: "#2e7d32",
        AT_RISK: "#ed8b00",
        OFF_TRACK: "#c62828",
        ALREADY_MET: "#1b5e20",
        TOO_EARLY: "#90a4ae",
        NO_DATA_YET: "#bdbdbd",
        MET: "#2e7d32",
        CLOSE_CALL: "#ed8b00",
        MISSED: "#c62828",
        NO_DATA: "#5e35b1",
    }
    # Text on each colour, readable at WCAG AA.
    INK = {
        ON_TRACK: "#ffffff",
        AT_RISK: "#212529",
        OFF_TRACK: "#ffffff",
        ALREADY_MET: "#ffffff",
        TOO_EARLY: "#212529",
        NO_DATA_YET: "#212529",
        MET: "#ffffff",
        CLOSE_CALL: "#212529",
        MISSED: "#ffffff",
        NO_DATA: "#ffffff",
    }
    # A glyph beside every colour, so no status is told by colour alone.
    ICONS = {
        ON_TRACK: "↗",
        AT_RISK: "!",
        OFF_TRACK: "↘",
        ALREADY_MET: "✓",
        TOO_EARLY: "…",
        NO_DATA_YET: "○",
        MET: "✓",
        CLOSE_CALL: "≈",
        MISSED: "✗",
        NO_DATA: "?",
    }
    # An agreement's headline is its worst line. A figure never reported
    # ranks just below a miss, so an incomplete month is never shown green.
    SEVERITY = {
        MISSED: 9,
        NO_DATA: 8,
        CLOSE_CALL: 7,
        MET: 6,
        OFF_TRACK: 5,
        AT_RISK: 4,
        NO_DATA_YET: 3,
        TOO_EARLY: 2,
        ON_TRACK: 1,
        ALREADY_MET: 0,
    }
    # Lines that count as "met" in "k of n objectives met" (a finished
    # month) or as going well (a running month).
    GOOD = frozenset({MET, CLOSE_CALL, ON_TRACK, ALREADY_MET})

    CHOICES: list[tuple[str, str]] = []  # filled in below the class
    FINAL_CHOICES: list[tuple[str, str]] = []


Status.CHOICES = [(key, Status.LABELS[key]) for key in Status.ALL]
Status.FINAL_CHOICES = [(key, Status.LABELS[key]) for key in Status.FINAL]


class Outcome(NamedTuple):
    """One objective's month as judged. Immutable; built once per
    objective and month, so a named tuple (see ``Terms``)."""

    actual: Decimal | None
    attainment: Decimal | None  # percent; may exceed 100
    status: str
    expected_so_far: Decimal | None = None  # running or closing month
    projected: Decimal | None = None  # running or closing month


@overload
def quantize(value: Decimal, places: str = ...) -> Decimal: ...
@overload
def quantize(value: None, places: str = ...) -> None: ...
def quantize(value: Decimal | None, places: str = "0.1") -> Decimal | None:
    if value is None:
        return None
    return Decimal(value).quantize(_exponent(places), rounding=ROUND_HALF_UP)


@cache
def _exponent(places: str) -> Decimal:
    return Decimal(places)


def attainment(terms: Terms, actual: Decimal) -> Decimal:
    """At least: actual ÷ target. At most: target ÷ actual, 100 % when actual
    is 0 (nothing happened, so the ceiling was kept). Never divides by zero:
    targets are above zero by a database constraint."""
    if terms.comparator == "at_most":
        if actual <= 0:
            return HUNDRED
        return terms.target / actual * HUNDRED
    return actual / terms.target * HUNDRED


def _final(terms: Terms, actual: Decimal) -> str:
    warn = terms.warning_threshold
    if terms.comparator == "at_most":
        if actual > terms.target:
            return Status.MISSED
        if warn is not None and actual > warn:
            return Status.CLOSE_CALL
        return Status.MET
    if actual < terms.target:
        return Status.MISSED
    if warn is not None and actual < warn:
        return Status.CLOSE_CALL
    return Status.MET


# A measured value judged as it stands, in the words of a running month.
_AS_IT_STANDS = {
    Status.MET: Status.ON_TRACK,
    Status.CLOSE_CALL: Status.AT_RISK,
    Status.MISSED: Status.OFF_TRACK,
}


def _by_pace(terms: Terms, projected: Decimal) -> str:
    """Where the month ends at the current pace, in a running month's words."""
    at_risk = terms.target * AT_RISK_WITHIN
    ending = _final(terms, projected)
    if ending == Status.MET:
        return Status.ON_TRACK
    if ending == Status.CLOSE_CALL:
        return Status.AT_RISK
    short = (
        projected - terms.target
        if terms.comparator == "at_most"
        else terms.target - projected
    )
    return Status.AT_RISK if short <= at_risk else Status.OFF_TRACK


def judge_final(terms: Terms, actual: Decimal | None) -> Outcome:
    """A finished month: met, met with a close call, missed, or no data."""
    if actual is None:
        return Outcome(actual=None, attainment=None, status=Status.NO_DATA)
    if type(actual) is not Decimal:  # the engine's figures are Decimals already
        actual = Decimal(actual)
    return Outcome(actual, attainment(terms, actual), _final(terms, actual))


def judge_live(
    terms: Terms, actual: Decimal | None, *, fraction: float, running: bool = True
) -> Outcome:
    """A month still running (``running``) or closing, ``fraction`` of its
    business days gone (0–1; 1 once it has ended).

    A count is judged on its pace: expected so far = target × fraction,
    projected = actual ÷ fraction. A measured value is judged as it stands.
    """
    if actual is None:
        return Outcome(actual=None, attainment=None, status=Status.NO_DATA_YET)
    actual = Decimal(actual)
    reached = attainment(terms, actual)
    if not terms.cumulative:
        return Outcome(actual, reached, _AS_IT_STANDS[_final(terms, actual)])

    share = Decimal(str(min(max(fraction, 0.0), 1.0)))
    expected = terms.target * share
    projected = actual / share if share > 0 else None
    if terms.comparator == "at_most":
        if actual > terms.target:
            status = Status.OFF_TRACK  # the ceiling is passed: cannot recover
        elif running and (fraction < EARLY_FRACTION or expected < EARLY_EXPECTED):
            status = Status.TOO_EARLY
        else:
            status = _by_pace(terms, projected if projected is not None else actual)
    elif actual >= terms.target:
        status = Status.ALREADY_MET
    elif running and (fraction < EARLY_FRACTION or expected < EARLY_EXPECTED):
        status = Status.TOO_EARLY
    else:
        status = _by_pace(terms, projected if projected is not None else actual)
    return Outcome(actual, reached, status, expected, projected)


def weighted_attainment(lines: Iterable[tuple[Terms, Outcome]]) -> Decimal | None:
    """A finished month's weighted attainment: the weighted mean of each
    objective's attainment, each capped at 100 % so that over-delivering on
    one cannot hide a miss on another. A figure owed and never reported
    counts as 0 %. ``None`` when there are no objectives."""
    total_weight = ZERO
    total = ZERO
    for terms, outcome in lines:
        reached = outcome.attainment if outcome.attainment is not None else ZERO
        total += terms.weight * min(reached, HUNDRED)
        total_weight += terms.weight
    if total_weight == 0:
        return None
    return total / total_weight


def worst_status(statuses: Iterable[str], *, final: bool = True) -> str:
    statuses = list(statuses)
    if not statuses:
        return Status.NO_DATA if final else Status.NO_DATA_YET
    return max(statuses, key=lambda s: Status.SEVERITY[s])


def good_count(statuses: Iterable[str]) -> int:
    """How many lines are met (or going well, in a running month)."""
    return sum(1 for s in statuses if s in Status.GOOD)


def headline(statuses: list[str], *, final: bool) -> str:
    """“2 of 3 objectives met”, or “2 of 3 on track” in a running month."""
    n = len(statuses)
    k = good_count(statuses)
    noun = "objective" if n == 1 else "objectives"
    if final:
        return f"{k} of {n} {noun} met"
    return f"{k} of {n} {noun} on track or met"


def expected_text(actual: Decimal | None, expected: Decimal | None) -> str:
    """The expected-so-far figure with the precision that decided the status:
    38 for 38.0, 5.2 when 5 was logged against 5.2, 5.04 against 5.04 —
    never a rounding that makes a shortfall look met or the reverse."""
    if expected is None:
        return ""
    expected = Decimal(expected)
    if actual is None:
        return _plain(quantize(expected, "1"))
    actual = Decimal(actual)
    behind = actual < expected
    for places in ("1", "0.1", "0.01"):
        shown = quantize(expected, places)
        if (actual < shown) == behind:
            return _plain(shown)
    # Closer than a hundredth: round away from the actual, so the words agree.
    rounding = ROUND_CEILING if behind else ROUND_FLOOR
    return _plain(expected.quantize(Decimal("0.01"), rounding=rounding))


def _plain(value: Decimal | None) -> str:
    if value is None:
        return ""
    if value == value.to_integral_value():
        return f"{value:,.0f}"
    return f"{value.normalize():,f}"
