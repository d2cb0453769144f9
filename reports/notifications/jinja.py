"""The emails' template engine: Jinja2, with the Django filters the
templates use.

A month end renders thousands of email bodies, and in the Django template
engine each variable is looked up node by node; Jinja2 compiles a template
to Python once. ``.html`` templates are autoescaped, ``.txt`` ones are not.
Templates live in ``templates/jinja2/``; ``settings.TEMPLATES`` names this
engine ``emails``.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from html import escape

from django.template import defaultfilters
from django.utils.safestring import SafeString
from django.utils.timezone import template_localtime
from jinja2 import Environment, select_autoescape

from .cards import TrendCell


def trend_cells(cells: Iterable[TrendCell], css_class: str) -> SafeString:
    """One ``<td>`` a month, each on a line of its own (no line of an email
    may pass 998 characters): its status colour, its ink, what it says when
    pointed at, and its icon and score; escaped."""
    # ``format_html_join``'s escaping, without its lazy-string wrappers and
    # its format call for each of the month end's hundred thousand cells.
    css = escape(css_class)
    return SafeString(
        "".join(
            f'\n    <td class="{css}" style="background: {escape(cell.colour)}; '
            f'color: {escape(cell.ink)};" title="{escape(cell.title)}">'
            f"{escape(cell.text)}</td>"
            for cell in cells
        )
    )


def _truncatechars(value, length: int) -> str:
    """Django's ``truncatechars``, without its walk over every character of
    a text already short enough (most remedies), which returns it as is."""
    text = unicodedata.normalize("NFC", str(value))
    return text if len(text) <= length else defaultfilters.truncatechars(text, length)


def _date(value, arg: str | None = None) -> str:
    """Django's ``date`` filter, in the current time zone as in a Django
    template."""
    return defaultfilters.date(template_localtime(value), arg)


def _time(value, arg: str | None = None) -> str:
    return defaultfilters.time(template_localtime(value), arg)


def environment(**options) -> Environment:
    options["autoescape"] = select_autoescape(["html"], default_for_string=True)
    options["keep_trailing_newline"] = True  # as the Django engine keeps it
    env = Environment(**options)  # noqa: S701 (autoescape is set just above)
    env.filters.update(
        date=_date,
        time=_time,
        pluralize=defaultfilters.pluralize,
        truncatechars=_truncatechars,
    )
    env.globals["trend_cells"] = trend_cells
    return env
