"""One verdict per objective and month, on every surface.

For one objective in a running, a closing and a finished month, the home
page, the scorecard page, the dashboard's heat-map cell, the chain, the CSV
export, the API's ``scorecards`` and ``me``, and the scorecard email all show
the same status: the one the engine computed.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from agreements.models import Membership, Objective
from agreements.tests.factories import AgreementFactory, ObjectiveFactory
from conftest import make_member
from reports.notifications.cards import party_cards
from reports.notifications.content import digest
from reports.scoring import Status
from reports.services import scorecards_finalise

from .builders import UTC, log_leads

pytestmark = pytest.mark.django_db

FEBRUARY = dt.date(2026, 2, 1)

# (moment, leads logged in February, the verdict)
CASES = {
    # 10 of February's 20 business days gone: 45 of 50 expected, 90 of 100
    # at the current pace, within 20 %.
    "running": (dt.datetime(2026, 2, 16, 0, 0, tzinfo=UTC), 45, Status.AT_RISK),
    # Over, figures due by Tue 3 Mar: 45 of 100 is the month so far.
    "closing": (dt.datetime(2026, 3, 2, 9, 0, tzinfo=UTC), 45, Status.OFF_TRACK),
    # Locked and finalised: 105 of 100, inside the 110 warning band.
    "finished": (dt.datetime(2026, 3, 10, 9, 0, tzinfo=UTC), 105, Status.CLOSE_CALL),
}


@pytest.fixture(params=list(CASES))
def case(request, marketing, sales):
    moment, logged, verdict = CASES[request.param]
    lead = make_member("m-lead", marketing, Membership.Role.LEAD)
    head = make_member("s-head", sales, Membership.Role.HEAD)
    agreement = AgreementFactory(
        provider=marketing,
        consumer=sales,
        title="Lead delivery",
        effective_from=dt.date(2026, 1, 1),
    )
    objective = ObjectiveFactory(
        agreement=agreement,
        name="Leads delivered",
        metric_source=Objective.Source.LEADS_DELIVERED,
        target=Decimal(100),
        warning_threshold=Decimal(110),
    )
    log_leads(marketing, dt.date(2026, 2, 5), logged, 0)
    with time_machine.travel(moment, tick=False):
        if request.param == "finished":
            scorecards_finalise(month=FEBRUARY)
        yield {
            "name": request.param,
            "agreement": agreement,
            "objective": objective,
            "lead": lead,
            "head": head,
            "verdict": verdict,
        }


def _badge(html: str, status: str) -> bool:
    return f'data-status="{status}"' in html and Status.LABELS[status] in html


def test_every_surface_shows_the_engines_verdict(client, case):
    agreement, objective, verdict = (
        case["agreement"],
        case["objective"],
        case["verdict"],
    )
    label = Status.LABELS[verdict]
    seen: dict[str, str] = {}

    # Home: the running month is "due", the closing or finished one is the
    # month reported on.
    client.force_login(case["lead"])
    response = client.get(reverse("home"))
    my_month = response.context["my_month"]
    lines = my_month.due if case["name"] == "running" else my_month.last_month_lines
    (line,) = [line for line in lines if line.objective == objective]
    seen["home"] = line.status
    assert _badge(response.content.decode(), verdict)

    # The scorecard page.
    response = client.get(
        reverse("reports:scorecard", args=[agreement.pk]), {"month": "2026-02"}
    )
    card = response.context["card"]
    seen["scorecard"] = card.lines[0].status
    seen["scorecard headline"] = card.status
    assert _badge(response.content.decode(), verdict)

    # The CSV export.
    rows = list(
        csv.DictReader(
            io.StringIO(
                client.get(
                    reverse("reports:scorecard_csv", args=[agreement.pk]),
                    {"month": "2026-02"},
                ).content.decode()
            )
        )
    )
    assert rows[0]["status"] == label

    # The API: the scorecard, and what "me" says is due this month.
    body = client.get(
        reverse("api:v1:scorecard"), {"agreement": agreement.pk, "month": "2026-02"}
    ).json()
    seen["api scorecard"] = body["card"]["lines"][0]["status"]
    assert body["card"]["lines"][0]["status_label"] == label
    if case["name"] == "running":
        me = client.get(reverse("api:v1:me")).json()
        (due,) = [d for d in me["due"] if d["objective"] == objective.pk]
        seen["api me"] = due["status"]

    # The dashboard's heat-map cell and the chain, as the sales head reads them.
    client.force_login(case["head"])
    response = client.get(reverse("reports:dashboard"))
    board = response.context["board"]
    cell = board.rows[0].cells[board.months.index(FEBRUARY)]
    seen["dashboard cell"] = cell.status
    assert re.search(
        rf'data-status="{verdict}"><a href="[^"]+\?month=2026-02"',
        response.content.decode(),
    )
    if case["name"] != "running":  # the chain shows the month reported on
        svg = str(client.get(reverse("reports:chain")).context["svg"])
        assert f"({label} in February 2026" in svg
        assert f'stroke="{Status.COLOURS[verdict]}"' in svg
        seen["chain"] = verdict

    # The month-end email and the digest, once the month is finalised.
    if case["name"] == "finished":
        (email_card,) = party_cards(case["head"], FEBRUARY)
        seen["scorecard email"] = email_card.lines[0].status
        row = next(r for r in digest(FEBRUARY)["heat_map"] if r.agreement == agreement)
        seen["digest"] = row.cells[-1].status

    assert set(seen.values()) == {verdict}, seen
