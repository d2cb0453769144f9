"""Who the user is: an executive (reads everything), and the teams they are
in, lead and head. The models ask the first to narrow their querysets, the
rules ask all of them. This module sits apart from rules.py, and asks the app
registry for memberships instead of importing the models, so that the models
need not import the rules, which import the models.

The team ids are cached on the user object for the request, so that a page
checking many rules runs one query for each.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import rules
from django.apps import apps
from django.db.models import Q, QuerySet

EXECUTIVE_PERMISSION = "agreements.view_everything"


@rules.predicate
def is_executive(user) -> bool:
    """Org-wide read access: superusers and holders of the executive permission."""
    if not user.is_authenticated or not user.is_active:
        return False
    known = getattr(user, "_sla_executive", None)  # see ``users_known``
    if known is not None:
        return known
    return user.is_superuser or user.has_perm(EXECUTIVE_PERMISSION)


def executive_q() -> Q:
    """Users who hold the executive permission, as ``ModelBackend.has_perm``
    finds it: superusers, and holders of it directly or through a group."""
    app_label, codename = EXECUTIVE_PERMISSION.split(".")
    permission = apps.get_model("auth", "Permission").objects.filter(
        codename=codename, content_type__app_label=app_label
    )
    return (
        Q(is_superuser=True)
        | Q(user_permissions__in=permission)
        | Q(groups__permissions__in=permission)
    )


def users_known(users: Iterable[Any]) -> None:
    """Read who each of ``users`` is (executive; the teams they are in, lead
    and head) for all of them at once, and cache it on each user object as
    the functions here would: two queries, instead of up to five for each
    user. For work that acts for many people in turn (a batch of emails)."""
    by_id = {user.pk: user for user in users}
    if not by_id:
        return
    membership = apps.get_model("agreements", "Membership")
    teams: dict[str, dict[int, set[int]]] = {
        name: {pk: set() for pk in by_id}
        for name in (
            "_sla_member_team_ids",
            "_sla_leading_team_ids",
            "_sla_head_team_ids",
        )
    }
    rows = membership.objects.filter(user_id__in=by_id).order_by()
    for user_id, team_id, role in rows.values_list("user_id", "team_id", "role"):
        teams["_sla_member_team_ids"][user_id].add(team_id)
        if role in membership.LEADING_ROLES:
            teams["_sla_leading_team_ids"][user_id].add(team_id)
        if role == membership.Role.HEAD:
            teams["_sla_head_team_ids"][user_id].add(team_id)
    user_model = type(next(iter(by_id.values())))
    executives = set(
        user_model.objects.filter(pk__in=by_id)
        .filter(executive_q())
        .values_list("pk", flat=True)
    )
    for pk, user in by_id.items():
        for name, of_user in teams.items():
            setattr(user, name, of_user[pk])
        user._sla_executive = pk in executives


def _cached(
    user: Any, name: str, memberships: Callable[[QuerySet], QuerySet]
) -> set[int]:
    cached = getattr(user, name, None)
    if cached is None:
        membership = apps.get_model("agreements", "Membership")
        # Without ``order_by()``, Membership's default order (team and user
        # names) would join both tables to sort ids that go into a set.
        cached = set(
            memberships(membership.objects.filter(user=user))
            .order_by()
            .values_list("team_id", flat=True)
        )
        setattr(user, name, cached)
    return cached


def team_ids_in(user: Any) -> set[int]:
    """The teams the user is in, in any role."""
    return _cached(user, "_sla_member_team_ids", lambda rows: rows)


def team_ids_led(user: Any) -> set[int]:
    """The teams the user leads, manages or heads: may act for them."""
    return _cached(user, "_sla_leading_team_ids", lambda rows: rows.leading())


def team_ids_headed(user: Any) -> set[int]:
    """The teams the user heads."""
    membership = apps.get_model("agreements", "Membership")
    return _cached(
        user,
        "_sla_head_team_ids",
        lambda rows: rows.filter(role=membership.Role.HEAD),
    )
