"""Small pieces of the agreement pages' look."""

from __future__ import annotations

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

from agreements.models import Agreement

register = template.Library()

STATUS_CLASSES = {
    Agreement.Status.DRAFT: "text-bg-secondary",
    Agreement.Status.PROPOSED: "text-bg-warning",
    Agreement.Status.ACTIVE: "text-bg-success",
    Agreement.Status.RETIRED: "text-bg-light border",
}


@register.simple_tag
def status_badge(agreement: Agreement, extra: str = "") -> SafeString:
    """The agreement's status as a coloured badge."""
    return format_html(
        '<span class="badge {} sp-status {}" data-status="{}">{}</span>',
        STATUS_CLASSES.get(agreement.status, "text-bg-secondary"),
        extra,
        agreement.status,
        agreement.get_status_display(),
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
