"""Forms of the figures pages: lead log entries, closed customers and
measurements. They turn text into values; the services check every rule
(open month, qualified within delivered, one measurement a month…) and the
views show their refusals on these forms."""

from __future__ import annotations

from functools import cache
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.module_loading import import_string

from .. import periods
from ..forms.common import (
    BoundedDateField,
    ClientTokenForm,
    DateInput,
    FiniteDecimalField,
    MonthField,
    ReasonForm,
)
from ..models import Objective
from .kinds import FigureKind

MEASUREMENT_FIELDS = ("value", "note")


class FigureForm(forms.Form):
    """The fields a person enters for one row of a figure kind (the kind names
    its form in ``kinds.py``); ``values()`` hands them to the service."""

    def values(self) -> dict[str, Any]:
        extra = {*ClientTokenForm.base_fields, *ReasonForm.base_fields}
        return {
            name: self.cleaned_data[name]
            for name in self.base_fields
            if name not in extra
        }


def _form_from_model(kind: FigureKind) -> type[FigureForm]:
    """A form of the kind's fields, as its model defines them."""
    fields = forms.fields_for_model(
        kind.model, fields=kind.fields, widgets={kind.date_field: DateInput()}
    )
    return type(f"{kind.model.__name__}Form", (FigureForm,), dict(fields))


@cache
def figure_forms(kind: FigureKind) -> tuple[type[FigureForm], type, type]:
    """The kind's forms to edit a row, to create one (with the client token
    that makes a second post harmless) and to correct a locked month (with a
    reason)."""
    edit: type[FigureForm] = (
        import_string(kind.form) if kind.form else _form_from_model(kind)
    )
    create = type(f"{edit.__name__}Create", (edit, ClientTokenForm), {})
    correct = type(f"{edit.__name__}Correct", (edit, ReasonForm), {})
    return edit, create, correct


def _count(label: str, **kwargs: Any) -> forms.IntegerField:
    return forms.IntegerField(
        label=label,
        min_value=0,
        error_messages={
            "min_value": f"{label} cannot be negative.",
            "invalid": "Enter a whole number, like 12.",
        },
        widget=forms.NumberInput(attrs={"min": 0, "step": 1, "inputmode": "numeric"}),
        **kwargs,
    )


class LeadLogEntryForm(FigureForm):
    date = BoundedDateField(
        widget=DateInput(),
        help_text="The day the leads were delivered, in an open month.",
    )
    leads_delivered = _count("Leads delivered")
    qualified_leads = _count(
        "Qualified leads",
        required=False,
        help_text="How many of them were qualified. Leave empty for none.",
    )
    source = forms.CharField(
        label="Source or campaign",
        max_length=150,
        required=False,
        help_text="E.g. “Spring webinar” or “Partner referrals”.",
    )
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)

    def clean_qualified_leads(self) -> int:
        return self.cleaned_data["qualified_leads"] or 0


class ClosedCustomerForm(FigureForm):
    customer = forms.CharField(label="Customer name", max_length=200)
    closed_on = BoundedDateField(
        label="Closed on",
        widget=DateInput(),
        help_text="The day the deal closed, in an open month.",
    )
    deal_value = FiniteDecimalField(
        label="Deal value",
        required=False,
        min_value=0,
        max_digits=14,
        decimal_places=2,
        error_messages={
            "min_value": "The deal value cannot be negative.",
            "invalid": "Enter an amount, like 12000.50.",
        },
        widget=forms.NumberInput(attrs={"min": 0, "step": "0.01"}),
        help_text="Leave empty if it is not known yet.",
    )
    handover_notes = forms.CharField(
        label="Handover notes",
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        help_text="What the team taking over the customer needs to know.",
    )

    def clean_deal_value(self):
        value = self.cleaned_data["deal_value"]
        return 0 if value is None else value


class ObjectiveChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Objective) -> str:
        return f"{obj.name} ({obj.describe}) — {obj.agreement.title}"


class MeasurementValueForm(forms.Form):
    value = FiniteDecimalField(
        max_digits=12,
        decimal_places=2,
        error_messages={"invalid": "Enter a number, like 99.5."},
        widget=forms.NumberInput(attrs={"step": "any"}),
    )
    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        help_text="How it was measured, or anything unusual this month.",
    )

    def values(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in MEASUREMENT_FIELDS}


class MeasurementForm(MeasurementValueForm):
    """A new measurement: which objective, which month, the value."""

    objective = ObjectiveChoiceField(
        queryset=Objective.objects.none(),
        empty_label="Choose the objective…",
        error_messages={"invalid_choice": "Choose one of the objectives listed."},
    )
    month = MonthField(help_text="The month the value is for.")

    field_order = ["objective", "month", "value", "note"]

    def __init__(self, *args: Any, objectives, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["objective"].queryset = objectives
        if not self.is_bound:
            self.initial.setdefault("month", periods.current_month())


class MeasurementCorrectForm(MeasurementValueForm, ReasonForm):
    pass


class MeasurementLateForm(MeasurementForm, ReasonForm):
    """A missing measurement added after its month locked."""

    field_order = ["objective", "month", "value", "note", "reason"]


class DeleteWithReasonForm(ReasonForm):
    """Deleting a row of a locked month is a correction too."""


class FiguresFilterForm(forms.Form):
    """The month a figures list shows: the current one unless another is
    asked for, or ``all`` for every month."""

    ALL = "all"

    month = forms.ChoiceField(
        required=False,
        widget=forms.Select(attrs={"class": "form-select"}),
    )

    def __init__(self, data=None, *args: Any, **kwargs: Any) -> None:
        data = data.copy() if data is not None else {}
        if not data.get("month"):
            data["month"] = periods.format_month(periods.current_month())
        super().__init__(data, *args, **kwargs)
        months = list(reversed(periods.recent_months(13)))
        # A link may name an older month (from a correction, say): offer it too.
        try:
            asked = periods.parse_month(self.data.get("month", ""))
        except ValidationError:
            asked = None
        if asked is not None and asked not in months:
            months.append(asked)
        self.fields["month"].choices = [
            *((periods.format_month(m), periods.month_label(m)) for m in months),
            (self.ALL, "All months"),
        ]

    def chosen_month(self):
        """The month to show, or None for all of them."""
        if not self.is_valid() or self.cleaned_data["month"] == self.ALL:
            return None
        return periods.parse_month(self.cleaned_data["month"])


class HandoverFilterForm(FiguresFilterForm):
    """The list of a kind whose rows the receiving team acknowledges."""

    pending = forms.BooleanField(
        required=False, label="Only handovers not yet acknowledged"
    )
