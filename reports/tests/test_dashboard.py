"""The VP dashboard: heat map, open breaches, late reporters, the team filter,
who sees it, and a fixed number of queries."""

from __future__ import annotations

import datetime as dt
import gzip
import re
from decimal import Decimal

import pytest
import time_machine
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from agreements.models import Agreement, Membership, Objective
from agreements.tests.factories import (
    ClosedCustomerFactory,
    MembershipFactory,
    ObjectiveFactory,
    TeamFactory,
    UserFactory,
)
from reports.models import Breach
from reports.services import breach_resolve, scorecards_finalise
from slaportal import freshness

from .builders import (
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

DASHBOARD = reverse("reports:dashboard")


def customers(team, day: dt.date, count: int) -> None:
    """``count`` customers closed on ``day``, entered that day."""
    at = dt.datetime.combine(day, dt.time(17, 0), tzinfo=UTC)
    with time_machine.travel(at, tick=False):
        for _ in range(count):
            ClosedCustomerFactory(team=team, closed_on=day, month=day.replace(day=1))


@pytest.fixture
def org(scored, marketing, sales, service) -> dict[str, Agreement]:
    """The chain at 10 February 2026, January finalised:

    - Lead delivery (Marketing → Sales): missed in January, one breach.
    - Customer handover (Sales → Service) since October 2025: 12 of 10
      customers in January (met), onboarding notes never measured (no data,
      late).
    - Care (Service → Sales): uptime 99.5 of 99 % measured on time (met).
    """
    handover = leads_agreement(
        sales,
        service,
        title="Customer handover",
        effective_from=dt.date(2025, 10, 1),
    )
    handover.objectives.all().delete()
    ObjectiveFactory(
        agreement=handover,
        name="Customers closed",
        metric_source=Objective.Source.CUSTOMERS_CLOSED,
        target=Decimal(10),
        position=1,
    )
    ObjectiveFactory(
        agreement=handover,
        name="Onboarding notes",
        metric_source=Objective.Source.MANUAL,
        unit=Objective.Unit.PERCENT,
        target=Decimal(95),
        position=2,
    )
    customers(sales, dt.date(2026, 1, 12), 12)
    care = leads_agreement(service, sales, title="Care")
    care.objectives.all().delete()
    uptime = ObjectiveFactory(
        agreement=care,
        name="Uptime",
        metric_source=Objective.Source.MANUAL,
        unit=Objective.Unit.PERCENT,
        target=Decimal(99),
    )
    measure(uptime, JANUARY, "99.5")
    scorecards_finalise(month=JANUARY)
    return {"leads": scored, "handover": handover, "care": care}


def cells(response, title: str) -> list[str]:
    board = response.context["board"]
    row = next(r for r in board.rows if r.agreement.title == title)
    return [cell.status if cell else "none" for cell in row.cells]


def test_the_heat_map_shows_every_agreement_by_month(client, org, executive):
    client.force_login(executive)
    response = client.get(DASHBOARD)
    assert response.status_code == 200
    board = response.context["board"]
    assert board.months[0] == dt.date(2025, 3, 1)
    assert board.months[-1] == FEBRUARY
    # Ordered by provider (Customer Service, Marketing, Sales), then consumer.
    assert [r.agreement.title for r in board.rows] == [
        "Care",
        "Lead delivery",
        "Customer handover",
    ]
    # No leads logged before January: missed. February is running: 40 leads
    # with 6.4 of its 20 business days gone is 125 of 200 at the current
    # pace, off track.
    assert cells(response, "Lead delivery") == ["missed"] * 10 + [
        "missed",
        "off_track",
    ]
    # In force from October 2025 only. No customers before January: missed;
    # January met its customers but never measured its notes: no data. In
    # February, too early to tell for the customers and no notes yet.
    assert cells(response, "Customer handover") == ["none"] * 7 + [
        "missed",
        "missed",
        "missed",
        "no_data",
        "no_data_yet",
    ]
    january = board.rows[1].cells[10]
    assert (january.state, january.score) == ("finalised", Decimal("83.3"))
    assert january.headline == "1 of 2 objectives met"
    december = board.rows[1].cells[9]
    assert december.state == "locked"
    body = response.content.decode()
    assert 'data-testid="heatmap"' in body
    assert 'class="sp-cell sp-cell-none"' in body
    assert 'class="sp-cell sp-cell-off_track sp-cell-live"' in body
    # Every coloured cell opens that month's scorecard.
    assert reverse("reports:scorecard", args=[org["leads"].pk]) + "?month=2026-01" in (
        body
    )


def test_the_summary_counts_the_reported_month(client, org, executive):
    client.force_login(executive)
    response = client.get(DASHBOARD)
    board = response.context["board"]
    assert (board.report_month, board.report_state) == (JANUARY, "locked")
    assert board.summary == {"met": 1, "close_call": 0, "missed": 1, "no_data": 1}
    # Beside it, February so far.
    assert board.current_month == FEBRUARY
    # Lead delivery off track; Care (uptime) and Customer handover (notes)
    # have no value yet.
    assert board.current_summary == {
        "on_track": 0,
        "at_risk": 0,
        "off_track": 1,
        "already_met": 0,
        "too_early": 0,
        "no_data_yet": 2,
    }
    assert 'data-testid="current-month"' in response.content.decode()


def test_open_breaches_are_listed_with_actions_for_party_leads(
    client, org, executive, sales_lead
):
    breach = Breach.objects.get()
    acknowledge = reverse("reports:breach_acknowledge", args=[breach.pk])
    client.force_login(executive)
    response = client.get(DASHBOARD)
    (row,) = response.context["board"].breaches
    assert row.breach == breach
    # The provider's head owes it; Marketing has none here, so no one.
    assert row.owner == "nobody leads the team"
    assert row.age_days == 0
    body = response.content.decode()
    assert "Qualified leads" in body
    assert acknowledge not in body  # executives read; the parties act

    Membership.objects.filter(user=sales_lead).update(role="head")
    client.force_login(sales_lead)
    body = client.get(DASHBOARD).content.decode()
    assert acknowledge in body


def test_a_breach_acknowledged_from_the_dashboard_stays_listed(
    client, org, service_head, sales_lead
):
    breach = Breach.objects.get()
    client.force_login(sales_lead)
    response = client.post(
        reverse("reports:breach_acknowledge", args=[breach.pk]),
        {"next": f"{DASHBOARD}?team=sales"},
    )
    assert response.url == f"{DASHBOARD}?team=sales"
    (message,) = get_messages(response.wsgi_request)
    assert "acknowledged" in str(message)
    breach.refresh_from_db()
    assert breach.status == "acknowledged"
    breach_resolve(breach=breach, user=sales_lead, note="Made up in February.")
    executive = UserFactory(is_superuser=True)
    client.force_login(executive)
    response = client.get(DASHBOARD)
    assert response.context["board"].breaches == []
    assert 'data-testid="no-breaches"' in response.content.decode()


def test_late_reporters_are_the_teams_whose_figures_were_not_in_by_the_deadline(
    client, org, executive, sales, service, frozen
):
    client.force_login(executive)
    response = client.get(DASHBOARD)
    late = response.context["board"].late
    assert [r.team for r in late] == [sales]
    assert [(i.title, i.name) for i in late[0].items] == [
        ("Customer handover", "Onboarding notes")
    ]
    body = response.content.decode()
    assert "1 objective" in body and "team late for January 2026" in body
    assert "Onboarding notes</a> for Customer handover: never reported" in body
    assert "January 2026, due by Tue 3 Feb 2026, end of day" in body


def test_a_figure_entered_after_the_deadline_is_late(client, org, executive, service):
    uptime = org["care"].objectives.get()
    uptime.measurements.all().delete()
    measure(uptime, JANUARY, "99.5", at=dt.datetime(2026, 2, 6, tzinfo=UTC))
    scorecards_finalise(month=JANUARY)
    client.force_login(executive)
    late = client.get(DASHBOARD).context["board"].late
    assert service in [r.team for r in late]


def test_heads_see_the_agreements_of_the_teams_they_head(client, org, service_head):
    client.force_login(service_head)
    response = client.get(DASHBOARD)
    assert response.status_code == 200
    titles = [r.agreement.title for r in response.context["board"].rows]
    assert titles == ["Care", "Customer handover"]
    assert response.context["board"].breaches == []  # the breach is Marketing's


def test_the_team_filter_narrows_the_dashboard(client, org, executive):
    client.force_login(executive)
    response = client.get(DASHBOARD, {"team": "marketing"})
    assert [r.agreement.title for r in response.context["board"].rows] == [
        "Lead delivery"
    ]
    assert response.context["team"].slug == "marketing"
    assert "Dashboard · Marketing" in response.content.decode()


def test_an_unknown_team_in_the_filter_shows_everything_with_a_warning(
    client, org, service_head
):
    client.force_login(service_head)
    # Marketing exists, but is not among the teams a service head may filter by.
    response = client.get(DASHBOARD, {"team": "marketing"})
    assert response.status_code == 200
    assert len(response.context["board"].rows) == 2
    assert "Select a valid choice" in response.content.decode()


def test_a_head_without_agreements_sees_the_empty_state(client, outsider):
    MembershipFactory(user=outsider, team=TeamFactory(name="Legal"), role="head")
    client.force_login(outsider)
    response = client.get(DASHBOARD)
    assert response.status_code == 200
    assert "No agreements in force" in response.content.decode()


@pytest.mark.parametrize("persona", ["marketing_lead", "sales_manager", "outsider"])
def test_others_may_not_open_the_dashboard(client, request, persona):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(DASHBOARD).status_code == 403
    assert client.get(reverse("reports:dashboard_csv")).status_code == 403


# --- Queries -----------------------------------------------------------------

# Session, user, the executive's two permission lookups, the finalised
# months, the organisation's month totals (the reported month's statuses, the
# breach counts) and the reported month's late list (one more, for their
# teams, when a team was late), the heat map's count and page, the page's five
# engine reads (with the leads from a CRM), the running month's pace
# calendars (their hours, their holidays) and its stored scorecards (the
# running month's totals are the page's), breaches (the latest ids, their
# rows, their owners), the teams the reader leads and heads (breach actions,
# the "add it" links), the teams of the filter, the navigation's team
# check, and the bell's unread count. The running month is read on its own
# (its versions and five engine reads): the other months are kept apart.
DASHBOARD_QUERIES = 31
# Built again with the settled months kept (the data stamp moved by a figure
# of the running month): their versions, stored scorecards and engine reads
# are not read, nor the heat map's order (one read of the page's rows
# instead of a count and a slice).
DASHBOARD_QUERIES_SETTLED_KEPT = 24


def dashboard_queries(client, **params) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(DASHBOARD, params)
    assert response.status_code == 200
    return round_trips(ctx.captured_queries)


def test_the_dashboard_runs_a_fixed_number_of_queries(
    client, executive, frozen, memory_cache
):
    client.force_login(executive)
    counts, filtered, by_status, rebuilt = [], [], [], []
    for size in (3, 30):
        agreements = build_org(size)
        scorecards_finalise(month=JANUARY)
        counts.append(dashboard_queries(client))
        freshness.bump()
        rebuilt.append(dashboard_queries(client))
        filtered.append(dashboard_queries(client, team=agreements[0].provider.slug))
        freshness.months_moved(None)  # the same rows: none of them kept
        by_status.append(dashboard_queries(client, status="attention"))
        # A new address: the page just read is kept, and a kept page is not
        # built again.
        assert len(client.get(DASHBOARD, {"page": 1}).context["board"].rows) == (
            3 if size == 3 else 33
        )
        assert Breach.objects.count() > 0
    assert counts == [DASHBOARD_QUERIES, DASHBOARD_QUERIES]
    assert rebuilt == [DASHBOARD_QUERIES_SETTLED_KEPT] * 2
    # Filtering reads the chosen team once more, and counts the team's own
    # statuses, late lines and breaches (four queries) where the organisation
    # reads its stored totals (two).
    assert filtered == [DASHBOARD_QUERIES + 3, DASHBOARD_QUERIES + 3]
    # The status filter is a condition on the heat map's reads: no query more.
    assert by_status == [DASHBOARD_QUERIES, DASHBOARD_QUERIES]


def test_the_dashboard_lists_the_latest_breaches_and_counts_them_all(
    client, executive, frozen, monkeypatch
):
    from reports.selectors import overview

    monkeypatch.setattr(overview, "BREACH_LIST_LIMIT", 2)
    build_org(3)
    scorecards_finalise(month=JANUARY)
    total = Breach.objects.count()
    assert total > 2
    client.force_login(executive)
    response = client.get(DASHBOARD)
    board = response.context["board"]
    assert len(board.breaches) == 2
    assert board.breach_total == total
    assert f"the latest 2 of {total}" in response.content.decode()


def test_the_breach_list_is_the_first_of_every_breach_sorted_whatever_its_length(
    client, executive, frozen, monkeypatch
):
    """The list reads the first titles with a breach, not every breach: it
    must still be the first of them all, sorted, ties of title included."""
    from reports.selectors import overview

    agreements = build_org(5)
    # Two agreements of one title: the cut by title must keep both.
    Agreement.objects.filter(pk__in=[a.pk for a in agreements[1:3]]).update(
        title="Agreement 1"
    )
    scorecards_finalise(month=JANUARY)
    order = ("-month", "agreement__title", "line__objective__position", "pk")
    every = list(Breach.objects.order_by(*order).values_list("pk", flat=True))
    assert len({b.agreement_id for b in Breach.objects.all()}) >= 4
    client.force_login(executive)
    for limit in range(1, len(every) + 2):
        monkeypatch.setattr(overview, "BREACH_LIST_LIMIT", limit)
        freshness.bump()
        board = client.get(DASHBOARD).context["board"]
        assert [row.breach.pk for row in board.breaches] == every[:limit], limit
        assert board.breach_total == len(every)


# --- At size: pages, capped lists, and the store ----------------------------


def test_the_heat_map_shows_a_page_at_a_time_and_keeps_the_filter(
    client, executive, frozen, monkeypatch
):
    from reports.selectors import overview

    monkeypatch.setattr(overview, "HEAT_MAP_PAGE_SIZE", 2)
    agreements = build_org(5)
    scorecards_finalise(month=JANUARY)
    client.force_login(executive)

    first = client.get(DASHBOARD)
    board = first.context["board"]
    assert [r.agreement.title for r in board.rows] == ["Agreement 0", "Agreement 1"]
    # The totals count every agreement, not the page.
    assert board.agreement_total == 5
    assert sum(board.summary.values()) == 5
    body = first.content.decode()
    assert "1–2 of 5" in body
    assert 'href="?page=2"' in body

    third = client.get(DASHBOARD, {"page": 3}).context["board"]
    assert [r.agreement.title for r in third.rows] == ["Agreement 4"]
    # A page past the end, or not a number, shows the nearest real one.
    assert client.get(DASHBOARD, {"page": 99}).context["board"].page.number == 3
    assert client.get(DASHBOARD, {"page": "x"}).context["board"].page.number == 1

    team = agreements[0].provider.slug
    filtered = client.get(DASHBOARD, {"team": team})
    assert [r.agreement.title for r in filtered.context["board"].rows] == [
        "Agreement 0"
    ]
    assert filtered.context["filter_query"] == f"team={team}"
    # The chosen team is selected in its own select, not in the breaches'.
    body = filtered.content.decode()
    assert body.count(f'<option value="{team}" selected>') == 1
    assert body.count(f'<option value="{team}">') == 1


def test_the_csv_export_lists_every_agreement_whatever_the_page_size(
    client, executive, frozen, monkeypatch
):
    from reports.selectors import overview

    monkeypatch.setattr(overview, "HEAT_MAP_PAGE_SIZE", 2)
    build_org(5)
    client.force_login(executive)
    lines = b"".join(client.get(reverse("reports:dashboard_csv"))).decode()
    titles = {line.split(",")[0] for line in lines.splitlines()[1:]}
    assert titles == {f"Agreement {n}" for n in range(5)}


def test_a_late_team_lists_its_first_objectives_and_counts_the_rest(
    client, org, executive, sales, frozen, monkeypatch
):
    from reports.selectors import overview

    ObjectiveFactory(
        agreement=org["handover"],
        name="Satisfaction survey",
        metric_source=Objective.Source.MANUAL,
        unit=Objective.Unit.PERCENT,
        target=Decimal(80),
        position=3,
    )
    scorecards_finalise(month=JANUARY)  # its line: never measured, so late
    monkeypatch.setattr(overview, "LATE_ITEMS_SHOWN", 1)
    client.force_login(executive)
    response = client.get(DASHBOARD)
    (reporter,) = response.context["board"].late
    assert (reporter.team, reporter.count) == (sales, 2)
    assert [(i.title, i.name) for i in reporter.items] == [
        ("Customer handover", "Onboarding notes")
    ]
    body = response.content.decode()
    assert 'data-testid="late-more"' in body
    assert f"{reverse('reports:team', args=[sales.slug])}" in body
    assert "and 1 more" in body


def summary_and_late(client) -> tuple[dict, list]:
    board = client.get(DASHBOARD).context["board"]
    late = [
        (r.team.slug, r.count, [(i.title, i.name) for i in r.items]) for r in board.late
    ]
    return board.summary, late


def test_the_totals_are_the_same_before_and_after_the_month_is_finalised(
    client, executive, frozen
):
    """Before the month-end job, the last locked month is computed; after
    it, read from the store: the page says the same either way."""
    agreements = build_org(4)
    uptime = agreements[1].objectives.get(name="Uptime")
    uptime.measurements.all().delete()
    measure(uptime, JANUARY, "99.5", at=dt.datetime(2026, 2, 6, tzinfo=UTC))
    client.force_login(executive)
    before = summary_and_late(client)
    scorecards_finalise(month=JANUARY)
    after = summary_and_late(client)
    assert before == after
    assert sum(after[0].values()) == 4
    assert after[1] == [(agreements[1].provider.slug, 1, [("Agreement 1", "Uptime")])]


def test_an_agreement_signed_after_its_month_was_finalised_is_computed(
    client, org, executive, marketing, sales, frozen
):
    """Backdated into January after January's scorecards were stored: the
    heat map computes its January rather than showing it as not in force."""
    late_signed = leads_agreement(
        sales, marketing, title="Backdated", effective_from=JANUARY
    )
    client.force_login(executive)
    response = client.get(DASHBOARD)
    assert cells(response, late_signed.title)[-2] in {"met", "missed", "no_data"}
    assert cells(response, "Lead delivery")[-2] == "missed"


def test_late_reporters_list_the_teams_with_most_late_objectives_first(
    client, executive, frozen, monkeypatch
):
    from reports.selectors import overview

    agreements = build_org(3)
    # No uptime figures from the first two providers; the first also owes a
    # survey it never measured.
    for agreement in agreements[:2]:
        agreement.objectives.get(name="Uptime").measurements.all().delete()
    ObjectiveFactory(
        agreement=agreements[0],
        name="Survey",
        metric_source=Objective.Source.MANUAL,
        unit=Objective.Unit.PERCENT,
        target=Decimal(80),
        position=4,
    )
    scorecards_finalise(month=JANUARY)
    monkeypatch.setattr(overview, "LATE_TEAMS_SHOWN", 1)
    client.force_login(executive)
    response = client.get(DASHBOARD)
    board = response.context["board"]
    first, second = (a.provider for a in agreements[:2])
    assert [(r.team, r.count) for r in board.late] == [(first, 2), (second, 1)]
    assert [r.team for r in board.late_shown] == [first]
    assert "and 1 more team with fewer late objectives" in response.content.decode()


# --- The status filter --------------------------------------------------------


def titles(response) -> list[str]:
    return [r.agreement.title for r in response.context["board"].rows]


@pytest.mark.parametrize("finalised", [True, False], ids=["stored", "computed"])
def test_the_status_filter_keeps_the_agreements_with_that_status_last_month(
    client, org, executive, finalised
):
    """January: Lead delivery missed, Customer handover no data (notes never
    measured), Care met. The same answer from the stored scorecards and,
    before the month-end job, from the figures."""
    if not finalised:
        Breach.objects.all().delete()
        from reports.models import MonthTotals, Scorecard, ScorecardLine

        MonthTotals.objects.all().delete()
        ScorecardLine.objects.all().delete()
        Scorecard.objects.all().delete()
    client.force_login(executive)
    assert titles(client.get(DASHBOARD, {"status": "missed"})) == ["Lead delivery"]
    assert titles(client.get(DASHBOARD, {"status": "no_data"})) == ["Customer handover"]
    assert titles(client.get(DASHBOARD, {"status": "met"})) == ["Care"]
    response = client.get(DASHBOARD, {"status": "close_call"})
    assert titles(response) == []
    body = response.content.decode()
    assert "has the status “Close call (at risk while closing)” in January 2026" in (
        body
    )
    # The totals still cover every agreement.
    assert sum(response.context["board"].summary.values()) == 3


def test_the_status_filter_combines_with_the_team_and_the_csv(client, org, executive):
    client.force_login(executive)
    params = {"team": "sales", "status": "attention"}
    assert titles(client.get(DASHBOARD, params)) == ["Lead delivery"]
    lines = b"".join(client.get(reverse("reports:dashboard_csv"), params)).decode()
    assert {line.split(",")[0] for line in lines.splitlines()[1:]} == {"Lead delivery"}
    body = client.get(DASHBOARD, params).content.decode()
    assert "team=sales&amp;status=attention" in body  # the CSV link keeps both


def test_an_unknown_status_shows_everything_with_a_warning(client, org, executive):
    client.force_login(executive)
    response = client.get(DASHBOARD, {"status": "purple"})
    assert response.status_code == 200
    assert len(titles(response)) == 3
    assert "Select a valid choice" in response.content.decode()


def test_the_running_month_counts_the_agreements_on_the_page_shown(
    client, executive, frozen, monkeypatch
):
    from reports.selectors import overview

    monkeypatch.setattr(overview, "HEAT_MAP_PAGE_SIZE", 2)
    build_org(3)
    client.force_login(executive)
    first = client.get(DASHBOARD)
    second = client.get(DASHBOARD, {"page": 2})
    counts = [sum(r.context["board"].current_summary.values()) for r in (first, second)]
    assert counts == [2, 1]
    assert "the 2 agreements on this page" in first.content.decode()
    # A figure logged now shows on the next request.
    agreement = first.context["board"].rows[0].agreement
    log_leads(agreement.provider, FEBRUARY.replace(day=9), 500, 300)
    after = client.get(DASHBOARD).context["board"]
    assert after.current_summary != first.context["board"].current_summary


def test_the_dashboard_is_compressed_for_a_browser_that_accepts_gzip(
    client, org, executive
):
    client.force_login(executive)
    response = client.get(DASHBOARD, headers={"accept-encoding": "gzip, deflate"})
    assert response.status_code == 200
    assert response["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in response["Vary"]
    assert 'data-testid="heatmap"' in gzip.decompress(response.content).decode()
    plain = client.get(DASHBOARD)
    assert not plain.has_header("Content-Encoding")
    assert 'data-testid="heatmap"' in plain.content.decode()


# --- A kept page ------------------------------------------------------------


def test_a_kept_dashboard_is_served_until_the_data_moves_on(
    client, org, executive, memory_cache
):
    client.force_login(executive)
    first = client.get(DASHBOARD)
    assert first.context is not None  # built
    with CaptureQueriesContext(connection) as ctx:
        again = client.get(DASHBOARD)
    # The session, the reader and the reader's right to see it: the page
    # itself is not built again.
    assert again.context is None
    assert len(ctx.captured_queries) <= 4
    assert again.content.decode().count(
        "Customer handover"
    ) == first.content.decode().count("Customer handover")

    # Any write moves it on: a renamed team shows at once.
    sales = org["handover"].provider
    sales.name = "Sales Europe"
    sales.save()
    moved = client.get(DASHBOARD)
    assert moved.context is not None
    assert "Sales Europe" in moved.content.decode()


def test_a_kept_dashboard_carries_each_readers_own_csrf_token(
    org, sales_lead, memory_cache
):
    from django.test import Client

    Membership.objects.filter(user=sales_lead).update(role="head")
    breach = Breach.objects.get()
    acknowledge = reverse("reports:breach_acknowledge", args=[breach.pk])
    pages = []
    for _ in range(2):  # the same person in two browsers
        browser = Client(enforce_csrf_checks=True)
        browser.force_login(sales_lead)
        pages.append((browser, browser.get(DASHBOARD)))
    assert pages[0][1].context is not None
    assert pages[1][1].context is None  # the kept page
    tokens = []
    for _browser, page in pages:
        body = page.content.decode()
        assert "csrf0token0slot" not in body
        (token,) = set(re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', body))
        tokens.append(token)
    assert tokens[0] != tokens[1]

    # The second browser acts with the token of the kept page it was served;
    # the message it is told shows once, on a page built for it.
    browser, _page = pages[1]
    response = browser.post(
        acknowledge, {"csrfmiddlewaretoken": tokens[1], "next": DASHBOARD}
    )
    assert response.status_code == 302
    breach.refresh_from_db()
    assert breach.status == "acknowledged"
    told = "Breach of Qualified leads (January 2026) acknowledged."
    shown = browser.get(DASHBOARD)
    assert shown.context is not None
    assert told in shown.content.decode()
    assert told not in browser.get(DASHBOARD).content.decode()  # shown once


def test_a_kept_dashboard_is_each_readers_own(client, org, executive, sales_lead):
    client.force_login(executive)
    assert "Customer handover" in client.get(DASHBOARD).content.decode()
    client.force_login(sales_lead)  # not a head: may not see it at all
    assert client.get(DASHBOARD).status_code == 403


def test_an_address_no_link_makes_is_built_and_never_kept(
    client, org, executive, memory_cache
):
    from django.core.cache import cache

    client.force_login(executive)
    assert client.get(DASHBOARD, {"status": "attention"}).context is not None
    assert client.get(DASHBOARD, {"status": "attention"}).context is None  # kept
    for _ in range(2):
        made_up = client.get(DASHBOARD, {"status": "attention", "made": "up"})
        assert made_up.status_code == 200
        assert made_up.context is not None  # built every time
    # Kept compressed: the page's HTML takes a fraction of its size.
    (stored,) = [v for k, v in cache._cache.items() if ":kept:" in k]
    page = client.get(DASHBOARD, {"status": "attention"}).content
    assert len(stored) < len(page) / 3
