"""The scorecard, team and breach pages: the right numbers, bad input as a
404, and who may see and do what."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from agreements.models import Agreement
from reports.charts import STATUS_COLOURS, TrendPoint, scale, trend_chart
from reports.models import Breach, Scorecard
from reports.services import breach_acknowledge, scorecards_finalise

from .builders import (
    AFTER_JANUARY_LOCKED,
    FEBRUARY,
    JANUARY,
    UTC,
    build_org,
    leads_agreement,
    log_leads,
    measure,
)
from .test_engine import round_trips

pytestmark = pytest.mark.django_db


def scorecard_url(agreement: Agreement, month: str | None = None) -> str:
    address = reverse("reports:scorecard", args=[agreement.pk])
    return f"{address}?month={month}" if month else address


def lines_of(response) -> dict[str, tuple]:
    card = response.context["card"]
    return {
        line.name: (line.target, line.actual, line.attainment, line.status)
        for line in card.lines
    }


@pytest.fixture
def breach(scored) -> Breach:
    return Breach.objects.get(agreement=scored)


# --- The scorecard page -----------------------------------------------------


def test_a_finalised_month_shows_the_stored_scorecard(client, scored, sales_lead):
    client.force_login(sales_lead)
    response = client.get(scorecard_url(scored, "2026-01"))
    assert response.status_code == 200
    card = response.context["card"]
    assert card.state == "finalised"
    assert card.finalised_at == AFTER_JANUARY_LOCKED
    assert (card.status, card.score, card.reported_on_time) == (
        "missed",
        Decimal("83.3"),
        True,
    )
    assert lines_of(response) == {
        "Leads delivered": (Decimal(200), Decimal(220), Decimal(110), "met"),
        "Qualified leads": (Decimal(120), Decimal(90), Decimal(75), "missed"),
    }
    body = response.content.decode()
    finalised = timezone.localtime(AFTER_JANUARY_LOCKED)  # 09:00 UTC
    assert f"Finalised on {finalised:%-d %b %Y, %H:%M}" in body
    assert "83.3" in body
    assert 'data-status="missed"' in body
    # The missed line links its breach.
    assert reverse("reports:breach", args=[card.lines[1].breach.pk]) in body


def test_a_finalised_month_keeps_its_snapshot_until_recomputed(
    client, scored, marketing, sales_lead
):
    # A late entry changes the computed figures, not the stored scorecard.
    log_leads(marketing, dt.date(2026, 1, 30), 40, 40, at=AFTER_JANUARY_LOCKED)
    client.force_login(sales_lead)
    response = client.get(scorecard_url(scored, "2026-01"))
    assert lines_of(response)["Qualified leads"][1] == Decimal(90)

    scorecards_finalise(month=JANUARY, reason="correction")
    response = client.get(scorecard_url(scored, "2026-01"))
    assert lines_of(response)["Qualified leads"][1:] == (
        Decimal(130),
        Decimal("108.3"),
        "met",
    )
    recomputed = timezone.localtime(AFTER_JANUARY_LOCKED)
    assert f"recomputed on {recomputed:%-d %b %Y, %H:%M} after a correction" in (
        response.content.decode()
    )


def test_the_live_month_shows_the_pace(client, scored, sales_lead):
    client.force_login(sales_lead)
    response = client.get(scorecard_url(scored))  # the current month by default
    card = response.context["card"]
    assert (card.month, card.state, card.status) == (FEBRUARY, "running", "off_track")
    # 6 business days and 9 hours of February's 20: 31.9 % gone. 40 leads so
    # far make 125 at this pace, 63.75 expected by now (shown as 64).
    body = response.content.decode()
    assert "at current pace 125 of 200" in body
    assert "64 expected by now" in body
    assert "February 2026 is running" in body
    assert card.score is None  # no weighted attainment before the month locks
    assert "Figures due by Tue 3 Mar 2026, end of day" in body


def test_a_locked_month_not_finalised_yet_is_computed(
    client, marketing, sales, sales_lead, frozen
):
    agreement = leads_agreement(marketing, sales)
    log_leads(marketing, dt.date(2026, 1, 6), 220, 130)
    client.force_login(sales_lead)
    response = client.get(scorecard_url(agreement, "2026-01"))
    card = response.context["card"]
    assert (card.state, card.status, card.score) == ("locked", "met", Decimal(100))
    assert "not finalised yet" in response.content.decode()


def test_months_before_the_agreement_starts_show_no_data(client, scored, sales_lead):
    client.force_login(sales_lead)
    response = client.get(scorecard_url(scored, "2024-06"))
    assert response.status_code == 200
    assert response.context["card"] is None
    body = response.content.decode()
    assert "No data for June 2024." in body
    assert "in force from January 2025" in body
    # The trend before the start has nothing to draw and says so.
    assert "No figures in these months" in body or "not in force" in body


def test_a_month_not_begun_shows_no_data(client, scored, sales_lead):
    client.force_login(sales_lead)
    response = client.get(scorecard_url(scored, "2026-05"))
    assert response.status_code == 200
    assert "The month has not begun yet." in response.content.decode()


@pytest.mark.parametrize(
    "month", ["2026-13", "abc", "2026-00", "0000-01", "1969-12", "9999-12", "2026-1x"]
)
def test_a_month_that_is_not_one_is_a_404(client, scored, sales_lead, month):
    client.force_login(sales_lead)
    assert client.get(scorecard_url(scored, month)).status_code == 404


def test_an_unknown_agreement_is_a_404(client, sales_lead):
    client.force_login(sales_lead)
    assert client.get(reverse("reports:scorecard", args=[987654])).status_code == 404


def test_the_month_picker_moves_by_month(client, scored, sales_lead):
    client.force_login(sales_lead)
    sc = client.get(scorecard_url(scored, "2026-01")).context["sc"]
    assert (sc.previous, sc.next) == (dt.date(2025, 12, 1), FEBRUARY)
    assert sc.picker[0] == FEBRUARY  # newest first, up to the current month
    assert sc.picker[-1] == dt.date(2025, 1, 1)  # from the agreement's start
    live = client.get(scorecard_url(scored)).context["sc"]
    assert live.next is None
    first = client.get(scorecard_url(scored, "2025-01")).context["sc"]
    assert first.previous is None


def test_the_trend_charts_each_objective_over_twelve_months(client, scored, sales_lead):
    client.force_login(sales_lead)
    response = client.get(scorecard_url(scored, "2026-01"))
    sc = response.context["sc"]
    assert [t.name for t in sc.trends] == ["Leads delivered", "Qualified leads"]
    qualified = sc.trends[1].points
    assert len(qualified) == 12
    assert qualified[0].month == dt.date(2025, 2, 1)
    assert qualified[-1] == TrendPoint(
        month=JANUARY,
        target=Decimal(120),
        actual=Decimal(90),
        status="missed",
    )
    body = response.content.decode()
    assert body.count('class="sp-trend"') == 2
    assert "Qualified leads: actual against target by month" in body
    assert "January 2026: 90 (target 120), Missed" in body
    assert 'class="sp-trend-target"' in body
    assert f'fill="{STATUS_COLOURS["missed"]}"' in body


def test_the_trend_follows_an_objective_across_versions(
    client, marketing, sales, sales_lead, frozen
):
    old = leads_agreement(
        marketing,
        sales,
        leads=180,
        status=Agreement.Status.RETIRED,
        retired_at=dt.datetime(2025, 12, 1, tzinfo=UTC),
    )
    new = leads_agreement(
        marketing,
        sales,
        leads=200,
        effective_from=dt.date(2025, 12, 1),
        lineage=old.lineage,
        version=2,
        supersedes=old,
    )
    log_leads(marketing, dt.date(2025, 11, 6), 190, 130)
    log_leads(marketing, dt.date(2025, 12, 6), 190, 130)
    client.force_login(sales_lead)
    sc = client.get(scorecard_url(old, "2026-01")).context["sc"]
    assert sc.agreement == new  # the version in force in January
    leads = {p.month: (p.target, p.status) for p in sc.trends[0].points}
    assert leads[dt.date(2025, 11, 1)] == (Decimal(180), "met")
    assert leads[dt.date(2025, 12, 1)] == (Decimal(200), "missed")


def test_the_agreement_page_links_its_scorecard(client, scored, sales_lead):
    client.force_login(sales_lead)
    body = client.get(scored.get_absolute_url()).content.decode()
    assert f'href="{scorecard_url(scored)}"' in body


# --- Charts -----------------------------------------------------------------


@pytest.mark.parametrize(
    "values", [[0.0], [0.0, 0.0], [5.0], [99.0, 98.0, 99.5], [0.0, 220.0, 200.0]]
)
def test_the_chart_scale_never_divides_by_zero(values):
    lo, hi, ticks = scale(values)
    assert lo < hi
    assert lo <= min(values) and max(values) <= hi
    assert ticks[0] == lo and ticks[-1] == hi


def test_counts_start_at_zero_and_bunched_percentages_zoom_in():
    assert scale([90.0, 220.0, 200.0])[0] == 0
    lo, hi, _ = scale([98.0, 99.0, 99.5])
    assert 90 <= lo < 98 and hi <= 101


def test_a_chart_without_figures_says_so():
    svg = trend_chart([TrendPoint(month=JANUARY)], label="Uptime")
    assert "No figures in these months" in svg


def test_the_chart_escapes_its_label_and_marks_a_missing_figure():
    svg = trend_chart(
        [
            TrendPoint(JANUARY, Decimal(99), None, "no_data"),
            TrendPoint(FEBRUARY, Decimal(99), Decimal("99.5"), "met", live=True),
        ],
        unit="percent",
        label='<script>alert("x")</script>',
    )
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert "January 2026: no figures yet (No data)" in svg
    assert "February 2026: 99.5 % (target 99 %), Met, so far" in svg


# --- The team page ------------------------------------------------------------


def test_the_team_page_lists_what_it_provides_and_consumes(
    client, scored, marketing_lead, sales_lead, marketing, sales
):
    client.force_login(marketing_lead)
    response = client.get(reverse("reports:team", args=[marketing.slug]))
    overview = response.context["overview"]
    assert [r.agreement for r in overview.provides] == [scored]
    assert overview.consumes == []
    row = overview.provides[0]
    assert (row.partner, row.last.status, row.last.state) == (
        sales,
        "missed",
        "finalised",
    )
    assert (row.current.status, row.open_breaches) == ("off_track", 1)

    client.force_login(sales_lead)
    response = client.get(reverse("reports:team", args=[sales.slug]))
    assert [r.agreement for r in response.context["overview"].consumes] == [scored]
    assert "Lead delivery" in response.content.decode()


def test_the_team_list_shows_ones_own_teams_or_all_for_executives(
    client, scored, marketing_lead, executive, service
):
    client.force_login(marketing_lead)
    teams = list(client.get(reverse("reports:teams")).context["teams"])
    assert [t.name for t in teams] == ["Marketing"]
    assert teams[0].provides == 1
    client.force_login(executive)
    teams = client.get(reverse("reports:teams")).context["teams"]
    assert {t.name for t in teams} == {"Marketing", "Sales", "Customer Service"}


def test_an_unknown_team_is_a_404(client, executive):
    client.force_login(executive)
    assert client.get(reverse("reports:team", args=["nobody"])).status_code == 404


# --- Breaches -----------------------------------------------------------------


def test_the_breach_page_shows_the_remedy_and_its_history(
    client, breach, marketing_lead, sales_lead
):
    breach_acknowledge(breach=breach, user=marketing_lead, note="We will catch up.")
    client.force_login(sales_lead)
    response = client.get(reverse("reports:breach", args=[breach.pk]))
    body = response.content.decode()
    assert "The provider makes up the shortfall the next month." in body
    history = response.context["history"]
    assert [(e.what, e.status, e.note) for e in history] == [
        ("opened", "Open", ""),
        ("acknowledged", "Acknowledged", "We will catch up."),
    ]
    assert history[1].who == marketing_lead
    assert response.context["may_act"]


def test_a_party_lead_acknowledges_then_resolves_a_breach(
    client, breach, marketing_lead, scored
):
    client.force_login(marketing_lead)
    response = client.post(
        reverse("reports:breach_acknowledge", args=[breach.pk]),
        {"note": "Seen.", "next": scorecard_url(scored, "2026-01")},
    )
    assert response.status_code == 302
    assert response.url == scorecard_url(scored, "2026-01")
    breach.refresh_from_db()
    assert (breach.status, breach.acknowledged_by, breach.note) == (
        "acknowledged",
        marketing_lead,
        "Seen.",
    )
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "Breach of Qualified leads (January 2026) acknowledged."
    ]

    response = client.post(
        reverse("reports:breach_resolve", args=[breach.pk]),
        {"note": "30 extra qualified leads delivered in February."},
    )
    assert response.url == reverse("reports:breach", args=[breach.pk])
    breach.refresh_from_db()
    assert (breach.status, breach.resolved_by) == ("resolved", marketing_lead)


def test_resolving_needs_a_note_and_writes_nothing_without_one(
    client, breach, sales_lead
):
    client.force_login(sales_lead)
    response = client.post(
        reverse("reports:breach_resolve", args=[breach.pk]), {"note": "  "}
    )
    assert response.status_code == 302
    breach.refresh_from_db()
    assert breach.status == "open"
    assert breach.history.count() == 1
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "Say how the remedy was delivered."
    ]


def test_acknowledging_twice_is_refused_with_a_message(client, breach, sales_lead):
    client.force_login(sales_lead)
    address = reverse("reports:breach_acknowledge", args=[breach.pk])
    client.post(address)
    response = client.post(address)
    assert "already acknowledged" in str(list(get_messages(response.wsgi_request))[-1])
    assert breach.history.count() == 2


def test_an_offsite_next_is_ignored(client, breach, sales_lead):
    client.force_login(sales_lead)
    response = client.post(
        reverse("reports:breach_acknowledge", args=[breach.pk]),
        {"next": "https://evil.example.com/"},
    )
    assert response.url == reverse("reports:breach", args=[breach.pk])


def test_breach_actions_only_take_post(client, breach, sales_lead):
    client.force_login(sales_lead)
    response = client.get(reverse("reports:breach_acknowledge", args=[breach.pk]))
    assert response.status_code == 405


# --- Permission matrix ----------------------------------------------------------
# Lead delivery runs from Marketing (provider) to Sales (consumer). Members of
# either team and executives see its pages; the head of an unrelated team and
# outsiders get a 404. Only leads, managers and heads of either team act on
# its breach (a 403 for others who can see it). The dashboard is for
# executives and heads.

PERSONAS = [
    "marketing_lead",
    "sales_lead",
    "sales_manager",
    "sales_member",
    "service_head",
    "executive",
    "outsider",
]
SEES = {"marketing_lead", "sales_lead", "sales_manager", "sales_member", "executive"}
ACTS = {"marketing_lead", "sales_lead", "sales_manager"}
PAGES = [
    "scorecard",
    "scorecard_print",
    "scorecard_csv",
    "team",
    "breach",
    "dashboard",
    "dashboard_csv",
]


def page_address(page: str, agreement: Agreement, breach: Breach) -> str:
    if page in ("scorecard", "scorecard_print", "scorecard_csv"):
        return reverse(f"reports:{page}", args=[agreement.pk]) + "?month=2026-01"
    if page == "team":
        return reverse("reports:team", args=[agreement.provider.slug])
    if page == "breach":
        return reverse("reports:breach", args=[breach.pk])
    return reverse(f"reports:{page}")


def expected_status(persona: str, page: str) -> int:
    if page.startswith("dashboard"):
        return 200 if persona in ("executive", "service_head") else 403
    return 200 if persona in SEES else 404


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("page", PAGES)
def test_page_matrix(client, request, scored, breach, persona, page):
    client.force_login(request.getfixturevalue(persona))
    response = client.get(page_address(page, scored, breach))
    assert response.status_code == expected_status(persona, page)


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("action", ["breach_acknowledge", "breach_resolve"])
def test_breach_action_matrix(client, request, breach, persona, action):
    client.force_login(request.getfixturevalue(persona))
    response = client.post(
        reverse(f"reports:{action}", args=[breach.pk]), {"note": "Done."}
    )
    if persona in ACTS:
        assert response.status_code == 302
        breach.refresh_from_db()
        assert breach.status != "open"
        return
    assert response.status_code == (403 if persona in SEES else 404)
    breach.refresh_from_db()
    assert breach.status == "open"
    assert breach.history.count() == 1


@pytest.mark.parametrize("page", [*PAGES, "teams", "scorecard_pdf"])
def test_pages_need_login(client, scored, breach, page):
    address = (
        reverse("reports:teams")
        if page == "teams"
        else page_address(page, scored, breach)
        if page != "scorecard_pdf"
        else reverse("reports:scorecard_pdf", args=[scored.pk])
    )
    response = client.get(address)
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_an_outsider_sees_an_empty_team_list(client, scored, outsider):
    client.force_login(outsider)
    response = client.get(reverse("reports:teams"))
    assert response.status_code == 200
    assert "You are not in a team yet." in response.content.decode()


def test_an_outsider_cannot_open_the_pdf(client, scored, outsider):
    client.force_login(outsider)
    response = client.get(reverse("reports:scorecard_pdf", args=[scored.pk]))
    assert response.status_code == 404


def test_navigation_offers_the_dashboard_to_executives_and_heads(
    client, scored, executive, service_head, marketing_lead
):
    dashboard = f'href="{reverse("reports:dashboard")}"'
    for user, shown in (
        (executive, True),
        (service_head, True),
        (marketing_lead, False),
    ):
        client.force_login(user)
        body = client.get(reverse("reports:teams")).content.decode()
        assert (dashboard in body) is shown, user


# --- The chain in colour --------------------------------------------------------


def test_the_chain_colours_each_link_by_its_latest_status(
    client, scored, marketing, sales, sales_lead, frozen
):
    on_target = leads_agreement(
        sales, marketing, title="Follow-up", leads=10, qualified=10
    )
    log_leads(sales, dt.date(2026, 1, 9), 12, 12)
    client.force_login(sales_lead)
    response = client.get(reverse("reports:chain"))
    svg = str(response.context["svg"])
    # January (last month) decides: Lead delivery missed, Follow-up met.
    assert f'stroke="{STATUS_COLOURS["missed"]}"' in svg
    assert f'stroke="{STATUS_COLOURS["met"]}"' in svg
    assert "(Missed in January 2026)" in svg
    assert "(Met in January 2026)" in svg
    body = response.content.decode()
    assert 'data-testid="chain-legend"' in body
    assert scorecard_url(on_target, "2026-01") in body


def test_an_agreement_that_began_this_month_is_not_scored_yet_on_the_chain(
    client, marketing, sales, sales_lead, frozen
):
    # One rule for every link: the reported month (January, locked). An
    # agreement that began in February has no card for it yet.
    leads_agreement(marketing, sales, effective_from=FEBRUARY)
    client.force_login(sales_lead)
    svg = str(client.get(reverse("reports:chain")).context["svg"])
    assert "(not scored yet)" in svg
    assert f'stroke="{STATUS_COLOURS["off_track"]}"' not in svg


# --- Query counts ---------------------------------------------------------------


def page_queries(client, address: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(address)
    assert response.status_code == 200
    return round_trips(ctx.captured_queries)


# Session, user, the two permission lookups of an executive, the agreement,
# its versions' start date, the finalised months, the engine's reads
# (versions, objectives, one per kind of figure used: leads and
# measurements, and the leads from a CRM), stored scorecards, their lines
# (with breaches), and the teams the reader leads (may they act on a
# breach?), the navigation's team check, and the bell's unread count.
SCORECARD_QUERIES = 17


def test_the_scorecard_page_runs_a_fixed_number_of_queries(client, executive, frozen):
    client.force_login(executive)
    counts = []
    for size in (3, 30):
        agreements = build_org(size)
        scorecards_finalise(month=JANUARY)
        counts.append(page_queries(client, scorecard_url(agreements[0], "2026-01")))
        assert Scorecard.objects.filter(agreement__in=agreements).count() == size
    assert counts == [SCORECARD_QUERIES, SCORECARD_QUERIES]


def test_the_team_page_runs_a_fixed_number_of_queries(client, executive, frozen):
    from agreements.tests.factories import TeamFactory

    client.force_login(executive)
    counts = []
    for size in (3, 30):
        hub = TeamFactory(name=f"Hub {size}")
        for n, agreement in enumerate(build_org(size)):
            # Re-point every agreement at one team, half provided, half consumed.
            field = "provider" if n % 2 else "consumer"
            Agreement.objects.filter(pk=agreement.pk).update(**{field: hub})
        counts.append(page_queries(client, reverse("reports:team", args=[hub.slug])))
    assert counts[0] == counts[1]


# --- finalise_month -------------------------------------------------------------


def test_finalise_month_reports_what_it_did(scored, frozen, capsys):
    log_leads(scored.provider, dt.date(2026, 1, 30), 40, 40)
    call_command("finalise_month", "--month", "2026-01", "--reason", "late leads")
    out = capsys.readouterr().out
    assert "January 2026: 0 created, 1 updated, 0 unchanged." in out
    assert "Breaches: 0 opened, 1 cleared by corrections." in out
    assert Breach.objects.get().status == "resolved"
    call_command("finalise_month", "--month", "2026-01")
    assert "0 created, 0 updated, 1 unchanged" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("month", "message"),
    [
        ("2026-13", "is not a month"),
        ("abc", "is not a month"),
        ("2026-02", "February 2026 is not locked yet: it locks at 04 Mar 2026"),
    ],
)
def test_finalise_month_refuses_a_bad_or_open_month(frozen, month, message):
    with pytest.raises(CommandError, match=message):
        call_command("finalise_month", "--month", month)
    assert not Scorecard.objects.exists()


def test_a_late_measurement_is_not_on_time(
    client, marketing, sales, sales_lead, frozen
):
    agreement = leads_agreement(marketing, sales)
    uptime = agreement.objectives.create(
        name="Uptime", metric_source="manual", unit="percent", target=99, position=3
    )
    log_leads(marketing, dt.date(2026, 1, 6), 220, 130)
    measure(uptime, JANUARY, "99.5", at=dt.datetime(2026, 2, 5, tzinfo=UTC))
    client.force_login(sales_lead)
    response = client.get(scorecard_url(agreement, "2026-01"))
    body = response.content.decode()
    assert response.context["card"].reported_on_time is False
    assert "Late or missing" in body
    assert re.search(r'data-objective="Uptime".*?>late<', body, re.S)
