"""Reads that are more than a filter. Each runs a fixed number of queries,
whatever the number of rows."""

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
    "ObjectiveProgress",
    "PainPointSummary",
    "agreement_in_force",
    "corrections_for_agreement",
    "friction_report_list",
    "friction_tag_counts",
    "in_force_q",
    "month_progress",
    "pain_point_summaries",
]
