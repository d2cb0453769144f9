"""Input fields and filters whose schema says exactly what the server takes:
months, ids, and text that must say something."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.db import models
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from agreements import periods

from .schema import NUL, text_pattern

# The largest id a 64-bit primary key holds; a larger number in a filter is
# no id at all (and would overflow the database's integer).
MAX_ID = 2**63 - 1

BLANK_MESSAGE = "Give a value, or leave the parameter out."
MONTH_MESSAGE = (
    "“%(value)s” is not a month the portal keeps: write it as YYYY-MM, "
    "from 2000-01 to 2100-12."
)

MONTH_SCHEMA = {
    "type": "string",
    "pattern": periods.MONTH_PATTERN,
    "example": "2026-03",
}
ID_SCHEMA = {"type": "integer", "minimum": 1, "maximum": MAX_ID}


def _month(value: str) -> Any:
    """``"2026-03"`` → its first day; anything the schema's pattern refuses
    is a 400 (code ``invalid``)."""
    if not re.match(periods.MONTH_PATTERN, value):
        raise serializers.ValidationError(
            MONTH_MESSAGE % {"value": value}, code="invalid"
        )
    return periods.parse_month(value)


@extend_schema_field(MONTH_SCHEMA)
class MonthInputField(serializers.CharField):
    """``YYYY-MM`` in (2000-01 … 2100-12), the month's first day out."""

    def to_internal_value(self, data: Any) -> Any:
        return _month(super().to_internal_value(data))


class _MonthFormField(forms.CharField):
    def to_python(self, value: Any) -> Any:
        value = super().to_python(value)
        if not value:
            return None
        try:
            return _month(value)
        except serializers.ValidationError as exc:
            # As params, not formatted in: django-filter formats the message
            # again, and the value may hold a "%".
            raise forms.ValidationError(
                MONTH_MESSAGE, code="invalid", params={"value": value}
            ) from exc


@extend_schema_field(MONTH_SCHEMA)
class MonthFilter(filters.Filter):
    """A month as ``YYYY-MM``; anything else is a 400 naming the parameter."""

    field_class = _MonthFormField


@extend_schema_field(ID_SCHEMA)
class IdFilter(filters.NumberFilter):
    """Rows pointing at the record with this id. An id that exists nowhere (or
    that the reader may not see) finds nothing, as it would in a search: an
    empty page, not an error."""

    field_class = forms.IntegerField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


def text_filter(max_length: int, **kwargs: Any) -> filters.CharFilter:
    """A text filter: 1 to ``max_length`` characters, not only spaces (an
    empty one is refused by ``StrictFilterBackend``), and no NUL, which
    Django's form fields refuse."""
    text = filters.CharFilter(max_length=max_length, **kwargs)
    return extend_schema_field(
        {
            "type": "string",
            "minLength": 1,
            "maxLength": max_length,
            "pattern": text_pattern(refused=NUL, not_blank=True),
        }
    )(text)


class QuerySerializer(serializers.Serializer):
    """Query parameters read by a serializer. DRF takes ``?month=`` for an
    absent parameter; here, as in the filters, a parameter given with no
    value is a 400."""

    def to_internal_value(self, data: Any) -> Any:
        blank = {
            name: [BLANK_MESSAGE]
            for name in self.fields
            if name in data and not str(data.get(name, "")).strip()
        }
        if blank:
            raise serializers.ValidationError(blank, code="blank")
        return super().to_internal_value(data)


class TextField(serializers.CharField):
    """Text, sent as a JSON string. DRF's ``CharField`` also takes ``12`` or
    ``0.4`` and keeps them as ``"12"``; the schema says ``type: string``, so a
    number is the client's mistake: a 400."""

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class ModelSerializer(serializers.ModelSerializer):
    """DRF's ``ModelSerializer`` whose text fields are ``TextField``."""

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.CharField: TextField,
        models.TextField: TextField,
    }
