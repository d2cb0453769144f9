from __future__ import annotations

from django import forms
from django.db.models import QuerySet

from agreements.models import Team

from .selectors.overview import STATUS_FILTER_LABELS


class DashboardFilterForm(forms.Form):
    team = forms.ModelChoiceField(
        queryset=Team.objects.none(),
        to_field_name="slug",
        required=False,
        empty_label="All teams",
        widget=forms.Select(attrs={"class": "form-select"}),
    )

    status = forms.ChoiceField(
        label="Last locked month",
        choices=[("", "Any status"), *STATUS_FILTER_LABELS.items()],
        required=False,
        widget=forms.Select(attrs={"class": "form-select"}),
    )

    def __init__(self, *args, teams: QuerySet[Team], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = teams


class BreachNoteForm(forms.Form):
    note = forms.CharField(
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class BreachResolveForm(BreachNoteForm):
    note = forms.CharField(
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        label="How was the remedy delivered?",
        error_messages={"required": "Say how the remedy was delivered."},
    )
