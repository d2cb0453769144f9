from __future__ import annotations

import html

from django import forms
from django.db.models import QuerySet
from django.forms.utils import flatatt
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from agreements.forms.common import MonthField, MonthInput
from agreements.models import Team

from .models import Breach
from .selectors.overview import STATUS_FILTER_LABELS


class TeamSelect(forms.Select):
    """A select whose options are written in one pass, and once for every
    select of a form that lists the same teams (``options_html``). The
    dashboard lists every team of the organisation twice; Django's select
    renders a template per option, which took most of the page's time at a
    thousand teams."""

    options_html: str | None = None

    def render(self, name, value, attrs=None, renderer=None):
        chosen = {str(v) for v in self.format_value(value)}
        options = self.options_html
        if options is None:
            options = option_tags(self.choices)
        for key in chosen:
            tag = f'<option value="{html.escape(key)}">'
            options = options.replace(tag, f"{tag[:-1]} selected>", 1)
        attrs = self.build_attrs(self.attrs, attrs)
        return format_html(
            '<select name="{}"{}>{}</select>',
            name,
            flatatt(attrs),
            mark_safe(options),  # noqa: S308 (each value escaped by option_tags)
        )


def option_tags(choices) -> str:
    """``<option>`` tags of ``choices`` (value, label), none selected."""
    return "".join(
        f'<option value="{html.escape(str(key))}">{html.escape(str(label))}</option>'
        for key, label in choices
    )


class DashboardFilterForm(forms.Form):
    team = forms.ModelChoiceField(
        queryset=Team.objects.none(),
        to_field_name="slug",
        required=False,
        empty_label="All teams",
        widget=TeamSelect(attrs={"class": "form-select"}),
    )

    status = forms.ChoiceField(
        label="Status in the reported month",
        choices=[("", "Any status"), *STATUS_FILTER_LABELS.items()],
        required=False,
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    breach_status = forms.ChoiceField(
        label="Breaches",
        choices=[
            ("", "Not resolved"),
            *Breach.Status.choices,
            ("all", "All breaches"),
        ],
        required=False,
        widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
    )
    breach_team = forms.ModelChoiceField(
        label="Breaches of team",
        queryset=Team.objects.none(),
        to_field_name="slug",
        required=False,
        empty_label="Any team",
        widget=TeamSelect(attrs={"class": "form-select form-select-sm"}),
    )
    breach_month = MonthField(
        label="Breaches of month",
        required=False,
        widget=MonthInput(attrs={"class": "form-control form-control-sm"}),
    )

    def __init__(self, *args, teams: QuerySet[Team], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Both selects list the same teams: read once, as pairs, not models,
        # and written once.
        tags = option_tags(teams.values_list("slug", "name"))
        for name in ("team", "breach_team"):
            field = self.fields[name]
            field.queryset = teams  # what a chosen slug is checked against
            field.widget.options_html = option_tags([("", field.empty_label)]) + tags


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
