"""Who gets which email. Reads only; a fixed number of queries per call.

Every function returns a plan: the deliveries that should exist, each with
the person and why, plus the people left out and why (for ``--dry-run``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from django.contrib.auth import get_user_model
from django.db.models import Q

from agreements.models import Membership
from agreements.rules import executives_q

from ..models import Delivery, Notification, NotificationPreference

Kind = Delivery.Kind
Role = Membership.Role

# Which preference switches each kind off; breach notices cannot be.
PREFERENCE_OF = {
    Kind.DIGEST: "digest",
    Kind.SCORECARD: "scorecards",
    Kind.REMINDER: "reminders",
    Kind.ESCALATION: "reminders",
    Kind.AT_RISK: "alerts",
    Kind.BREACH: None,
    # Decided per event when it is written (``PREFERENCE_OF_EVENT``).
    Kind.EVENT: None,
    Kind.SUMMARY: None,
}

Event = Notification.Event
# Which preference decides when each event is emailed; ``None``: always at
# once (a new breach owes a remedy, as the month-end breach notice does).
PREFERENCE_OF_EVENT: dict[str, str | None] = {
    Event.FRICTION_FILED: "friction_email",
    Event.FRICTION_STATUS: "friction_email",
    Event.FRICTION_COMMENT: "friction_email",
    Event.FRICTION_ASSIGNED: "friction_email",
    Event.SIGNATURE_AWAITED: "agreement_email",
    Event.CHANGES_REQUESTED: "agreement_email",
    Event.AGREEMENT_ACTIVE: "agreement_email",
    Event.AGREEMENT_RETIRED: "agreement_email",
    Event.REVIEW_DUE: "agreement_email",
    Event.BREACH_OPENED: None,
    Event.BREACH_ACKNOWLEDGED: "breach_email",
    Event.BREACH_RESOLVED: "breach_email",
    # Its email is the reminder, which has a preference of its own.
    Event.FIGURES_MISSING: None,
}


@dataclass(frozen=True)
class Planned:
    """One email that should go out: to whom, what, and a word on why."""

    recipient: object  # a User
    kind: str
    month: date
    subject_key: str = ""
    note: str = ""


@dataclass
class Plan:
    deliveries: list[Planned] = field(default_factory=list)
    left_out: list[tuple[object, str, str]] = field(default_factory=list)

    def add(self, planned: Planned, prefs: dict) -> None:
        """Add ``planned`` unless the person cannot or does not want it."""
        user = planned.recipient
        if not user.email:
            self.left_out.append((user, planned.kind, "no email address"))
        elif not wants(prefs.get(user.pk), planned.kind):
            self.left_out.append((user, planned.kind, "switched off"))
        else:
            self.deliveries.append(planned)

    def extend(self, other: Plan) -> None:
        self.deliveries += other.deliveries
        self.left_out += other.left_out


def wants(preference: NotificationPreference | None, kind: str) -> bool:
    switch = PREFERENCE_OF[kind]
    if switch is None or preference is None:
        return True
    return bool(getattr(preference, switch))


def preferences_for(user_ids: Iterable[int]) -> dict[int, NotificationPreference]:
    return {
        p.user_id: p
        for p in NotificationPreference.objects.filter(user_id__in=set(user_ids))
    }


def executives_and_heads():
    """Active executives (superusers, holders of the executive permission,
    directly or through a group) and heads of any team: the digest's readers."""
    User = get_user_model()
    return (
        User.objects.filter(is_active=True)
        .filter(executives_q() | Q(memberships__role=Role.HEAD))
        .distinct()
        .order_by("username")
    )


def leaders_of(
    team_ids: Iterable[int], roles: Iterable[str] = Membership.LEADING_ROLES
) -> dict[int, list[tuple[object, str]]]:
    """Active users in ``roles`` per team id: ``{team_id: [(user, role)]}``."""
    leaders: dict[int, list[tuple[object, str]]] = defaultdict(list)
    rows = (
        Membership.objects.filter(
            team_id__in=set(team_ids), role__in=list(roles), user__is_active=True
        )
        .select_related("user")
        .order_by("user__username")
    )
    for membership in rows:
        leaders[membership.team_id].append((membership.user, membership.role))
    return leaders


