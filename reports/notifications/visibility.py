"""No email shows its reader what they could not open on a page.

Every email's context lists what it shows (``Shown``: agreements, breaches,
pain points) and ``check_visible`` asks the pages' own rules about each, in
four queries at most. An email that would show anything else is not sent;
an inbox entry about anything else shows no text (``hidden``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

from agreements.models import Agreement, FrictionReport, PainPoint

from ..models import Breach

logger = logging.getLogger("slaportal.security")


class NotVisible(Exception):
    """The email would show its recipient something they may not see."""


@dataclass
class Shown:
    agreements: set[int] = field(default_factory=set)
    breaches: set[int] = field(default_factory=set)
    pain_points: set[int] = field(default_factory=set)
    friction_reports: set[int] = field(default_factory=set)

    def add_agreements(self, agreements: Iterable[Agreement]) -> Shown:
        self.agreements |= {a.pk for a in agreements}
        return self


def not_visible(user, shown: Shown) -> dict[str, set[int]]:
    """What of ``shown`` ``user`` may not open on its page
    (``Agreement.objects.visible_to``, the breach page's rule,
    ``PainPoint.objects.visible_to``, ``FrictionReport.objects.visible_to``),
    by kind; empty when they may open everything."""
    missing: dict[str, set[int]] = {}
    visible = Agreement.objects.visible_to(user)
    if shown.agreements:
        seen = set(visible.filter(pk__in=shown.agreements).values_list("pk", flat=True))
        if seen != shown.agreements:
            missing["agreements"] = shown.agreements - seen
    if shown.breaches:
        seen = set(
            Breach.objects.filter(
                pk__in=shown.breaches, agreement__in=visible
            ).values_list("pk", flat=True)
        )
        if seen != shown.breaches:
            missing["breaches"] = shown.breaches - seen
    if shown.pain_points:
        seen = set(
            PainPoint.objects.visible_to(user)
            .filter(pk__in=shown.pain_points)
            .values_list("pk", flat=True)
        )
        if seen != shown.pain_points:
            missing["pain_points"] = shown.pain_points - seen
    if shown.friction_reports:
        seen = set(
            FrictionReport.objects.visible_to(user)
            .filter(pk__in=shown.friction_reports)
            .values_list("pk", flat=True)
        )
        if seen != shown.friction_reports:
            missing["friction_reports"] = shown.friction_reports - seen
    return missing


def check_visible(user, shown: Shown) -> None:
    """Raise ``NotVisible`` unless ``user`` may open everything in ``shown``
    on its page (``not_visible``)."""
    missing = not_visible(user, shown)
    if missing:
        logger.warning(
            "email withheld: it would show what its reader may not see",
            extra={
                "event": "email_not_visible",
                "user_id": user.pk,
                **{k: sorted(v) for k, v in missing.items()},
            },
        )
        raise NotVisible("; ".join(f"{k} {sorted(v)}" for k, v in missing.items()))
