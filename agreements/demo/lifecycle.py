"""Agreements seeded now, dated as if they had been drafted, proposed and
signed when a real team would have done it: the week before they came into
force, or a few days ago for a proposal still waiting."""

from __future__ import annotations

import datetime as dt

from .. import periods
from ..models import Agreement, Objective, Signature
from ..records.models import RecordMeasure
from .common import at

DAY = dt.timedelta(days=1)


def _timeline(anchor: dt.datetime, signers: int) -> dict:
    """Drafted ten days before the anchor, proposed a week before; the last
    signature at the anchor, an earlier one three days before it."""
    day = periods.local_now(anchor).date()
    sign = [at(day - 3 * DAY, 11, 20), anchor] if signers == 2 else [anchor]
    return {
        "drafted": at(day - 10 * DAY, 10, 0),
        "proposed": at(day - 7 * DAY, 15, 0),
        "signatures": sign,
    }


def date_lifecycle(
    agreement: Agreement,
    *,
    signed_before: dt.date | None = None,
    on: dt.date | None = None,
    supersedes: Agreement | None = None,
) -> None:
    """Date ``agreement``'s drafting, proposal and signatures (its fields and
    its history rows): settled a week before ``signed_before`` (a month it
    came into force), or on ``on``. ``supersedes`` is retired at the moment
    the new version became active."""
    if (signed_before is None) == (on is None):
        raise TypeError("date_lifecycle needs signed_before or on")
    if signed_before is not None:
        day = periods.month_start(signed_before).date() - 7 * DAY
    else:
        day = on
    anchor = at(day, 16, 40)
    signatures = list(Signature.objects.filter(agreement=agreement).order_by("pk"))
    times = _timeline(anchor, len(signatures))
    signed_at = {}
    for signature, when in zip(signatures, times["signatures"], strict=True):
        Signature.objects.filter(pk=signature.pk).update(signed_at=when)
        signed_at[signature.team.name] = when
    settled = times["signatures"][-1]
    active = len(signatures) == 2

    def when(reason: str) -> dt.datetime:
        if reason.startswith("signed for "):
            return signed_at.get(reason.removeprefix("signed for "), settled)
        if reason.startswith(("signed by both", "superseded")):
            return settled
        if reason.startswith("proposed"):
            return times["proposed"]
        return times["drafted"]

    histories = [
        agreement.history.all(),
        Objective.history.filter(agreement_id=agreement.pk),
        RecordMeasure.history.filter(
            objective_id__in=Objective.objects.filter(agreement=agreement).values("pk")
        ),
        Signature.history.filter(agreement_id=agreement.pk),
    ]
    for records in histories:
        for record in records:
            type(record).objects.filter(pk=record.pk).update(
                history_date=when(record.history_change_reason or "")
            )
    Agreement.objects.filter(pk=agreement.pk).update(
        created_at=times["drafted"],
        proposed_at=times["proposed"],
        activated_at=settled if active else None,
    )
    if supersedes is not None and active:
        Agreement.objects.filter(pk=supersedes.pk).update(retired_at=settled)
        for record in supersedes.history.filter(
            history_change_reason__startswith="superseded"
        ):
            type(record).objects.filter(pk=record.pk).update(history_date=settled)
