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

    default_error_messages = {"invalid": "Enter a day like 1 Dec 2026."}

    def to_python(self, value: Any):
        value = super().to_python(value)
        return periods.check_day(value) if value is not None else None


# What a day may be typed as: the way every page writes it ("1 Dec 2026"),
# the month spelt out, ISO (what scripts and the API send) and day-first
# numbers. Never month-first: 03/04 is the 3rd of April here.
DAY_INPUT_FORMATS = ("%d %b %Y", "%d %B %Y", "%Y-%m-%d", "%d/%m/%Y", "%d.%m.%Y")


def parse_day(text: str) -> dt.date | None:
    text = " ".join(text.replace(",", " ").split())
    for pattern in DAY_INPUT_FORMATS:
        try:
            return dt.datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    return None


class DateInput(forms.DateInput):
    """A day, shown and typed as every page writes one ("1 Dec 2026").

    A text box rather than ``<input type="date">``: the browser's picker shows
    the format of the computer's locale (mm/dd/yyyy on many), never the
    portal's. What was typed in a known format reaches the field as ISO, so
    every ``DateField`` using this widget accepts all of them."""

    input_type = "text"
    placeholder = "e.g. 1 Dec 2026"

    def __init__(self, attrs: dict | None = None) -> None:
        super().__init__(
            attrs={
                "placeholder": self.placeholder,
                "autocomplete": "off",
                "spellcheck": "false",
                "data-day-input": "",
                **(attrs or {}),
            }
        )

    def format_value(self, value: Any) -> str | None:
        if isinstance(value, dt.date):
            return f"{value.day} {value:%b %Y}"
        return super().format_value(value)

    def value_from_datadict(self, data: Any, files: Any, name: str) -> Any:
        value = super().value_from_datadict(data, files, name)
        if isinstance(value, str):
            day = parse_day(value)
            if day is not None:
                return day.isoformat()
        return value


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
