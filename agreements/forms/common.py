"""Widgets and fields the forms share."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from .. import periods


class FiniteDecimalField(forms.DecimalField):
    """A decimal that is a number: "NaN", "sNaN" and "Infinity" are refused
    when read, before anything compares them (a signalling NaN raises on
    comparison, which once made a blank editor row answer 500)."""

    def to_python(self, value: Any):
        value = super().to_python(value)
        if value is not None and not value.is_finite():
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        return value


class BoundedDateField(forms.DateField):
    """A date in 2000-01-01 … 2100-12-31, the dates the portal keeps."""

    def to_python(self, value: Any):
        value = super().to_python(value)
        return periods.check_day(value) if value is not None else None


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs: dict | None = None) -> None:
        # The browser's date picker sends and expects ISO dates.
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class MonthInput(forms.TextInput):
    """``<input type="month">``: browsers send ``YYYY-MM``."""

    input_type = "month"

    def format_value(self, value: Any) -> str | None:
        if isinstance(value, dt.date):
            return periods.format_month(value)
        return super().format_value(value)


class MonthField(forms.Field):
    """A month as ``YYYY-MM``, cleaned to its first day."""

    widget = MonthInput

    def to_python(self, value: Any) -> dt.date | None:
        if value in self.empty_values:
            return None
        if isinstance(value, dt.date):
            return periods.check_month(value)
        return periods.parse_month(str(value))


class ClientTokenForm(forms.Form):
    """A hidden token that names one filling-in of a create form: posting the
    same form twice (a double click, back and submit again) sends the same
    token, and the service returns the first record instead of a second."""

    client_token = forms.UUIDField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("client_token", uuid.uuid4())


class ReasonForm(forms.Form):
    """The reason a head gives for correcting a locked month."""

    reason = forms.CharField(
        label="Reason for the correction",
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Kept in the history, next to the old and new values.",
        error_messages={
            "required": "Say why this locked month is being corrected: the reason "
            "is kept in its history."
        },
    )

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise ValidationError(self.fields["reason"].error_messages["required"])
        return reason


def service_fields(form: forms.Form, names: tuple[str, ...]) -> dict[str, Any]:
    """The cleaned values a service takes, by name."""
    return {name: form.cleaned_data[name] for name in names}
