"""Reading and changing a person's email preferences."""

from __future__ import annotations

from django.db import transaction

from ..models import NotificationPreference

SWITCHES = ("digest", "scorecards", "reminders", "alerts")
# When the emails of events go out: at once, in a daily summary, or not at all.
TIMINGS = ("friction_email", "agreement_email", "breach_email")


def preferences_of(user) -> NotificationPreference:
    """The person's preferences, unsaved defaults (everything on) if never set."""
    found = NotificationPreference.objects.filter(user=user).first()
    return found or NotificationPreference(user=user)


@transaction.atomic
def preferences_update(*, user, **choices: bool | str) -> NotificationPreference:
    unknown = set(choices) - set(SWITCHES) - set(TIMINGS)
    if unknown:
        raise TypeError(f"unknown email preferences: {', '.join(sorted(unknown))}")
    preference, _ = NotificationPreference.objects.select_for_update().get_or_create(
        user=user
    )
    for name, value in choices.items():
        setattr(preference, name, bool(value) if name in SWITCHES else value)
    preference.full_clean()
    preference.save()
    return preference
