"""What the emails say: the scorecard's numbers, the site's look, the links."""

from __future__ import annotations

import re

import pytest
import time_machine

from reports.models import Delivery, Scorecard, ScorecardLine
from reports.notifications.jobs import month_close
from reports.notifications.ledger import delivery_send
from reports.scoring import Status
from reports.selectors import scorecards_for_months

from .moments import AFTER_CLOSE, JANUARY

Kind = Delivery.Kind
pytestmark = pytest.mark.django_db


@pytest.fixture
def closed(org):
    with time_machine.travel(AFTER_CLOSE, tick=False):
        month_close(month=JANUARY, enqueue=False)
    return org


def send(user, kind, mailoutbox, key=""):
    delivery = Delivery.objects.get(recipient=user, kind=kind, subject_key=key)
    with time_machine.travel(AFTER_CLOSE, tick=False):
        delivery_send(delivery_id=delivery.pk)
    message = mailoutbox[-1]
    html = message.alternatives[0].content
    return message, html


def test_the_scorecard_email_shows_the_finalised_numbers(closed, mailoutbox):
    message, html = send(closed.people["sales-lead"], Kind.SCORECARD, mailoutbox)
    assert message.subject == "[slaportal] Your scorecards for January 2026: 1 breach"
    assert message.to == [
        f"{closed.people['sales-lead'].get_full_name()} <sales-lead@example.com>"
    ]
    computed = scorecards_for_months([JANUARY], now=AFTER_CLOSE)[JANUARY]
    stored = ScorecardLine.objects.filter(scorecard__month=JANUARY)
    assert stored.count() == sum(len(card.lines) for card in computed) == 3
    for line in stored.select_related("objective"):
        row = re.search(
            re.escape(line.objective.name) + r"</td>.*?class=\"badge\"[^>]*>([^<]+)<",
            html,
            flags=re.S,
        )
        assert f">{line.actual:.0f}<" in row.group(0)  # 210, 96, 2
        assert f"{line.attainment:.1f} %" in row.group(0)  # 105.0, 80.0, 100.0
        # The status in words beside its icon, never the colour alone.
        icon = Status.ICONS[line.status]
        assert row.group(1) == f"{icon} {line.get_status_display()}"
        # The same figures in the plain-text part.
        assert f"{line.objective.name}: {line.actual:.0f}" in message.body
        assert f"{line.attainment:.1f} %" in message.body
    for card in Scorecard.objects.filter(month=JANUARY):
        assert f"Weighted attainment {card.score:.1f} %" in html
    # The breach and the remedy owed.
    assert "Breach of Qualified leads" in html
    assert "Owed by Marketing to Sales" in html
    assert "Marketing makes up the shortfall next month." in html
    assert "BREACH of Qualified leads" in message.body


def test_attainment_bars_are_tables_with_inline_styles_and_no_svg(closed, mailoutbox):
    _, html = send(closed.people["marketing-lead"], Kind.SCORECARD, mailoutbox)
    assert "<svg" not in html.lower()
    assert "<style" not in html  # inlined into the elements
    # Qualified leads at 80 %: a red bar 80 % wide, the rest grey.
    assert re.search(r'<td[^>]*width="80%"[^>]*style="[^"]*background: ?#c62828', html)
    # The brand header, inlined.
    assert re.search(r'class="header"[^>]*style="[^"]*background: ?#1f5f8b', html)
    # The trend: six months of cells, January coloured, earlier months blank.
    trend = re.search(r'class="trend".*?</table>', html, flags=re.S).group(0)
    assert trend.count("<th") == 6
    assert re.findall(r"<th[^>]*>(\w+)</th>", trend) == [
        "Aug",
        "Sep",
        "Oct",
        "Nov",
        "Dec",
        "Jan",
    ]


