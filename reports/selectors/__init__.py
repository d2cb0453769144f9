"""Reads of the reports app.

``engine``: the scorecard engine (versions in force, actuals, computed
scorecards). Every function runs a fixed number of queries, whatever the size
of the organisation.
"""

from .engine import (
    LineResult,
    ScorecardResult,
    Status,
    collect_actuals,
    scorecard_for,
    scorecards_for_months,
    terms_of,
    versions_in_force,
)

__all__ = [
    "LineResult",
    "ScorecardResult",
    "Status",
    "collect_actuals",
    "scorecard_for",
    "scorecards_for_months",
    "terms_of",
    "versions_in_force",
]
