"""Permission rules, in one place: the pages and the API both use these.

``rules`` predicates take ``(user, obj)``. Check them with ``can(user,
"sign_agreement", agreement)`` or ``{% test_rule %}`` in templates.
Services enforce them too, so no entry point can skip them.
"""

from __future__ import annotations

import rules

from .models import Agreement, Membership


def _leading_team_ids(user) -> set[int]:
    """Teams the user leads, manages or heads, cached on the user object for
    the request so that a page checking many rules runs one query."""
    cached = getattr(user, "_sla_leading_team_ids", None)
    if cached is None:
        cached = set(
            Membership.objects.leading()
            .filter(user=user)
            .values_list("team_id", flat=True)
        )
        user._sla_leading_team_ids = cached
    return cached


def _member_team_ids(user) -> set[int]:
    cached = getattr(user, "_sla_member_team_ids", None)
    if cached is None:
        cached = set(
            Membership.objects.filter(user=user).values_list("team_id", flat=True)
        )
        user._sla_member_team_ids = cached
    return cached


@rules.predicate
def is_executive(user) -> bool:
    """Org-wide read access: superusers and holders of the executive permission."""
    if not user.is_authenticated or not user.is_active:
        return False
    return user.is_superuser or user.has_perm("agreements.view_everything")


@rules.predicate
def is_team_member(user, team) -> bool:
    if team is None or not user.is_authenticated:
        return False
    return team.pk in _member_team_ids(user)


@rules.predicate
def leads_team(user, team) -> bool:
    """A lead, manager or head of the team: may act for it."""
    if team is None or not user.is_authenticated or not user.is_active:
        return False
    return team.pk in _leading_team_ids(user)


@rules.predicate
def is_party_member(user, agreement: Agreement) -> bool:
    if agreement is None or not user.is_authenticated:
        return False
    return bool({agreement.provider_id, agreement.consumer_id} & _member_team_ids(user))


@rules.predicate
def leads_a_party(user, agreement: Agreement) -> bool:
    if agreement is None or not user.is_authenticated or not user.is_active:
        return False
    return bool(
        {agreement.provider_id, agreement.consumer_id} & _leading_team_ids(user)
    )


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
    return user.is_authenticated and user.is_active and bool(_leading_team_ids(user))


def unsigned_teams_user_leads(user, agreement: Agreement) -> list[int]:
    """Party team ids the user may still sign for."""
    signed = {s.team_id for s in agreement.signatures.all()}
    leading = _leading_team_ids(user)
    return [
        team_id
        for team_id in (agreement.provider_id, agreement.consumer_id)
        if team_id in leading and team_id not in signed
    ]


@rules.predicate
def can_sign_for_a_party(user, agreement: Agreement) -> bool:
    return bool(unsigned_teams_user_leads(user, agreement))


# Rules, not Django permissions: a superuser's has_perm() is always True, and
# an administrator must not sign or edit agreements for teams they are not in.
RULES = {
    "act_for_team": leads_team,
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
}
for _name, _predicate in RULES.items():
    rules.add_rule(f"agreements.{_name}", _predicate)


def can(user, action: str, obj=None) -> bool:
    """``can(user, "sign_agreement", agreement)``: one entry point for every check."""
    return rules.test_rule(f"agreements.{action}", user, obj)
