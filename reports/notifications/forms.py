from __future__ import annotations

from django import forms

from ..models import NotificationPreference
from .preferences import SWITCHES, TIMINGS


class PreferencesForm(forms.ModelForm):
    class Meta:
        model = NotificationPreference
        fields = [*SWITCHES, *TIMINGS]
        widgets = dict.fromkeys(
            TIMINGS, forms.RadioSelect(attrs={"class": "form-check-input"})
        )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # A timing left out of the form keeps its current value.
        for name in TIMINGS:
            self.fields[name].required = False

    def clean(self) -> dict:
        cleaned = super().clean()
        for name in TIMINGS:
            if not cleaned.get(name):
                cleaned[name] = getattr(self.instance, name)
        return cleaned
