"""Who the user is: an executive (reads everything), and the teams they are
in, lead and head. The models ask the first to narrow their querysets, the
rules ask all of them. This module sits apart from rules.py, and asks the app
registry for memberships instead of importing the models, so that the models
need not import the rules, which import the models.

The team ids are cached on the user object for the request, so that a page
checking many rules runs one query for each.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import rules
from django.apps import apps
from django.db.models import QuerySet


@rules.predicate
def is_executive(user) -> bool:
    """Org-wide read access: superusers and holders of the executive permission."""
    if not user.is_authenticated or not user.is_active:
        return False
    return user.is_superuser or user.has_perm("agreements.view_everything")


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
