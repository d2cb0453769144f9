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

__all__ = [
    "Correction",
    "FieldChange",
    "HistoryEntry",
    "SubmissionHistoryEntry",
    "TimelineEvent",
    "VersionDiff",
    "agreement_history",
    "agreement_overview",
    "corrections_for_agreement",
    "friction_timeline",
    "split_correction_reason",
    "submission_history",
    "version_diff",
]
