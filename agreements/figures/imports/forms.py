"""The CSV upload form."""

from __future__ import annotations

from django import forms

from . import MAX_BYTES


class UploadForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
        error_messages={
            "required": "Choose a CSV file to upload.",
            "empty": "The file is empty.",
        },
        help_text=f"UTF-8, comma- or semicolon-separated, up to "
        f"{MAX_BYTES // (1024 * 1024)} MB.",
    )
