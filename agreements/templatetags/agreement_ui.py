"""Small pieces of the agreement pages' look."""

from __future__ import annotations

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

from agreements.models import Agreement

register = template.Library()

Phase = Agreement.Phase
PHASE_CLASSES = {
    Phase.DRAFT: "text-bg-secondary",
    Phase.PROPOSED: "text-bg-warning",
    Phase.SIGNED: "text-bg-info",
    Phase.IN_FORCE: "text-bg-success",
    Phase.ENDED: "text-bg-light border",
    Phase.RETIRED: "text-bg-light border",
}


@register.simple_tag
def status_badge(agreement: Agreement, extra: str = "") -> SafeString:
    """Where the agreement stands today, as a coloured badge: a signed
    agreement that has not started yet says so, with its start date."""
    phase = agreement.phase()
    label = Phase.LABELS[phase]
    if phase == Phase.SIGNED:
        label = agreement.phase_text
    return format_html(
        '<span class="badge {} sp-status {}" data-status="{}" data-phase="{}">'
        "{}</span>",
        PHASE_CLASSES[phase],
        extra,
        agreement.status,
        phase,
        label,
    )


@register.filter
def number(value) -> str:
    """A decimal without trailing zeros: 200.00 → 200, 99.50 → 99.5."""
    if value is None:
        return "—"
    return f"{value.normalize():f}"


@register.filter
def person(user) -> str:
    """A user's full name, falling back to the username."""
    if user is None:
        return "the system"
    return user.get_full_name() or user.username
