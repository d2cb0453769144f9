"""Permission rules, in one place: the pages and the API both use these.

``rules`` predicates take ``(user, obj)``. Check them with ``can(user,
"sign_agreement", agreement)`` or ``{% test_rule %}`` in templates.
Services enforce them too, so no entry point can skip them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import rules
from django.core.exceptions import PermissionDenied
from django.db.models import Q

from . import periods
from .access import (
    executive_q,
    is_executive,
    team_ids_headed,
    team_ids_in,
    team_ids_led,
    users_known,
)
from .models import SIGNED, Agreement, FrictionReport, Objective


@rules.predicate
def is_team_member(user, team) -> bool:
    if team is None or not user.is_authenticated:
        return False
    return team.pk in team_ids_in(user)


@rules.predicate
def leads_team(user, team) -> bool:
    """A lead, manager or head of the team: may act for it."""
    if team is None or not user.is_authenticated or not user.is_active:
        return False
    return team.pk in team_ids_led(user)


@rules.predicate
def is_party_member(user, agreement: Agreement) -> bool:
    if agreement is None or not user.is_authenticated:
        return False
    return bool({agreement.provider_id, agreement.consumer_id} & team_ids_in(user))


@rules.predicate
def leads_a_party(user, agreement: Agreement) -> bool:
    if agreement is None or not user.is_authenticated or not user.is_active:
        return False
    return bool({agreement.provider_id, agreement.consumer_id} & team_ids_led(user))


@rules.predicate
def is_draft(user, agreement: Agreement) -> bool:
    return agreement is not None and agreement.status == Agreement.Status.DRAFT


@rules.predicate
def is_proposed(user, agreement: Agreement) -> bool:
    return agreement is not None and agreement.status == Agreement.Status.PROPOSED


@rules.predicate
def is_active(user, agreement: Agreement) -> bool:
    return agreement is not None and agreement.status == Agreement.Status.ACTIVE


@rules.predicate
def can_draft_agreements(user) -> bool:
    """Anyone who leads at least one team may start a draft for it."""
    return user.is_authenticated and user.is_active and bool(team_ids_led(user))


def unsigned_teams_user_leads(user, agreement: Agreement) -> list[int]:
    """Party team ids the user may still sign for."""
    signed = {s.team_id for s in agreement.signatures.all()}
    leading = team_ids_led(user)
    return [
        team_id
        for team_id in (agreement.provider_id, agreement.consumer_id)
        if team_id in leading and team_id not in signed
    ]


def calendar_team_ids(user) -> set[int]:
    """The teams whose working calendars the user may add: those they head
    (``add_calendar`` for each)."""
    return set(team_ids_headed(user))


def scorecard_team_ids(user) -> frozenset[int]:
    """The teams whose scorecards the user gets by email: those they lead,
    manage or head."""
    return frozenset(team_ids_led(user))


def digest_team_ids(user) -> frozenset[int]:
    """The teams a head's digest covers: those they head."""
    return frozenset(team_ids_headed(user))


def standing(user) -> tuple[bool, bool, bool, frozenset[int]]:
    """All that the visibility rules (the models' ``visible_to``) read of
    ``user``: whether they are signed in and active, whether they are an
    executive, and the teams they are in. Two people of one standing may
    open the same things; a rule that reads more of a person must add it
    here."""
    return (
        user.is_authenticated,
        user.is_active,
        is_executive(user),
        frozenset(team_ids_in(user)),
    )


def executives_q() -> Q:
    """Users who read everything (``is_executive``), as a filter of users."""
    return executive_q()


def know_users(users: Iterable[Any]) -> None:
    """Work out, for all of ``users`` at once, what the rules ask of each
    (executive; teams in, led, headed), before acting for each in turn."""
    users_known(users)


@rules.predicate
def can_sign_for_a_party(user, agreement: Agreement) -> bool:
    return bool(unsigned_teams_user_leads(user, agreement))


def signed_partner_ids(team_ids: set[int]) -> set[int]:
    """Teams that have a signed (active or retired) agreement with any of
    ``team_ids``. A draft or proposal does not make two teams parties."""
    if not team_ids:
        return set()
    signed = Agreement.objects.signed()
    return set(
        signed.filter(consumer__in=team_ids).values_list("provider_id", flat=True)
    ) | set(signed.filter(provider__in=team_ids).values_list("consumer_id", flat=True))


def _partner_team_ids(user) -> set[int]:
    cached = getattr(user, "_sla_partner_team_ids", None)
    if cached is None:
        cached = signed_partner_ids(team_ids_in(user))
        user._sla_partner_team_ids = cached
    return cached


@rules.predicate
def is_superuser(user) -> bool:
    return user.is_authenticated and user.is_active and user.is_superuser


