"""The column-mapping step of a records CSV import (the upload step uses the
figures import's ``UploadForm``)."""

from __future__ import annotations

from django import forms
from django.conf import settings

from ..calendars.models import time_zones
from ..validators import multi_line
from .csv_import import NOT_IN_FILE, ColumnMapping, CsvField
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
