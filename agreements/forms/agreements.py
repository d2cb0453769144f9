"""Forms of the agreement pages. They validate and show errors; the services in
``agreements.services.agreements`` do every write."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from ..calendars.models import WorkingCalendar
from ..models import Agreement, Objective, Team
from ..records.models import RecordMeasure, RecordSource
from ..records.terms import current_measure
from ..rules import can
from .common import DateInput, FiniteDecimalField

OBJECTIVES_PREFIX = "objectives"
MAX_OBJECTIVES = 30
# The history keeps a change reason of up to 100 characters, and the services
# put "changes requested: " or "retired: " in front of the note.
# Kept in the history's reason (a text field) and in the event's email.
NOTE_MAX_LENGTH = 2000


class AgreementForm(forms.ModelForm):
    """The agreement's own fields. ``edit_count`` travels with the editor so
    that a save based on an outdated page is refused, not merged."""

    edit_count = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Agreement
        fields = [
            "title",
            "provider",
            "consumer",
            "summary",
            "effective_from",
            "effective_to",
            "review_on",
            "compensation_clause",
            "remedy",
            "remedy_credit",
            "remedy_credit_unit",
        ]
        labels = {
            "effective_from": "In force from",
            "effective_to": "In force until",
            "review_on": "Review on",
            "compensation_clause": "In words",
            "remedy": "Structured remedy",
        }
        field_classes = {"remedy_credit": FiniteDecimalField}
        help_texts = {
            "title": "Short and specific, e.g. “Qualified leads for Sales”.",
            "summary": "What the promise is about, in a sentence or two.",
            "compensation_clause": "Make-up, escalation, internal credit… "
            "Optional when a structured remedy below says it.",
        }
        widgets = {
            "effective_from": DateInput(),
            "effective_to": DateInput(),
            "review_on": DateInput(),
            "summary": forms.Textarea(attrs={"rows": 2}),
            "compensation_clause": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args: Any, user, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.editing = editing
        teams = Team.objects.order_by("name")
        self.fields["provider"].queryset = teams
        self.fields["consumer"].queryset = teams
        self.fields["provider"].empty_label = "Choose the team that promises…"
        self.fields["consumer"].empty_label = "Choose the team it promises to…"
        if not editing:
            del self.fields["edit_count"]
        # One of the two is needed (the model's clean says so), neither alone.
        self.fields["remedy"].required = False
        self.fields[
            "remedy"
        ].help_text = "Optional: lets scorecards and breach emails state the remedy."

    def clean_remedy(self) -> str:
        return self.cleaned_data.get("remedy") or Agreement.Remedy.NONE

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        provider, consumer = cleaned.get("provider"), cleaned.get("consumer")
        if (
            provider
            and consumer
            and not can(
                self.user,
                "act_on_agreement",
                Agreement(provider=provider, consumer=consumer),
            )
        ):
            raise ValidationError(
                "You can only draft an agreement for a team you lead, manage or "
                "head: make it the provider or the consumer."
            )
        if self.editing and cleaned.get("edit_count") is None:
            raise ValidationError(
                "This page is missing its version marker. Reload it and edit again."
            )
        return cleaned


class ObjectiveForm(forms.ModelForm):
    """One objective row of the editor. ``id`` names an existing objective of
    the draft; rows without one are new."""

    id = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Objective
        fields = [
            "name",
            "metric_source",
            "comparator",
            "target",
            "unit",
            "weight",
            "warning_threshold",
        ]
        labels = {
            "metric_source": "Measured by",
            "warning_threshold": "Warn at",
        }
        # The editor explains weight and warning level once, above the rows.
        help_texts = {"weight": "", "warning_threshold": ""}
        field_classes = {
            "target": FiniteDecimalField,
            "weight": FiniteDecimalField,
            "warning_threshold": FiniteDecimalField,
        }
        widgets = {
            "target": forms.NumberInput(attrs={"step": "any"}),
            "weight": forms.NumberInput(attrs={"step": "any"}),
            "warning_threshold": forms.NumberInput(attrs={"step": "any"}),
        }

    # How an objective measured from records is computed (its RecordMeasure).
    measure_source = forms.ModelChoiceField(
        queryset=RecordSource.objects.select_related("team").order_by(
            "team__name", "name"
        ),
        required=False,
        label="Records from",
        empty_label="Choose the provider's source…",
    )
    measure_calendar = forms.ModelChoiceField(
        queryset=WorkingCalendar.objects.select_related("team").order_by("name"),
        required=False,
        label="Working calendar",
        empty_label="Choose a calendar…",
    )
    measure_event = forms.ChoiceField(
        choices=[("", "—"), *RecordMeasure.Event.choices],
        required=False,
        label="Clock stops at",
    )
    measure_target_minutes = FiniteDecimalField(
        required=False,
        min_value=Decimal("0.01"),
        label="Within (business minutes)",
        widget=forms.NumberInput(attrs={"step": "any"}),
    )
    measure_partial_weight = FiniteDecimalField(
        required=False,
        min_value=Decimal(0),
        max_value=Decimal(1),
        label="A partial outage counts as down",
        help_text="0 not at all, 0.5 half, 1 fully.",
        widget=forms.NumberInput(attrs={"step": "0.05"}),
    )
    measure_exclude_maintenance = forms.BooleanField(
        required=False, label="Leave planned maintenance out of the promise"
    )
    measure_component = forms.CharField(
        required=False, max_length=200, label="Only this component"
    )

    MEASURE_FIELDS = {
        Objective.Source.REQUEST_TIMES: ("source", "calendar", "event", "target"),
        Objective.Source.AVAILABILITY: (
            "source",
            "calendar",
            "partial_weight",
            "exclude_maintenance",
            "component",
        ),
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["metric_source"].choices = [
            ("", "Choose…"),
            *Objective.Source.choices,
        ]
        # site.js offers only the units that fit the chosen source.
        self.fields["metric_source"].widget.attrs["data-units"] = json.dumps(
            Objective.UNITS_BY_SOURCE
        )
        self.fields["measure_source"].label_from_instance = lambda source: (
            f"{source.name} ({source.team}, {source.kind_words})"
        )

    @property
    def from_records(self) -> bool:
        value = self["metric_source"].value()
        return value in Objective.RECORD_SOURCES

    def measure(self) -> dict[str, Any] | None:
        """The row's ``measure`` for the services, for an objective measured
        from records."""
        fields = self.MEASURE_FIELDS.get(self.cleaned_data.get("metric_source"))
        if fields is None:
            return None
        values = {
            name: self.cleaned_data.get(
                "measure_target_minutes" if name == "target" else f"measure_{name}"
            )
            for name in fields
        }
        if "partial_weight" in values and values["partial_weight"] is None:
            values["partial_weight"] = Decimal(0)
        if "component" in values:
            values["component"] = (values["component"] or "").strip()
        return values

    @property
    def is_removed(self) -> bool:
        """Marked for removal in the editor (kept as hidden inputs until saved)."""
        return self.is_bound and "DELETE" in self.fields and bool(self["DELETE"].data)


class BaseObjectiveFormSet(forms.BaseFormSet):
    default_error_messages = {
        "too_many_forms": "An agreement can have at most %(num)d objectives.",
    }

    def clean(self) -> None:
        # Names are unique per agreement. The rows are checked as a set here
        # (a row-by-row check against the stored rows goes wrong while several
        # rows are renamed at once); the service checks again before writing.
        if any(self.errors):
            return
        seen: dict[str, int] = {}
        for number, form in enumerate(self.kept_forms(), start=1):
            name = form.cleaned_data["name"].strip()
            key = name.lower()
            if key in seen:
                form.add_error("name", f"Objective {seen[key]} already has this name.")
                raise ValidationError(
                    f"Two objectives cannot have the same name: “{name}”."
                )
            seen[key] = number

    def kept_forms(self) -> list[ObjectiveForm]:
        """Filled-in rows that are not marked for removal, in order. Blank
        extra rows have empty ``cleaned_data`` and are left out."""
        return [
            form
            for form in self.forms
            if form.cleaned_data and not self._should_delete_form(form)
        ]

    def rows(self) -> list[dict[str, Any]]:
        """Cleaned rows for the services: field values plus ``id`` if stored."""
        rows = []
        for form in self.kept_forms():
            row = {name: form.cleaned_data[name] for name in ObjectiveForm.Meta.fields}
            if form.cleaned_data.get("id"):
                row["id"] = form.cleaned_data["id"]
            measure = form.measure()
            if measure is not None:
                row["measure"] = measure
            rows.append(row)
        return rows


def _objective_formset(extra: int) -> type[BaseObjectiveFormSet]:
    return forms.formset_factory(
        ObjectiveForm,
        formset=BaseObjectiveFormSet,
        extra=extra,
        can_delete=True,
        max_num=MAX_OBJECTIVES,
        validate_max=True,
        absolute_max=MAX_OBJECTIVES,
    )


# A new agreement starts with one blank row; a draft shows its objectives.
NewObjectiveFormSet = _objective_formset(extra=1)
ObjectiveFormSet = _objective_formset(extra=0)


def objective_formset(
    data=None, *, objectives: list[Objective] | None = None
) -> BaseObjectiveFormSet:
    initial = [objective_initial(o) for o in objectives or []]
    formset_class = ObjectiveFormSet if initial else NewObjectiveFormSet
    return formset_class(data, initial=initial or None, prefix=OBJECTIVES_PREFIX)


def objective_initial(objective: Objective) -> dict[str, Any]:
    initial: dict[str, Any] = {"id": objective.pk}
    for name in ObjectiveForm.Meta.fields:
        value = getattr(objective, name)
        # 250 reads better than the stored 250.00.
        initial[name] = (
            f"{value.normalize():f}" if isinstance(value, Decimal) else value
        )
    measure = current_measure(objective)
    if measure is not None:
        initial.update(
            measure_source=measure.source_id,
            measure_calendar=measure.calendar_id,
            measure_event=measure.event,
            measure_target_minutes=(
                f"{Decimal(measure.target.total_seconds() / 60).normalize():f}"
                if measure.target
                else None
            ),
            measure_partial_weight=f"{measure.partial_weight.normalize():f}",
            measure_exclude_maintenance=measure.exclude_maintenance,
            measure_component=measure.component,
        )
    else:
        initial["measure_exclude_maintenance"] = True
    return initial


class AgreementFilterForm(forms.Form):
    q = forms.CharField(
        required=False,
        label="Title",
        max_length=150,
        widget=forms.SearchInput(
            attrs={"class": "form-control", "placeholder": "Search titles…"}
        ),
    )
    team = forms.ModelChoiceField(
        queryset=Team.objects.order_by("name"),
        required=False,
        empty_label="All teams",
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    status = forms.ChoiceField(
        choices=[("", "Any status"), *Agreement.Status.choices],
        required=False,
        widget=forms.Select(attrs={"class": "form-select"}),
    )


class NoteForm(forms.Form):
    note = forms.CharField(
        required=False,
        max_length=NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
    )


class SignForm(forms.Form):
    team = forms.ModelChoiceField(
        queryset=Team.objects.all(),
        error_messages={"invalid_choice": "Choose a team to sign for."},
    )
