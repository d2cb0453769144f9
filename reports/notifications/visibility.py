"""No email shows its reader what they could not open on a page.

Every email's context lists what it shows (``Shown``: agreements, breaches,
pain points) and ``check_visible`` asks the pages' own rules about each, in
one query. In a batch of emails, what one reader was allowed to see is
not asked again for another of the same standing
(``agreements.rules.standing``): each body asks only about what is new to
its reader's standing. An email that would show anything
else is not sent; an inbox entry about anything else shows no text (``hidden``).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, fields

from django.db.models import CharField, Value

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

    def __bool__(self) -> bool:
        return any(getattr(self, kind.name) for kind in fields(self))

    def __sub__(self, other: Shown) -> Shown:
        """What of this is not in ``other``."""
        return Shown(
            **{
                kind.name: getattr(self, kind.name) - getattr(other, kind.name)
                for kind in fields(self)
            }
        )

    def __or__(self, other: Shown) -> Shown:
        """Everything in this or in ``other``."""
        return Shown(
            **{
                kind.name: getattr(self, kind.name) | getattr(other, kind.name)
                for kind in fields(self)
            }
        )

    def __ior__(self, other: Shown) -> Shown:
        for kind in fields(self):
            getattr(self, kind.name).update(getattr(other, kind.name))
        return self


def not_visible(user, shown: Shown) -> dict[str, set[int]]:
    """What of ``shown`` ``user`` may not open on its page
    (``Agreement.objects.visible_to``, the breach page's rule,
    ``PainPoint.objects.visible_to``, ``FrictionReport.objects.visible_to``),
    by kind; empty when they may open everything. One query for every kind
    shown: the pages' rules, each as one part of a union."""
    visible = Agreement.objects.visible_to(user)
    rules = {
        "agreements": lambda ids: visible.filter(pk__in=ids),
        "breaches": lambda ids: Breach.objects.filter(
            pk__in=ids, agreement__in=visible
        ),
        "pain_points": lambda ids: PainPoint.objects.visible_to(user).filter(
            pk__in=ids
        ),
        "friction_reports": lambda ids: FrictionReport.objects.visible_to(user).filter(
            pk__in=ids
        ),
    }
    wanted = {kind: ids for kind in rules if (ids := getattr(shown, kind))}
    if not wanted:
        return {}
    parts = [
        rules[kind](ids)
        .order_by()
        .values_list(Value(kind, output_field=CharField()), "pk")
        for kind, ids in wanted.items()
    ]
    seen: dict[str, set[int]] = defaultdict(set)
    for kind, pk in parts[0].union(*parts[1:], all=True):
        seen[kind].add(pk)
    return {
        kind: missing for kind, ids in wanted.items() if (missing := ids - seen[kind])
    }


def check_visible(user, shown: Shown, *, also: Shown | None = None) -> Shown:
    """Raise ``NotVisible`` unless ``user`` may open everything in ``shown``
    on its page (``not_visible``).

    ``also``: more that ``user`` is about to be shown, asked about in the
    same query; returns what of it they may open. Only ``shown`` decides
    whether this raises."""
    wider = shown if also is None else shown | also
    everything = not_visible(user, wider)
    missing = {
        kind: ids & getattr(shown, kind)
        for kind, ids in everything.items()
        if ids & getattr(shown, kind)
    }
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
    if also is None:
        return Shown()
    return also - Shown(**everything)
