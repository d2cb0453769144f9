"""Reads for the agreement pages that are more than a filter: the history of an
agreement with what changed, and the difference between two versions."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, cast

from django.db.models import Count, Exists, OuterRef, Q
from django.utils import dateformat
from django.utils.text import Truncator

from ..models import Agreement, Membership, Objective, Signature, Team

# The agreement's terms as people know them; bookkeeping fields (edit_count,
# timestamps) are explained by each history row's reason instead.
TERMS = (
    "title",
    "provider",
    "consumer",
    "summary",
    "effective_from",
    "effective_to",
    "review_on",
    "compensation_clause",
    "remedy",
    "remedy_credit",
    "remedy_credit_unit",
    "status",
)
LABELS = {
    "title": "Title",
    "provider": "Provider",
    "consumer": "Consumer",
    "summary": "Summary",
    "effective_from": "In force from",
    "effective_to": "In force until",
    "review_on": "Review on",
    "compensation_clause": "Compensation clause",
    "remedy": "Remedy",
    "remedy_credit": "Credit per miss",
    "remedy_credit_unit": "Credit unit",
    "status": "Status",
    "metric_source": "Measured by",
    "comparator": "Comparator",
    "target": "Target",
    "unit": "Unit",
    "weight": "Weight",
    "warning_threshold": "Warning level",
}
OBJECTIVE_TERMS = (
    "metric_source",
    "comparator",
    "target",
    "unit",
    "weight",
    "warning_threshold",
)
CHOICES = {
    "status": Agreement.Status,
    "remedy": Agreement.Remedy,
    "metric_source": Objective.Source,
    "comparator": Objective.Comparator,
    "unit": Objective.Unit,
}


@dataclass(frozen=True)
class Change:
    label: str
    old: str
    new: str


@dataclass(frozen=True)
class HistoryEntry:
    when: datetime
    who: Any  # a user, or None for changes made outside the portal
    reason: str
    changes: list[Change]


@dataclass(frozen=True)
class RetargetedObjective:
    name: str
    changes: list[Change]


@dataclass
class VersionDiff:
    added: list[Objective] = field(default_factory=list)
    removed: list[Objective] = field(default_factory=list)
    retargeted: list[RetargetedObjective] = field(default_factory=list)
    unchanged: list[Objective] = field(default_factory=list)
    terms: list[Change] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not (self.added or self.removed or self.retargeted or self.terms)


def display(name: str, value: Any, teams: dict[int, str] | None = None) -> str:
    """A stored value as a person reads it."""
    if value is None or value == "":
        return "—"
    if name in CHOICES:
        try:
            return str(CHOICES[name](value).label)
        except ValueError:
            return str(value)
    if name in ("provider", "consumer"):
        return (teams or {}).get(value, f"team #{value}")
    if isinstance(value, Decimal):
        return f"{value.normalize():f}"
    if isinstance(value, date):
        return dateformat.format(value, "j M Y")
    return Truncator(str(value)).chars(80)


def agreement_history(agreement: Agreement) -> list[HistoryEntry]:
    """Every saved state of the agreement, newest first, with the changed terms.

    Two queries whatever the length: the history rows with their users, and
    the names of the teams they mention.
    """
    records = list(
        agreement.history.select_related("history_user").order_by(
            "-history_date", "-history_id"
        )
    )
    team_ids = {r.provider_id for r in records} | {r.consumer_id for r in records}
    teams = dict(Team.objects.filter(pk__in=team_ids).values_list("pk", "name"))
    entries = []
    for newer, older in zip(records, [*records[1:], None], strict=True):
        changes: list[Change] = []
        if older is not None:
            delta = newer.diff_against(older, included_fields=TERMS)
            changes = [
                Change(
                    LABELS[c.field],
                    display(c.field, c.old, teams),
                    display(c.field, c.new, teams),
                )
                for c in sorted(delta.changes, key=lambda c: TERMS.index(c.field))
            ]
        entries.append(
            HistoryEntry(
                when=newer.history_date,
                who=newer.history_user,
                reason=newer.history_change_reason or "",
                changes=changes,
            )
        )
    return entries


def _terms_changes(
    old: Any, new: Any, names: tuple[str, ...], teams: dict[int, str] | None = None
) -> list[Change]:
    changes = []
    for name in names:
        attname = f"{name}_id" if name in ("provider", "consumer") else name
        before, after = getattr(old, attname), getattr(new, attname)
        if before != after:
            changes.append(
                Change(
                    LABELS[name],
                    display(name, before, teams),
                    display(name, after, teams),
                )
            )
    return changes


def version_diff(old: Agreement, new: Agreement) -> VersionDiff:
    """What changed from ``old`` to ``new``: terms, and objectives matched by
    name (ignoring case) as added, removed or retargeted."""
    teams = {
        t.pk: t.name for t in (old.provider, old.consumer, new.provider, new.consumer)
    }
    diff = VersionDiff(
        terms=_terms_changes(
            old, new, tuple(n for n in TERMS if n != "status"), teams=teams
        )
    )
    before = {o.name.lower(): o for o in old.objectives.all()}
    after = {o.name.lower(): o for o in new.objectives.all()}
    for key, objective in after.items():
        previous = before.get(key)
        if previous is None:
            diff.added.append(objective)
            continue
        changes = _terms_changes(previous, objective, OBJECTIVE_TERMS)
        if previous.name != objective.name:
            changes.insert(0, Change("Name", previous.name, objective.name))
        if changes:
            diff.retargeted.append(RetargetedObjective(objective.name, changes))
        else:
            diff.unchanged.append(objective)
    diff.removed = [o for key, o in before.items() if key not in after]
    return diff


def agreement_overview(user, *, limit: int = 5) -> dict[str, Any]:
    """For the home page: how many agreements the person sees in each status,
    and the proposals waiting for a signature from a team they lead. Two
    queries, however many agreements there are."""
    visible = Agreement.objects.visible_to(user)
    counts = visible.aggregate(
        **{
            status: Count("pk", filter=Q(status=status))
            for status in Agreement.Status.values
        }
    )
    # The same question as rules.unsigned_teams_user_leads, asked in SQL so
    # that the home page needs no query per proposal.
    leading = Membership.objects.leading().filter(user=user).values("team")

    def unsigned(party: str) -> Exists:
        # Negating an Exists gives an Exists (the stubs say otherwise).
        return cast(
            Exists,
            ~Exists(
                Signature.objects.filter(agreement=OuterRef("pk"), team=OuterRef(party))
            ),
        )

    awaiting = list(
        visible.filter(status=Agreement.Status.PROPOSED)
        .filter(
            Q(provider__in=leading) & unsigned("provider")
            | Q(consumer__in=leading) & unsigned("consumer")
        )
        .select_related("provider", "consumer")
        .order_by("proposed_at", "pk")[: limit + 1]
    )
    return {
        "counts": counts,
        "total": sum(counts.values()),
        "awaiting": awaiting[:limit],
        "more_awaiting": len(awaiting) > limit,
    }
