"""Reads that are more than a filter. Each runs a fixed number of queries,
whatever the number of rows."""

from .agreements import (
    HistoryEntry,
    VersionDiff,
    agreement_history,
    agreement_overview,
    version_diff,
)
from .corrections import Correction, FieldChange, corrections_for_agreement
from .history import (
    SubmissionHistoryEntry,
    TimelineEvent,
    friction_timeline,
    split_correction_reason,
    submission_history,
)
from .knowledge_base import (
    PainPointSummary,
    friction_report_list,
    friction_tag_counts,
    pain_point_summaries,
    pain_point_summary,
    pain_point_trends,
    pain_points_counted,
)

__all__ = [
    "Correction",
    "FieldChange",
    "HistoryEntry",
    "PainPointSummary",
    "SubmissionHistoryEntry",
    "TimelineEvent",
    "VersionDiff",
    "agreement_history",
    "agreement_overview",
    "corrections_for_agreement",
    "friction_report_list",
    "friction_tag_counts",
    "friction_timeline",
    "pain_point_summaries",
    "pain_point_summary",
    "pain_point_trends",
    "pain_points_counted",
    "split_correction_reason",
    "submission_history",
    "version_diff",
]