def first_in_line(
    members: list[tuple[object, str]], roles: tuple[str, ...]
) -> list[object]:
    """The members holding the first of ``roles`` anybody in the team holds:
    the lead is reminded; a team without a lead falls back to its manager."""
    for role in roles:
        found = [user for user, held in members if held == role]
        if found:
            return found
    return []


@dataclass(frozen=True)
class AgreementBrief:
    """What planning needs to know about one agreement's month."""

    agreement_id: int
    provider_id: int
    consumer_id: int
    breached: bool


def plan_month_emails(month: date, agreements: list[AgreementBrief]) -> Plan:
    """The month-end emails of ``month``.

    Executives and heads get the digest. Every lead, manager and head of either
    party of an agreement gets one email with all their agreements' scorecards;
    someone who switched scorecards off still gets a breach notice when one of
    their agreements was breached.
    """
    plan = Plan()
    digest_readers = list(executives_and_heads())
    teams: dict[int, list[AgreementBrief]] = defaultdict(list)
    for brief in agreements:
        teams[brief.provider_id].append(brief)
        teams[brief.consumer_id].append(brief)
    leaders = leaders_of(teams)
    per_user: dict[int, tuple[object, set[int], bool]] = {}
    for team_id, members in leaders.items():
        for user, _role in members:
            _, ids, breached = per_user.get(user.pk, (user, set(), False))
            ids |= {b.agreement_id for b in teams[team_id]}
            breached = breached or any(b.breached for b in teams[team_id])
            per_user[user.pk] = (user, ids, breached)
    prefs = preferences_for([u.pk for u in digest_readers] + list(per_user))

    for user in digest_readers:
        plan.add(Planned(user, Kind.DIGEST, month, note="organisation digest"), prefs)
    for user, ids, breached in sorted(
        per_user.values(), key=lambda item: item[0].username
    ):
        note = f"{len(ids)} agreement{'s' if len(ids) != 1 else ''}"
        if breached and not wants(prefs.get(user.pk), Kind.SCORECARD):
            plan.add(
                Planned(user, Kind.BREACH, month, note=note + ", with a breach"), prefs
            )
        else:
            plan.add(Planned(user, Kind.SCORECARD, month, note=note), prefs)
    return plan


def plan_missing_figures(
    month: date, missing: dict[int, list], *, kind: str, roles: tuple[str, ...]
) -> Plan:
    """Reminders (``roles``: lead first) or escalations (head first) to the
    teams in ``missing`` (``{team_id: [objectives]}``)."""
    plan = Plan()
    leaders = leaders_of(missing)
    chosen: dict[int, tuple[object, int]] = {}
    for team_id in missing:
        for user in first_in_line(leaders.get(team_id, []), roles):
            _, count = chosen.get(user.pk, (user, 0))
            chosen[user.pk] = (user, count + len(missing[team_id]))
    prefs = preferences_for(chosen)
    for user, count in sorted(chosen.values(), key=lambda item: item[0].username):
        note = f"{count} figure{'s' if count != 1 else ''} missing"
        plan.add(Planned(user, kind, month, note=note), prefs)
    return plan


def plan_at_risk(month: date, objectives: list) -> Plan:
    """An alert per objective at risk to its provider team's leads, managers
    and heads: they are the ones who can still change the month's outcome."""
    plan = Plan()
    leaders = leaders_of({o.agreement.provider_id for o in objectives})
    users = {user.pk: user for members in leaders.values() for user, _ in members}
    prefs = preferences_for(users)
    for objective in objectives:
        for user, _role in leaders.get(objective.agreement.provider_id, []):
            plan.add(
                Planned(
                    user,
                    Kind.AT_RISK,
                    month,
                    subject_key=f"objective-{objective.pk}",
                    note=f"{objective.name} ({objective.agreement.title})",
                ),
                prefs,
            )
    return plan
