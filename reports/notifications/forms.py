from __future__ import annotations

from django import forms

from ..models import NotificationPreference
from .preferences import SWITCHES


class PreferencesForm(forms.ModelForm):
    class Meta:
        model = NotificationPreference
        fields = list(SWITCHES)
