"""Reads that are more than a filter. Each runs a fixed number of queries,
whatever the number of rows."""

from .agreements import (
    HistoryEntry,
    VersionDiff,
    agreement_history,
    agreement_overview,
    version_diff,
)
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
from .my_month import DueLine, MyMonth, Waiting, my_month
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
    "DueLine",
    "FieldChange",
    "HistoryEntry",
    "MyMonth",
    "ObjectiveProgress",
    "PainPointSummary",
    "SubmissionHistoryEntry",
    "TimelineEvent",
    "VersionDiff",
    "Waiting",
    "agreement_history",
    "agreement_in_force",
    "agreement_overview",
    "corrections_for_agreement",
    "friction_report_list",
    "friction_tag_counts",
    "friction_timeline",
    "in_force_q",
    "month_progress",
    "my_month",
    "pain_point_summaries",
    "pain_point_summary",
    "pain_point_trends",
    "pain_points_counted",
    "split_correction_reason",
    "submission_history",
    "version_diff",
]
