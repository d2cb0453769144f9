from __future__ import annotations

from django.db.models import QuerySet
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from ..models import Agreement, Team


@extend_schema_field(OpenApiTypes.INT)
class TeamChoiceFilter(filters.ModelChoiceFilter):
    """A team id; typed here because a method filter names no model field."""


class AgreementFilter(filters.FilterSet):
    team = TeamChoiceFilter(
        queryset=Team.objects.all(),
        method="filter_team",
        label="Team",
        help_text="Agreements the team provides or consumes.",
    )
    provider = filters.ModelChoiceFilter(queryset=Team.objects.all())
    consumer = filters.ModelChoiceFilter(queryset=Team.objects.all())
    status = filters.ChoiceFilter(choices=Agreement.Status.choices)
    title = filters.CharFilter(
        lookup_expr="icontains", max_length=150, help_text="Part of the title."
    )

    class Meta:
        model = Agreement
        fields = ["team", "provider", "consumer", "status", "title"]

    def filter_team(self, queryset: QuerySet, name: str, value: Team) -> QuerySet:
        return queryset.involving(value)


class TeamFilter(filters.FilterSet):
    kind = filters.ChoiceFilter(choices=Team.Kind.choices)

    class Meta:
        model = Team
        fields = ["kind"]