@rules.predicate
def heads_team(user, team) -> bool:
    """The head of the team: owns its agreements and corrects its figures."""
    if team is None or not user.is_authenticated or not user.is_active:
        return False
    return team.pk in team_ids_headed(user)


@rules.predicate
def is_a_head(user) -> bool:
    """Heads some team: may curate the friction knowledge base."""
    return user.is_authenticated and user.is_active and bool(team_ids_headed(user))


@rules.predicate
def is_in_some_team(user) -> bool:
    return user.is_authenticated and user.is_active and bool(team_ids_in(user))


@rules.predicate
def is_partner_of_team(user, team) -> bool:
    """In a team that has a signed agreement with ``team``."""
    if team is None or not user.is_authenticated or not user.is_active:
        return False
    return team.pk in _partner_team_ids(user)


@rules.predicate
def is_party_to_a_signed_agreement(user, team) -> bool:
    """``team`` has a signed agreement with some other team."""
    return team is not None and bool(signed_partner_ids({team.pk}))


def _responsible_team(obj):
    """The team that owes a submission's figures: the team itself for lead
    logs, closed customers and friction reports, the objective's provider for
    measurements. Accepts a submission, an objective or a team."""
    if obj is None:
        return None
    if isinstance(obj, Objective):
        return obj.agreement.provider
    return getattr(obj, "responsible_team", obj)


@rules.predicate
def leads_responsible_team(user, obj) -> bool:
    """A lead, manager or head of the team that owes the figures."""
    return leads_team(user, _responsible_team(obj))


@rules.predicate
def in_responsible_team(user, obj) -> bool:
    """In the team that owes the figures, in any role."""
    return is_team_member(user, _responsible_team(obj))


@rules.predicate
def heads_responsible_team(user, obj) -> bool:
    return heads_team(user, _responsible_team(obj))


@rules.predicate
def can_view_submission(user, obj) -> bool:
    """A lead log entry, closed customer or measurement: its team, the
    teams with signed agreements with it, and executives."""
    if obj is None or not user.is_authenticated or not user.is_active:
        return False
    if is_executive(user):
        return True
    if isinstance(obj, Objective) or hasattr(obj, "objective"):
        agreement = (
            obj.agreement if isinstance(obj, Objective) else obj.objective.agreement
        )
        return is_party_member(user, agreement)
    team = _responsible_team(obj)
    return is_team_member(user, team) or is_partner_of_team(user, team)


@rules.predicate
def consumes_customers_from(user, closed_customer) -> bool:
    """Leads a team that consumes a "customers closed" objective from the
    team that closed this customer: the team the customer is handed to."""
    if closed_customer is None or not user.is_authenticated or not user.is_active:
        return False
    leading = team_ids_led(user)
    if not leading:
        return False
    return Objective.objects.filter(
        metric_source=Objective.Source.CUSTOMERS_CLOSED,
        agreement__provider_id=closed_customer.team_id,
        agreement__consumer_id__in=leading,
        agreement__status__in=SIGNED,
    ).exists()


@rules.predicate
def in_reporting_team(user, report) -> bool:
    return report is not None and is_team_member(user, report.reporting_team)


@rules.predicate
def in_addressed_team(user, report) -> bool:
    return report is not None and is_team_member(user, report.addressed_team)


@rules.predicate
def leads_reporting_team(user, report) -> bool:
    return report is not None and leads_team(user, report.reporting_team)


@rules.predicate
def heads_addressed_team(user, report) -> bool:
    return report is not None and heads_team(user, report.addressed_team)


@rules.predicate
def heads_every_addressed_team(user, pain_point) -> bool:
    """Heads every team the pain point's reports were addressed to: merging
    moves those reports, so it is their heads' call (a pain point without
    reports moves none)."""
    if pain_point is None or not user.is_authenticated:
        return False
    addressed = set(
        FrictionReport.objects.filter(pain_point=pain_point)
        .values_list("addressed_team_id", flat=True)
        .distinct()
    )
    return addressed <= team_ids_headed(user)


@rules.predicate
def leads_a_party_of_breach(user, breach) -> bool:
    """A breach (``reports.Breach``) is acted on by a lead, manager or head of
    either party of its agreement."""
    return breach is not None and leads_a_party(user, breach.agreement)


@rules.predicate
def owns_token(user, token) -> bool:
    """An API token (``api.ApiToken``) is revoked by its owner alone."""
    return token is not None and user.is_authenticated and token.user_id == user.pk


@rules.predicate
def is_administrator(user) -> bool:
    """Staff or a superuser: looks after what belongs to no team."""
    if not user.is_authenticated or not user.is_active:
        return False
    return user.is_staff or user.is_superuser


@rules.predicate
def is_signed_in(user) -> bool:
    return user.is_authenticated and user.is_active


