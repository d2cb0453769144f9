from __future__ import annotations

from django.db.models import QuerySet
from django_filters import rest_framework as filters

from api.fields import IdFilter, MonthFilter, text_filter

from ..models import Agreement, Team


class AgreementFilter(filters.FilterSet):
    team = IdFilter(
        method="filter_team",
        label="Team",
        help_text="Agreements the team provides or consumes.",
    )
    provider = IdFilter(field_name="provider_id")
    consumer = IdFilter(field_name="consumer_id")
    status = filters.ChoiceFilter(choices=Agreement.Status.choices)
    title = text_filter(150, lookup_expr="icontains", help_text="Part of the title.")

    class Meta:
        model = Agreement
        fields = ["team", "provider", "consumer", "status", "title"]

    def filter_team(self, queryset: QuerySet, name: str, value: int) -> QuerySet:
        return queryset.involving(value)


class TeamFilter(filters.FilterSet):
    kind = filters.ChoiceFilter(choices=Team.Kind.choices)

    class Meta:
        model = Team
        fields = ["kind"]


class MonthRangeFilterSet(filters.FilterSet):
    """Rows of a range of months, on the model's ``month`` field."""

    month_after = MonthFilter(
        field_name="month", lookup_expr="gte", help_text="From this month (YYYY-MM)."
    )
    month_before = MonthFilter(
        field_name="month",
        lookup_expr="lte",
        help_text="Up to and including this month (YYYY-MM).",
    )


class SubmissionFilter(MonthRangeFilterSet):
    team = IdFilter(field_name="team_id")
