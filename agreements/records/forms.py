"""The column-mapping step of a records CSV import (the upload step uses the
figures import's ``UploadForm``)."""

from __future__ import annotations

from dataclasses import replace

from django import forms
from django.conf import settings

from ..calendars.models import time_zones
from ..imports.reading import CsvTable
from ..validators import multi_line
from .csv_import import NOT_IN_FILE, ColumnMapping, CsvField
from .lead_csv import LEAD_CSV_FIELDS, date_format_choices, example
from .services import REASON_MAX_LENGTH


class ColumnsForm(forms.Form):
    """A select of the file's columns for each field a record can take, and
    the time zone of times written without an offset."""

    def __init__(
        self, *args, fields: tuple[CsvField, ...], header: list[str], **kwargs
    ) -> None:
        super().__init__(*args, **kwargs)
        self.record_fields = fields
        choices = [
            (NOT_IN_FILE, "— not in the file —"),
            *((name, name) for name in header if name),
        ]
        for f in fields:
            self.fields[f.name] = forms.ChoiceField(
                label=f.label,
                choices=choices,
                required=f.required,
                help_text=f.help,
                error_messages={
                    "required": f"Choose the column that holds the "
                    f"{f.label.lower()}: every record needs one."
                },
            )
        self.fields["time_zone"] = forms.ChoiceField(
            label="Time zone of times without an offset",
            choices=[(zone, zone) for zone in time_zones()],
            initial=settings.TIME_ZONE,
            help_text="A time such as 2026-06-02 10:00 is read in this zone; one "
            "with an offset (2026-06-02T10:00+02:00, or Z for UTC) is kept as "
            "written.",
        )

    def column_fields(self) -> list[forms.BoundField]:
        return [self[f.name] for f in self.record_fields]

    def mapping(self) -> ColumnMapping:
        data = self.cleaned_data
        return ColumnMapping(
            columns={
                f.name: data[f.name]
                for f in self.record_fields
                if data.get(f.name, NOT_IN_FILE) != NOT_IN_FILE
            },
            time_zone=data["time_zone"],
        )


class LeadColumnsForm(ColumnsForm):
    """A leads source's columns, and what its dates and qualified leads are:
    one date format for every date column (those that read all the dates
    of the columns chosen are offered, the first preselected), and the
    column (and values) that make a lead qualified."""

    def __init__(self, *args, table: CsvTable, **kwargs) -> None:
        super().__init__(*args, fields=LEAD_CSV_FIELDS, header=table.header, **kwargs)
        given = self.data if self.is_bound else self.initial
        columns = {
            f.name: column
            for f in LEAD_CSV_FIELDS
            if (column := given.get(f.name)) and column in table.header
        }
        formats = date_format_choices(table, columns)
        self.fields["date_format"] = forms.ChoiceField(
            label="Dates are written",
            choices=[
                (fmt.key, f"{fmt.label}: {example(table, columns, fmt) or fmt.example}")
                for fmt in formats
            ],
            initial=formats[0].key,
            help_text="One format for every date column of the file: a date "
            "written otherwise is a problem of its row, never guessed.",
            error_messages={
                "invalid_choice": "The dates of the columns chosen are not all "
                "written in this format: choose one of those offered."
            },
        )
        self.fields["qualified_column"] = forms.ChoiceField(
            label="A lead is qualified when it has a value in",
            choices=[
                (NOT_IN_FILE, "— no lead is qualified —"),
                *((name, name) for name in table.header if name),
            ],
            required=False,
            help_text="E.g. Became a Marketing Qualified Lead Date: a lead "
            "with a date there is qualified.",
        )
        self.fields["qualified_values"] = forms.CharField(
            label="…that is one of",
            required=False,
            widget=forms.Textarea(attrs={"rows": 4}),
            help_text="One value a line, e.g. the lifecycle stages Marketing "
            "Qualified Lead, Sales Qualified Lead, Opportunity and Customer. "
            "Empty: any value counts (a date).",
        )

    def clean(self) -> dict:
        data = super().clean()
        if data.get("qualified_values", "").strip() and not data.get(
            "qualified_column"
        ):
            self.add_error(
                "qualified_column",
                "Choose the column whose values say that a lead is qualified.",
            )
        return data

    def mapping(self) -> ColumnMapping:
        data = self.cleaned_data
        values = (line.strip() for line in data["qualified_values"].splitlines())
        return replace(
            super().mapping(),
            date_format=data["date_format"],
            qualified_column=data["qualified_column"],
            qualified_values=tuple(value for value in values if value),
        )

    @staticmethod
    def initial_for(mapping: ColumnMapping) -> dict:
        """The form's initial values for a mapping."""
        return {
            **mapping.columns,
            "time_zone": mapping.time_zone,
            "date_format": mapping.date_format,
            "qualified_column": mapping.qualified_column,
            "qualified_values": "\n".join(mapping.qualified_values),
        }


class LateReasonForm(forms.Form):
    """Why records of locked months are imported late: a head's correction,
    kept in each record's history and on the scorecards finalised again."""

    reason = forms.CharField(
        label="Why are these records sent late?",
        max_length=REASON_MAX_LENGTH,
        strip=True,
        validators=[multi_line],
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Kept with each record and on the scorecards finalised again, "
        "as for a correction of figures.",
        error_messages={
            "required": "Say why these records come after their month locked: "
            "the reason is kept with each record."
        },
    )