@rules.predicate
def is_organisation_wide(user, calendar) -> bool:
    """A working calendar of no team (``calendars.WorkingCalendar``)."""
    return calendar is not None and calendar.team_id is None


@rules.predicate
def is_no_team(user, team) -> bool:
    return team is None


def _calendar_team_in(user, calendar, team_ids) -> bool:
    """The calendar belongs to one of ``team_ids(user)``."""
    if calendar is None or calendar.team_id is None:
        return False
    if not user.is_authenticated or not user.is_active:
        return False
    return calendar.team_id in team_ids(user)


@rules.predicate
def in_calendar_team(user, calendar) -> bool:
    return _calendar_team_in(user, calendar, team_ids_in)


@rules.predicate
def heads_calendar_team(user, calendar) -> bool:
    return _calendar_team_in(user, calendar, team_ids_headed)


@rules.predicate
def partners_calendar_team(user, calendar) -> bool:
    """In a team with a signed agreement with the calendar's team: its
    objectives may be measured with the calendar."""
    return _calendar_team_in(user, calendar, _partner_team_ids)


# --- State conditions: what the object's state allows, whoever asks ---------


@rules.predicate
def report_is_new(user, report) -> bool:
    """A friction report nobody has acknowledged yet: its reporter may still
    change it."""
    return report is not None and report.status == FrictionReport.Status.NEW


@rules.predicate
def report_is_open(user, report) -> bool:
    """A friction report not yet resolved or declined."""
    return report is not None and not report.is_closed


@rules.predicate
def in_open_month(user, obj) -> bool:
    """A row whose month still takes figures (see ``periods``)."""
    return obj is not None and periods.is_open(obj.month)


@rules.predicate
def in_locked_month(user, obj) -> bool:
    """A row whose month is locked: changed only by a correction."""
    return obj is not None and periods.is_locked(obj.month)


# A head of the responsible team, or an administrator, corrects locked months.
corrects_responsible_team = heads_responsible_team | is_superuser


# Rules, not Django permissions: a superuser's has_perm() is always True, and
# an administrator must not sign or edit agreements for teams they are not in.
RULES = {
    "act_for_team": leads_team,
    # Sees every team, agreement and figure of the organisation.
    "view_organisation": is_executive,
    # The figures and friction pages: for members of a team, and executives.
    "view_team_figures": is_in_some_team | is_executive,
    "view_agreement": is_executive | is_party_member,
    "add_agreement": can_draft_agreements,
    # May use the action endpoints at all; whether the agreement's state allows
    # the action is the service's call, answered with a message, not a 403.
    "act_on_agreement": leads_a_party,
    "change_agreement": leads_a_party & is_draft,
    "propose_agreement": leads_a_party & is_draft,
    "sign_agreement": is_proposed & can_sign_for_a_party,
    "request_changes_agreement": leads_a_party & is_proposed,
    "revise_agreement": leads_a_party & is_active,
    "retire_agreement": leads_a_party & is_active,
    # Submissions. The object is the team that owes the figures (lead logs,
    # closed customers), the objective (measurements) or the submission.
    "submit_figures": leads_responsible_team,
    "view_submission": can_view_submission,
    # A team's figures and scorecards: its members, its partners, executives.
    "view_team": is_executive | is_team_member | is_partner_of_team,
    "correct_submission": corrects_responsible_team,
    # What the buttons offer: the right, and a state that allows it.
    "correct_locked_row": corrects_responsible_team & in_locked_month,
    "acknowledge_closed_customer": consumes_customers_from,
    # Friction reports. The object is the reporting team for filing, the
    # report otherwise.
    "file_friction_report": leads_team & is_party_to_a_signed_agreement,
    "view_friction_report": is_executive | in_reporting_team | in_addressed_team,
    "change_friction_report": leads_reporting_team,
    "edit_friction_report": leads_reporting_team & report_is_new & in_open_month,
    "change_friction_status": heads_addressed_team,
    # The conversation: both sides, in any role; a third team never sees it.
    "comment_friction_report": in_reporting_team | in_addressed_team,
    # Who looks after it, and by when: the addressed team's heads, while it
    # is open (``plan_friction_report`` adds the state, for the buttons).
    "assign_friction_report": heads_addressed_team,
    "plan_friction_report": heads_addressed_team & report_is_open,
    "link_friction_report": heads_addressed_team,
    "view_knowledge_base": is_executive | is_in_some_team,
    "manage_pain_points": is_a_head,
    # The object is the duplicate: its reports are the ones that move.
    "merge_pain_points": is_executive | (is_a_head & heads_every_addressed_team),
    # Scorecards. The dashboard: executives, and heads for their own teams'
    # agreements (a team's page is view_team).
    "view_dashboard": is_executive | is_a_head,
    "act_on_breach": leads_a_party_of_breach,
    # Personal API tokens.
    "revoke_api_token": owns_token,
    # Records (agreements.records). The object is the record source: its
    # team's leads send records while their months are open; its heads (or
    # an administrator) send them into a locked month, with a reason, and
    # set up sources and their webhooks.
    # Its team's members see a source, its records and its imports;
    # executives see every source.
    "view_record_source": is_executive | in_responsible_team,
    "send_records": leads_responsible_team,
    "send_late_records": corrects_responsible_team,
    "manage_record_sources": corrects_responsible_team,
    # Working calendars (agreements.calendars). The object is the calendar:
    # everyone signed in sees the organisation-wide ones, a team's members
    # and partners (whose agreements it may measure) see the team's. A head
    # of the team changes a team's calendar, an administrator an
    # organisation-wide one. The object of ``add_calendar`` is the team
    # (None: the organisation).
    "view_calendar": (is_signed_in & is_organisation_wide)
    | is_executive
    | in_calendar_team
    | partners_calendar_team,
    "manage_calendar": (is_organisation_wide & is_administrator) | heads_calendar_team,
    "add_calendar": (is_no_team & is_administrator) | heads_team,
    # A team's chat channels (reports.notifications.channels): the object is
    # the team. Its heads connect, test and remove them.
    "manage_team_channels": heads_team,
}
for _name, _predicate in RULES.items():
    rules.add_rule(f"agreements.{_name}", _predicate)


