"""The emails' trend cells, written in Python rather than by the template
engine: a scorecard email's summary has about a hundred of them, each five
lookups and escapes in a template, and they were most of its rendering."""

from __future__ import annotations

from collections.abc import Iterable

from django import template
from django.utils.html import format_html_join
from django.utils.safestring import SafeString

from reports.notifications.cards import TrendCell

register = template.Library()


@register.simple_tag
def trend_cells(cells: Iterable[TrendCell], css_class: str) -> SafeString:
    """One ``<td>`` a month, each on a line of its own (no line of an email
    may pass 998 characters): its status colour, its ink, what it says when
    pointed at, and its icon and score. Escaped as ``{{ }}`` escapes."""
    return format_html_join(
        "",
        '\n    <td class="{}" style="background: {}; color: {};" title="{}">{}</td>',
        ((css_class, cell.colour, cell.ink, cell.title, cell.text) for cell in cells),
    )
