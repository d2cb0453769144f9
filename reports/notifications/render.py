"""Templates to a message: plain text and HTML with its CSS inlined.

Many mail clients drop ``<style>`` blocks and SVG, so the HTML templates keep
their CSS in one ``<style>`` block (readable) and css-inline writes it into
every element's ``style`` attribute here; bars and heat maps are tables.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from email.utils import formataddr
from functools import cache
from urllib.parse import urlsplit

import css_inline
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils.html import escape

from agreements import periods
from agreements.rules import standing
from slaportal.mail import BulkEmail

from ..models import Delivery
from .content import GREETING, audience, body_context, greeting
from .visibility import Shown, check_visible


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


@dataclass(frozen=True)
class Body:
    """One email as rendered once for all its readers, greeting left open."""

    subject: str
    text: str
    html: str
    shown: Shown
    switchable: bool
    preferences_url: str


ENGINE = "emails"  # Jinja2: settings.TEMPLATES, reports/notifications/jinja.py

# Gmail clips a message whose HTML passes about 102 KB: a body above this
# is rendered again with shorter lists (its context's ``shrink``).
HTML_BUDGET = 90_000


def render_body(kind: str, context: dict) -> Body:
    template = f"emails/{kind}"
    while True:
        html = inline_css(render_to_string(f"{template}.html", context, using=ENGINE))
        shrink = context.get("shrink")
        if len(html.encode()) <= HTML_BUDGET or shrink is None:
            break
        context = {**context, **shrink()}
    return Body(
        subject=f"{settings.EMAIL_SUBJECT_PREFIX}{context['subject']}",
        text=render_to_string(f"{template}.txt", context, using=ENGINE),
        html=html,
        shown=context["shown"],
        switchable=context["switchable"],
        preferences_url=context["preferences_url"],
    )


def envelope(delivery: Delivery, body: Body) -> EmailMultiAlternatives:
    """``body`` addressed to the delivery's recipient, with their greeting."""
    user = delivery.recipient
    hello = greeting(user)
    headers = {
        "Message-ID": message_id(delivery),
        "X-Slaportal-Kind": delivery.kind,
        # Automated mail: no out-of-office replies, please.
        "Auto-Submitted": "auto-generated",
    }
    if body.switchable:
        headers["List-Unsubscribe"] = f"<{body.preferences_url}>"
    message = BulkEmail(
        subject=body.subject,
        body=body.text.replace(GREETING, hello),
        to=[formataddr((user.get_full_name() or user.username, user.email))],
        headers=headers,
    )
    message.attach_alternative(body.html.replace(GREETING, escape(hello)), "text/html")
    return message


_NOTHING = object()


class Composer:
    """Writes the messages of one batch of deliveries. Each distinct body is
    built and rendered once (a digest once per audience, a scorecard email
    once per set of teams) and only the envelope and greeting are each
    reader's; every reader is still checked against what the body shows.
    What a check found visible for a standing (``agreements.rules.standing``:
    everything the rules read of a person) is not asked again for the same
    standing: a team's lead and head share one, and their scorecard emails
    and digest show the same agreements. A check that fails is not kept."""

    def __init__(self) -> None:
        self._bodies: dict[Hashable, Body | object] = {}
        self._visible: dict[Hashable, Shown] = {}
        self._coming: dict[Hashable, list[Delivery]] = {}

    def expect(self, deliveries: Iterable[Delivery]) -> None:
        """Deliveries this composer is about to be asked for (a batch's,
        their recipients read): the first check for a standing also asks
        about what the others of that standing will be shown, in the same
        query. A team's head gets a digest and a scorecard email; checked
        together, that is one query instead of two."""
        for delivery in deliveries:
            self._coming.setdefault(standing(delivery.recipient), []).append(delivery)

    def message(self, delivery: Delivery) -> EmailMultiAlternatives | None:
        """The email for ``delivery``, or ``None`` when there is nothing to
        say any more. Raises ``NotVisible`` rather than show its reader what
        they may not see."""
        body = self._body(delivery)
        if body is None:
            return None
        key = standing(delivery.recipient)
        seen = self._visible.setdefault(key, Shown())
        if new := body.shown - seen:
            ahead = self._ahead(key, delivery) - seen - new
            # Raises if ``new`` is not all visible; ``ahead`` only informs.
            seen |= check_visible(delivery.recipient, new, also=ahead or None)
            seen |= new
        return envelope(delivery, body)

    def _body(self, delivery: Delivery) -> Body | None:
        key = audience(delivery)
        body = self._bodies.get(key, _NOTHING) if key is not None else _NOTHING
        if body is _NOTHING:
            context = body_context(delivery)
            body = None if context is None else render_body(delivery.kind, context)
            if key is not None:
                self._bodies[key] = body
        assert body is None or isinstance(body, Body)
        return body

    def _ahead(self, key: Hashable, delivery: Delivery) -> Shown:
        """What the other expected deliveries of standing ``key`` will show,
        their bodies built now rather than later (each once, as ever). One
        that cannot be built is left for its own turn, which says why."""
        ahead = Shown()
        for other in self._coming.pop(key, []):
            if other.pk == delivery.pk or audience(other) is None:
                continue
            try:
                body = self._body(other)
            except Exception:  # noqa: BLE001, S112 (its own turn reports it)
                continue
            if body is not None:
                ahead |= body.shown
        return ahead
