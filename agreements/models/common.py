"""Helpers the submission and friction models share: history with a free-text
reason, who reads which team's rows, and text search."""

from __future__ import annotations

from django.db import connections, models
from django.db.models import Q

from ..access import is_executive
from .agreements import Agreement
from .teams import Team

# History reasons of corrections to locked months start with this.
CORRECTION_PREFIX = "correction"


def member_team_ids(user) -> models.QuerySet:
    return Team.objects.filter(memberships__user=user).values("pk")


def visible_team_ids_q(user, field: str) -> Q:
    """Rows whose ``field`` (a team) is one of the user's teams or a team one
    of them has a signed agreement with."""
    mine = member_team_ids(user)
    # Only signed agreements make two teams "parties": a one-sided draft
    # naming another team does not open that team's figures to the drafter.
    signed = Agreement.objects.signed()
    partners_i_consume = signed.filter(consumer__in=mine).values("provider")
    partners_i_provide = signed.filter(provider__in=mine).values("consumer")
    return (
        Q(**{f"{field}__in": mine})
        | Q(**{f"{field}__in": partners_i_consume})
        | Q(**{f"{field}__in": partners_i_provide})
    )


def can_read_everything(user) -> bool | None:
    """True for executives, False for anonymous or inactive users, None when
    the answer depends on the user's teams."""
    if not user.is_authenticated or not user.is_active:
        return False
    if is_executive(user):
        return True
    return None


def text_search(queryset: models.QuerySet, text: str, fields: list[str]):
    """Filter by words in ``fields``: PostgreSQL full-text search where
    available (stems, ranks whole words), a plain substring match elsewhere."""
    if connections[queryset.db].vendor == "postgresql":
        from django.contrib.postgres.search import SearchQuery, SearchVector

        return queryset.annotate(
            _search=SearchVector(*fields, config="english")
        ).filter(_search=SearchQuery(text, search_type="websearch", config="english"))
    condition = Q()
    for field in fields:
        condition |= Q(**{f"{field}__icontains": text})
    return queryset.filter(condition)
