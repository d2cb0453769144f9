"""Templates to a message: plain text and HTML with its CSS inlined.

Many mail clients drop ``<style>`` blocks and SVG, so the HTML templates keep
their CSS in one ``<style>`` block (readable) and css-inline writes it into
every element's ``style`` attribute here; bars and heat maps are tables.
"""

from __future__ import annotations

from email.utils import formataddr
from functools import cache
from urllib.parse import urlsplit

import css_inline
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string

from agreements import periods

from ..models import Delivery


@cache
def _inliner() -> css_inline.CSSInliner:
    # Never fetch stylesheets over the network: the templates carry their CSS.
    return css_inline.CSSInliner(load_remote_stylesheets=False)


def inline_css(html: str) -> str:
    return _inliner().inline(html)


def message_id(delivery: Delivery) -> str:
    """The same for every attempt at one delivery, so a receiving system can
    drop a copy that a crash after the server's acceptance made us send
    twice; a deliberate resend gets a new one, or it could be dropped too."""
    host = urlsplit(settings.SITE_URL).hostname or "slaportal.localhost"
    key = f".{delivery.subject_key}" if delivery.subject_key else ""
    return (
        f"<slaportal.{delivery.kind}.{periods.format_month(delivery.month)}"
        f".{delivery.recipient_id}{key}.{delivery.pk}.r{delivery.resends}@{host}>"
    )


def build_message(delivery: Delivery, context: dict) -> EmailMultiAlternatives:
    template = f"emails/{delivery.kind}"
    text = render_to_string(f"{template}.txt", context)
    html = inline_css(render_to_string(f"{template}.html", context))
    user = delivery.recipient
    headers = {
        "Message-ID": message_id(delivery),
        "X-Slaportal-Kind": delivery.kind,
        # Automated mail: no out-of-office replies, please.
        "Auto-Submitted": "auto-generated",
    }
    if context.get("switchable"):
        headers["List-Unsubscribe"] = f"<{context['preferences_url']}>"
    message = EmailMultiAlternatives(
        subject=f"{settings.EMAIL_SUBJECT_PREFIX}{context['subject']}",
        body=text,
        to=[formataddr((user.get_full_name() or user.username, user.email))],
        headers=headers,
    )
    message.attach_alternative(html, "text/html")
    return message
