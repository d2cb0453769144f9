"""What the emails say: the scorecard's numbers, the site's look, the links."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest
import time_machine
from django.template import engines
from django.urls import reverse, set_script_prefix

from reports.models import Delivery, Scorecard, ScorecardLine
from reports.notifications import links, render
from reports.notifications.cards import TrendCell
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
    for line in stored.select_related("objective", "scorecard"):
        if line.scorecard.status == Status.MET:
            continue  # one row in the summary: the objectives of those not met
        row = re.search(
            re.escape(line.objective.name) + r"<br>.*?class=\"badge\"[^>]*>([^<]+)<",
            html,
            flags=re.S,
        )
        assert f">{line.actual:.0f}<" in row.group(0)  # 210, 96
        assert f"{line.attainment:.1f} %" in row.group(0)  # 105.0, 80.0
        # The status in words beside its icon, never the colour alone.
        icon = Status.ICONS[line.status]
        assert row.group(1) == f"{icon} {line.get_status_display()}"
    for line in stored.select_related("objective"):
        # Every objective in the plain-text part, met or not.
        assert f"{line.objective.name}: {line.actual:.0f}" in message.body
        assert f"{line.attainment:.1f} %" in message.body
    summary = re.search(r'class="data".*?</table>', html, flags=re.S).group(0)
    for card in Scorecard.objects.filter(month=JANUARY).select_related("agreement"):
        row = re.search(
            re.escape(card.agreement.title) + r"</a>.*?</tr>", summary, flags=re.S
        ).group(0)
        icon = Status.ICONS[card.status]
        assert f"{icon} {card.get_status_display()}<" in row
        assert f">{card.score:.1f} %<" in row
    assert "Needing attention in January 2026" in html
    # The breach and the remedy owed.
    assert "Breach of Qualified leads" in html
    assert "Owed by Marketing to Sales" in html
    assert "Marketing makes up the shortfall next month." in html
    assert "BREACH of Qualified leads" in message.body


def test_statuses_are_table_cells_with_inline_styles_and_no_svg(closed, mailoutbox):
    _, html = send(closed.people["marketing-lead"], Kind.SCORECARD, mailoutbox)
    assert "<svg" not in html.lower()
    assert "<style" not in html  # inlined into the elements
    # The brand header, inlined.
    assert re.search(r'class="header"[^>]*style="[^"]*background: ?#1f5f8b', html)
    # The trend: six months in the header, January coloured, earlier blank.
    summary = re.search(r'class="data".*?</table>', html, flags=re.S).group(0)
    assert re.findall(r'<th class="m"[^>]*>(\w+)</th>', summary) == [
        "Aug",
        "Sep",
        "Oct",
        "Nov",
        "Dec",
        "Jan",
    ]
    cells = re.findall(r'<td class="m"[^>]*>([^<]*)</td>', summary)
    assert cells[:5] == ["—"] * 5
    # Lead delivery missed January at 86.7 % weighted: red, icon and score.
    assert re.search(r'<td class="m"[^>]*background: ?#c62828[^>]*>✗ 87</td>', summary)


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


def test_the_digest_has_the_worst_agreements_breaches_late_reporters_and_pain_points(
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
    assert re.search(r">✓ 1 met<.*>✗ 1 missed<", html, flags=re.S)
    assert "Since December: 0 improved, 0 worsened, 0 unchanged, 2 new." in html
    # The agreements not met, with their last six months, January last.
    heat = re.search(r'class="heat".*?</table>', html, flags=re.S).group(0)
    assert heat.count("Lead delivery") == 1 and "Customer handover" not in heat
    assert len(re.findall(r'class="cell"', heat)) == 6
    lead_row = re.search(r"Lead delivery.*?</tr>", heat, flags=re.S).group(0)
    assert re.search(r"background: ?#c62828[^>]*>✗ 87<", lead_row)  # missed, 86.7
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


def test_trend_cells_are_written_as_the_template_wrote_them():
    cells = [
        TrendCell(date(2026, 5, 1), None, None),
        TrendCell(date(2026, 6, 1), Status.MISSED, Decimal("61.4")),
        TrendCell(date(2026, 7, 1), Status.NO_DATA, None),
        TrendCell(date(2026, 8, 1), Status.MET, Decimal("100")),
    ]
    emails = engines[render.ENGINE]
    by_template = emails.from_string(
        "{% for cell in cells %}\n"
        '    <td class="m" style="background: {{ cell.colour }}; '
        'color: {{ cell.ink }};" title="{{ cell.title }}">{{ cell.text }}</td>'
        "{% endfor %}"
    ).render({"cells": cells})
    by_tag = emails.from_string('{{ trend_cells(cells, "m") }}').render(
        {"cells": cells}
    )
    assert by_tag == by_template
    assert by_tag.count("<td ") == 4
    assert 'title="June 2026: Missed"' in by_tag


def test_links_are_those_reverse_gives_under_the_script_prefix_in_force():
    month = date(2026, 1, 1)
    path = reverse("reports:scorecard", args=[7])
    assert links.scorecard(7, month) == links.absolute(f"{path}?month=2026-01")
    assert links.agreement(7) == links.absolute(reverse("agreements:detail", args=[7]))
    set_script_prefix("/portal/")
    try:
        prefixed = reverse("reports:scorecard", args=[7])
        assert prefixed == f"/portal{path}"
        assert links.scorecard(7, month) == links.absolute(f"{prefixed}?month=2026-01")
    finally:
        set_script_prefix("/")
    assert links.scorecard(7, month) == links.absolute(f"{path}?month=2026-01")


def test_links_follow_the_urlconf_the_settings_put_in_force(settings):
    month = date(2026, 1, 1)
    path = reverse("reports:scorecard", args=[7])
    assert links.scorecard(7, month) == links.absolute(f"{path}?month=2026-01")
    settings.ROOT_URLCONF = "reports.notifications.tests.moved_urls"
    assert links.scorecard(7, month) == links.absolute(f"/moved{path}?month=2026-01")
    assert links.agreement(7) == links.absolute(
        "/moved" + reverse("agreements:detail", args=[7], urlconf="slaportal.urls")
    )
