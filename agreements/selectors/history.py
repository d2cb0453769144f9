"""The history of one submission or friction report as a person reads it: who
changed what, when, from what to what, and why (corrections of locked months
carry their reason)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import models
from django.utils import dateformat

from ..models.common import CORRECTION_PREFIX
from .agreements import Change

# Bookkeeping columns: who created a row and its form token are not figures.
_HIDDEN = {
    "id",
    "created_at",
    "updated_at",
    "created_by",
    "client_token",
    "month",
    "acknowledged_at",
    "closed_at",
    "addressed_to",
    # A friction report's assignee and due date: the timeline tells each
    # change in a sentence ("assigned it to …", "set the due date to …").
    "assigned_to",
    "due_date",
}
_ACTIONS = {"+": "added", "~": "changed", "-": "deleted"}


@dataclass(frozen=True)
class SubmissionHistoryEntry:
    when: dt.datetime
    who: Any
    action: str  # "added", "changed" or "deleted"
    reason: str  # the reason a person gave, or what the portal recorded
    is_correction: bool
    changes: list[Change] = field(default_factory=list)


def split_correction_reason(text: str) -> tuple[str, bool]:
    """``"correction: typo (leads 4 → 40)"`` → ``("typo", True)``.

    The services store ``"correction: <reason> (<what changed>)"``; the page
    shows what changed field by field, so only the reason is kept. The last
    balanced parenthesis group is the "what", whatever the reason contains.
    """
    prefix = f"{CORRECTION_PREFIX}: "
    if not text.startswith(prefix):
        return text, False
    body = text[len(prefix) :]
    if body.endswith(")"):
        depth = 0
        for index in range(len(body) - 1, -1, -1):
            depth += {")": 1, "(": -1}.get(body[index], 0)
            if depth == 0:
                return body[:index].rstrip() or body, True
    return body, True


def _shown(model: type[models.Model], name: str, value: Any) -> str:
    if value is None or value == "":
        return "—"
    model_field = model._meta.get_field(name)
    flat = getattr(model_field, "flatchoices", None)
    if getattr(model_field, "choices", None) and flat:
        return str(dict(flat).get(value, value))
    if isinstance(value, Decimal):
        return f"{value.normalize():f}"
    if isinstance(value, dt.date):
        return dateformat.format(value, "j M Y")
    text = str(value)
    return text if len(text) <= 80 else text[:79] + "…"


def submission_history(
    obj: models.Model, *, related_names: dict[str, dict[Any, str]] | None = None
) -> list[SubmissionHistoryEntry]:
    """Every saved state of ``obj``, oldest first, with the fields that
    changed. One query (the history rows with their users).

    ``related_names`` maps a foreign key's name to ``{pk: label}`` for the
    keys worth showing by name (e.g. a friction report's pain point).
    """
    model = type(obj)
    names = related_names or {}
    # Foreign keys show by name only when the caller names them; an id means
    # nothing to a reader, and the reason already says "filed under …".
    tracked = [
        f
        for f in model._meta.fields
        if f.name not in _HIDDEN and (not f.is_relation or f.name in names)
    ]
    records = list(
        obj.history.select_related(  # type: ignore[attr-defined]
            "history_user"
        ).order_by("history_date", "history_id")
    )
    entries = []
    previous = None
    for record in records:
        changes: list[Any] = []
        if previous is not None and record.history_type == "~":
            for model_field in tracked:
                old = getattr(previous, model_field.attname)
                new = getattr(record, model_field.attname)
                if old == new:
                    continue
                label = str(model_field.verbose_name).capitalize()
                if model_field.name in names:
                    lookup = names[model_field.name]
                    shown_old = lookup.get(old, "—") if old else "—"
                    shown_new = lookup.get(new, "—") if new else "—"
                else:
                    shown_old = _shown(model, model_field.name, old)
                    shown_new = _shown(model, model_field.name, new)
                changes.append(Change(label, shown_old, shown_new))
        reason, is_correction = split_correction_reason(
            record.history_change_reason or ""
        )
        if not is_correction and changes and reason.startswith("edited: "):
            # "edited: leads delivered 40 → 45": the changes say it field by field.
            reason = "edited"
        entries.append(
            SubmissionHistoryEntry(
                when=record.history_date,
                who=record.history_user,
                action=_ACTIONS.get(record.history_type, record.history_type),
                reason=reason,
                is_correction=is_correction,
                changes=changes,
            )
        )
        previous = record
    return entries


@dataclass(frozen=True)
class TimelineEvent:
    """One step in a friction report's life, as its page lists them."""

    when: dt.datetime
    who: Any
    kind: str  # "filed", "status", "comment", "changed", "corrected", "deleted"
    text: str = ""  # a comment or note, or what the portal recorded
    team: Any = None  # the team the person spoke for (filing, comments)
    status: str = ""  # the new status of a status change
    status_label: str = ""
    changes: list[Change] = field(default_factory=list)


# How the friction services word an assignment or a due date in history.
_PLANNING = (
    "assigned it to ",
    "removed the assignee",
    "set the due date",
    "moved the due date",
    "removed the due date",
)


def friction_timeline(report) -> list[TimelineEvent]:
    """Filing, edits, corrections, pain point links, assignments, due dates,
    status changes and comments of a report, oldest first. Two queries."""
    from ..models import FrictionReport

    events = []
    for entry in submission_history(report):
        if entry.reason.startswith("status "):
            continue  # the status change's comment tells it, with its note
        if entry.action == "added":
            kind = "filed"
        elif entry.is_correction:
            kind = "corrected"
        else:
            kind = "changed"
        team = None
        if kind == "filed":
            team = report.reporting_team
        elif entry.reason.startswith(_PLANNING):
            team = report.addressed_team  # only its heads assign and set dates
        events.append(
            TimelineEvent(
                when=entry.when,
                who=entry.who,
                kind=kind,
                text=entry.reason,
                team=team,
                changes=entry.changes,
            )
        )
    labels = dict(FrictionReport.Status.choices)
    for comment in report.comments.select_related("author", "team"):
        events.append(
            TimelineEvent(
                when=comment.created_at,
                who=comment.author,
                kind="status" if comment.new_status else "comment",
                text=comment.body,
                team=comment.team,
                status=comment.new_status,
                status_label=labels.get(comment.new_status, ""),
            )
        )
    return sorted(events, key=lambda e: e.when)