def can(user, action: str, obj=None) -> bool:
    """``can(user, "sign_agreement", agreement)``: one entry point for every check."""
    return rules.test_rule(f"agreements.{action}", user, obj)


def require(user, action: str, obj, message: str) -> None:
    """``can``, for services: raise ``PermissionDenied(message)`` unless the
    user may. Services decide permissions through this alone."""
    if not can(user, action, obj):
        raise PermissionDenied(message)


# --- What a person may do now: the pages' buttons and the API's ``actions`` ---

AGREEMENT_ACTIONS = ("change", "propose", "sign", "request_changes", "revise", "retire")


def agreement_actions(user, agreement: Agreement) -> dict[str, Any]:
    """Each action on the agreement the user may take now, and the party
    teams they may still sign for. Reads the prefetched signatures and the
    memberships cached on the user: no query per agreement in a list."""
    actions: dict[str, Any] = {
        name: can(user, f"{name}_agreement", agreement) for name in AGREEMENT_ACTIONS
    }
    actions["sign_for"] = (
        unsigned_teams_user_leads(user, agreement) if actions["sign"] else []
    )
    return actions


def agreement_actions_for(
    user, agreements: Iterable[Agreement]
) -> dict[int, dict[str, Any]]:
    """``agreement_actions`` of every agreement of a page, by id, in one pass.

    The same rules as the predicates of ``RULES`` (``leads_a_party``,
    ``is_draft``, ``is_proposed``, ``is_active``, ``can_sign_for_a_party``),
    spelled here as plain comparisons on the teams the user leads, read once:
    asking ``can`` six times a row costs a list more than all its queries.
    ``test_agreement_actions_for_answers_as_the_rules`` holds the two
    spellings to one answer for every persona and every state."""
    leading = team_ids_led(user) if user.is_authenticated and user.is_active else set()
    draft, proposed, active = (
        Agreement.Status.DRAFT,
        Agreement.Status.PROPOSED,
        Agreement.Status.ACTIVE,
    )
    answers: dict[int, dict[str, Any]] = {}
    for agreement in agreements:
        leads = not leading.isdisjoint((agreement.provider_id, agreement.consumer_id))
        status = agreement.status
        sign_for = (
            unsigned_teams_user_leads(user, agreement) if status == proposed else []
        )
        answers[agreement.pk] = {
            "change": leads and status == draft,
            "propose": leads and status == draft,
            "sign": bool(sign_for),
            "request_changes": leads and status == proposed,
            "revise": leads and status == active,
            "retire": leads and status == active,
            "sign_for": sign_for,
        }
    return answers


def friction_report_actions(user, report: FrictionReport) -> dict[str, Any]:
    """What the user may do with the report now: change it (its reporter,
    while it is new and its month open), move its status (the statuses it
    may move to), comment (either side), assign it and set its due date
    (while it is open), file it under a pain point, correct it (a locked
    month)."""
    return {
        "change": can(user, "edit_friction_report", report),
        "status": list(report.allowed_transitions())
        if can(user, "change_friction_status", report)
        else [],
        "comment": can(user, "comment_friction_report", report),
        "assign": not report.is_closed and can(user, "assign_friction_report", report),
        "link": can(user, "link_friction_report", report),
        "correct": can(user, "correct_locked_row", report),
    }
