from __future__ import annotations

from django import forms

from .fanout import event_choices
from .models import TeamChannel


class ChannelEventsForm(forms.Form):
    events = forms.MultipleChoiceField(
        choices=event_choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        label="Events posted to the channel",
    )


class ChannelAddForm(ChannelEventsForm):
    field_order = ["kind", "name", "webhook_url", "events"]

    kind = forms.ChoiceField(choices=TeamChannel.Kind.choices, label="Kind")
    name = forms.CharField(max_length=100, help_text="E.g. #sales-sla.")
    webhook_url = forms.CharField(
        label="Webhook address",
        max_length=1000,
        widget=forms.PasswordInput(render_value=False),
        help_text="Slack: an incoming webhook (https://hooks.slack.com/services/…). "
        "Teams: a Workflows webhook (“When a Teams webhook request is "
        "received”). Shown only by its last four characters once saved.",
    )
