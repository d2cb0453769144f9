"""Reads of the reports app.

``engine``: the scorecard engine (versions in force, actuals, computed
scorecards). ``cards``: scorecards as pages show them, stored or computed.
``scorecard``: one agreement's scorecard page. ``overview``: the latest status
of many agreements, the team page and the VP dashboard. Every function runs a
fixed number of queries, whatever the size of the organisation.
"""

from .breaches import BreachEvent, breach_history
from .cards import CardView, LineView, State, cards_for
from .engine import (
    LineResult,
    ScorecardResult,
    Status,
    collect_actuals,
    objective_of,
    scorecard_for,
    scorecards_for_months,
    terms_of,
    versions_in_force,
)
from .my_month import DueLine, MyMonth, Waiting, my_month
from .overview import (
    Dashboard,
    HeatRow,
    LateReporter,
    TeamOverview,
    dashboard,
    dashboard_scope,
    dashboard_teams,
    report_cards,
    team_overview,
)
from .scorecard import AgreementScorecard, Trend, agreement_scorecard

__all__ = [
    "AgreementScorecard",
    "BreachEvent",
    "CardView",
    "Dashboard",
    "DueLine",
    "HeatRow",
    "LateReporter",
    "LineResult",
    "LineView",
    "MyMonth",
    "ScorecardResult",
    "State",
    "Status",
    "TeamOverview",
    "Trend",
    "Waiting",
    "agreement_scorecard",
    "breach_history",
    "cards_for",
    "collect_actuals",
    "dashboard",
    "dashboard_scope",
    "dashboard_teams",
    "my_month",
    "objective_of",
    "report_cards",
    "scorecard_for",
    "scorecards_for_months",
    "team_overview",
    "terms_of",
    "versions_in_force",
]
