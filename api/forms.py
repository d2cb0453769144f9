from __future__ import annotations

from django import forms

from .models import ApiToken


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        max_length=ApiToken._meta.get_field("name").max_length,
        help_text="What will use it, e.g. “weekly export script”. Only you see it.",
    )
