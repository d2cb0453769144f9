"""Permission rules, in one place: the pages and the API both use these.

``rules`` predicates take ``(user, obj)``; object permissions are checked with
``user.has_perm("agreements.<name>", obj)`` or the predicates directly.
"""

from __future__ import annotations

import rules

from .models import Membership


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
    return Membership.objects.filter(user=user, team=team).exists()


@rules.predicate
def leads_team(user, team) -> bool:
    """A lead, manager or head of the team: may act for it."""
    if team is None or not user.is_authenticated:
        return False
    return Membership.objects.leading().filter(user=user, team=team).exists()


rules.add_perm("agreements.view_team", rules.is_authenticated)
rules.add_perm("agreements.act_for_team", leads_team)
