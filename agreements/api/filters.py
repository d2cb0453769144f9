from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.db.models import QuerySet
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from ..models import Agreement, Team
from ..periods import parse_month


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


class MonthField(forms.CharField):
    def to_python(self, value: Any) -> datetime.date | None:
        value = super().to_python(value)
        return parse_month(value) if value else None


@extend_schema_field(
    {"type": "string", "pattern": r"^\d{4}-\d{2}$", "example": "2026-03"}
)
class MonthFilter(filters.Filter):
    """A month as ``YYYY-MM``; anything else is a 400 naming the parameter."""

    field_class = MonthField


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
    team = filters.ModelChoiceFilter(queryset=Team.objects.all())
