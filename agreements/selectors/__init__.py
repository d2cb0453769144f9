"""Reads that are more than a filter. Each runs a fixed number of queries,
whatever the number of rows."""

from .agreements import (
    HistoryEntry,
    VersionDiff,
    agreement_history,
    agreement_overview,
    version_diff,
)
from .knowledge_base import (
    PainPointSummary,
    friction_report_list,
    friction_tag_counts,
    pain_point_summaries,
)
from .progress import (
    Correction,
    FieldChange,
    ObjectiveProgress,
    agreement_in_force,
    corrections_for_agreement,
    in_force_q,
    month_progress,
)

__all__ = [
    "Correction",
    "FieldChange",
    "HistoryEntry",
    "ObjectiveProgress",
    "PainPointSummary",
    "VersionDiff",
    "agreement_history",
    "agreement_in_force",
    "agreement_overview",
    "corrections_for_agreement",
    "friction_report_list",
    "friction_tag_counts",
    "in_force_q",
    "month_progress",
    "pain_point_summaries",
    "version_diff",
]