def test_links_point_back_to_the_portal(closed, mailoutbox):
    message, html = send(closed.people["sales-lead"], Kind.SCORECARD, mailoutbox)
    leads = closed.leads
    assert (
        f"https://sla.example.com/reports/agreements/{leads.pk}/?month=2026-01" in html
    )
    assert f"https://sla.example.com/agreements/{leads.pk}/" in html
    assert "https://sla.example.com/reports/dashboard/" in html
    assert "https://sla.example.com/notifications/preferences/" in html
    assert "https://sla.example.com/notifications/preferences/" in message.body
    assert message.extra_headers["List-Unsubscribe"] == (
        "<https://sla.example.com/notifications/preferences/>"
    )


def test_the_digest_has_the_heat_map_breaches_late_reporters_and_pain_points(
    closed, mailoutbox
):
    from agreements.tests.factories import FrictionReportFactory, PainPointFactory

    pain = PainPointFactory(title="Export times out")
    with time_machine.travel(AFTER_CLOSE, tick=False):
        for _ in range(2):
            FrictionReportFactory(
                reporting_team=closed.handover.provider,
                addressed_team=closed.handover.consumer,
                month=JANUARY,
                pain_point=pain,
            )
    message, html = send(closed.people["executive"], Kind.DIGEST, mailoutbox)
    assert message.subject == (
        "[slaportal] Service levels in January 2026: 2 agreements, 1 breach"
    )
    heat = re.search(r'class="heat".*?</table>', html, flags=re.S).group(0)
    assert heat.count("Lead delivery") == 1 and heat.count("Customer handover") == 1
    # Twelve months per row, January 2026 last, coloured by status.
    assert len(re.findall(r'class="cell"', heat)) == 2 * 12
    lead_row = re.search(r"Lead delivery.*?</tr>", heat, flags=re.S).group(0)
    assert re.search(r"background: ?#c62828[^>]*>✗ 87<", lead_row)  # missed, 86.7
    handover_row = re.search(r"Customer handover.*?</tr>", heat, flags=re.S).group(0)
    assert re.search(r"background: ?#2e7d32[^>]*>✓ 100<", handover_row)  # met
    assert "Qualified leads" in html and "Marketing makes up the shortfall" in html
    assert "Export times out" in html
    assert "Every team reported its figures before the deadline." in html
    assert "Export times out (Product): 2 reports, 1 team" in message.body


def test_late_and_missing_figures_are_listed_in_the_digest(org, mailoutbox):
    from decimal import Decimal

    from agreements.models import Objective
    from agreements.tests.factories import ObjectiveFactory
    from reports.tests.builders import measure

    uptime = ObjectiveFactory(
        agreement=org.handover,
        name="Uptime",
        metric_source=Objective.Source.MANUAL,
        unit=Objective.Unit.PERCENT,
        target=Decimal(99),
        position=2,
    )
    ObjectiveFactory(
        agreement=org.handover,
        name="Onboarded",
        metric_source=Objective.Source.MANUAL,
        unit=Objective.Unit.PERCENT,
        target=Decimal(95),
        position=3,
    )
    measure(uptime, JANUARY, "99.5", at=AFTER_CLOSE)  # after the deadline
    with time_machine.travel(AFTER_CLOSE, tick=False):
        month_close(month=JANUARY, enqueue=False)
    message, html = send(org.people["executive"], Kind.DIGEST, mailoutbox)
    section = html.split("Late reporters")[1].split("Top pain points")[0]
    assert "Sales" in section
    assert "Uptime (Customer handover): late" in section
    assert "Onboarded (Customer handover): never reported" in section
    assert "Marketing" not in section  # reported on time
    assert (
        "Sales: Uptime (Customer handover): late; "
        "Onboarded (Customer handover): never reported" in message.body
    )


def test_plain_text_is_not_html_escaped(closed, mailoutbox):
    message, _ = send(closed.people["sales-lead"], Kind.SCORECARD, mailoutbox)
    assert "&amp;" not in message.body and "&gt;" not in message.body
    assert "Marketing -> Sales" in message.body
