"""The scorecard engine on hand-computed cases, through the database."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from agreements import periods
from agreements.figures import kinds
from agreements.figures.services import figure_correct
from agreements.models import Agreement, Objective
from agreements.tests.factories import AgreementFactory, ObjectiveFactory
from reports.models import Breach, Scorecard, ScorecardLine
from reports.selectors import scorecard_for, scorecards_for_months
from reports.services import scorecards_finalise

from .builders import (
    AFTER_JANUARY_LOCKED,
    JANUARY,
    UTC,
    build_org,
    leads_agreement,
    log_leads,
    measure,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def lead_delivery(marketing, sales):
    return leads_agreement(marketing, sales)


def lines_of(card) -> dict[str, tuple]:
    return {
        line.objective.name: (line.outcome.actual, line.outcome.attainment, line.status)
        for line in card.lines
    }


def test_met_and_missed_with_weights(lead_delivery, marketing, clock):
    log_leads(marketing, dt.date(2026, 1, 6), 120, 50)
    log_leads(marketing, dt.date(2026, 1, 20), 100, 40)
    with clock(AFTER_JANUARY_LOCKED):
        card = scorecard_for(lead_delivery, JANUARY)
    # 220 of 200 leads: met; 90 of 120 qualified: 75 %, missed.
    assert lines_of(card) == {
        "Leads delivered": (Decimal(220), Decimal(110), "met"),
        "Qualified leads": (Decimal(90), Decimal(75), "missed"),
    }
    assert card.status == "missed"
    # (1 × 100 [capped] + 2 × 75) / 3
    assert round(card.score, 2) == Decimal("83.33")
    assert card.reported_on_time
    assert not card.live


def test_at_most_objective_from_a_measurement(sales, marketing, clock):
    agreement = AgreementFactory(provider=sales, consumer=marketing, title="Follow-up")
    hours = ObjectiveFactory(
        agreement=agreement,
        name="Median hours to first contact",
        metric_source=Objective.Source.MANUAL,
        comparator=Objective.Comparator.AT_MOST,
        unit=Objective.Unit.HOURS,
        target=Decimal(3),
    )
    measure(hours, JANUARY, "4")
    with clock(AFTER_JANUARY_LOCKED):
        card = scorecard_for(agreement, JANUARY)
    assert lines_of(card) == {
        "Median hours to first contact": (Decimal(4), Decimal(75), "missed")
    }


def test_a_missing_measurement_is_no_data_and_late(sales, marketing, clock):
    agreement = AgreementFactory(provider=sales, consumer=marketing)
    ObjectiveFactory(
        agreement=agreement,
        metric_source=Objective.Source.MANUAL,
        unit=Objective.Unit.PERCENT,
        target=Decimal(99),
    )
    with clock(AFTER_JANUARY_LOCKED):
        card = scorecard_for(agreement, JANUARY)
    assert card.status == "no_data"
    # Owed and never reported: 0 % weighted attainment, not left out.
    assert card.score == 0
    assert card.headline == "0 of 1 objective met"
    assert not card.reported_on_time


def test_figures_entered_after_the_deadline_are_not_on_time(
    lead_delivery, marketing, clock
):
    log_leads(marketing, dt.date(2026, 1, 6), 250, 150)
    log_leads(
        marketing,
        dt.date(2026, 1, 31),
        10,
        5,
        at=dt.datetime(2026, 2, 5, 9, tzinfo=UTC),  # after the 4 February deadline
    )
    with clock(AFTER_JANUARY_LOCKED):
        card = scorecard_for(lead_delivery, JANUARY)
    # On time means the month's figures were in before the deadline: the first
    # entry was, so the objective counts as reported on time.
    assert card.reported_on_time
    measure_late = scorecards_for_months([JANUARY], now=AFTER_JANUARY_LOCKED)
    assert measure_late[JANUARY][0].status == "met"


def test_months_before_an_agreement_starts_have_no_scorecard(marketing, sales, clock):
    agreement = leads_agreement(marketing, sales, effective_from=dt.date(2026, 3, 1))
    with clock(AFTER_JANUARY_LOCKED):
        assert scorecard_for(agreement, JANUARY) is None
        assert scorecards_for_months([JANUARY])[JANUARY] == []


def test_a_version_switch_mid_year_counts_each_version_in_its_months(
    marketing, sales, clock
):
    v1 = leads_agreement(
        marketing,
        sales,
        leads=180,
        qualified=100,
        effective_from=dt.date(2025, 1, 1),
        status=Agreement.Status.RETIRED,
        retired_at=dt.datetime(2026, 6, 1, tzinfo=UTC),
    )
    v2 = leads_agreement(
        marketing,
        sales,
        leads=200,
        qualified=120,
        effective_from=dt.date(2025, 6, 1),
        lineage=v1.lineage,
        version=2,
        supersedes=v1,
    )
    may, july = dt.date(2025, 5, 1), dt.date(2025, 7, 1)
    for month in (may, july):
        log_leads(marketing, month.replace(day=10), 190, 110)
    with clock(dt.datetime(2025, 9, 1, tzinfo=UTC)):
        cards = scorecards_for_months([may, july])
    assert [c.agreement for c in cards[may]] == [v1]
    assert [c.agreement for c in cards[july]] == [v2]
    assert cards[may][0].status == "met"  # 190 ≥ 180, 110 ≥ 100
    assert cards[july][0].status == "missed"  # 190 < 200


def test_live_month_shows_the_pace(lead_delivery, marketing, clock):
    log_leads(marketing, dt.date(2026, 1, 5), 60, 40)
    # January 2026 has 22 business days; 11 are gone at 16 January 00:00.
    with clock(dt.datetime(2026, 1, 16, tzinfo=periods.org_zone())):
        card = scorecard_for(lead_delivery, JANUARY)
    leads = card.lines[0].outcome
    assert card.live
    assert leads.expected_so_far == Decimal(100)
    assert leads.projected == Decimal(120)
    assert leads.status == "off_track"  # 120 of 200: 40 % short
    log_leads(marketing, dt.date(2026, 1, 12), 30, 0)
    with clock(dt.datetime(2026, 1, 16, tzinfo=periods.org_zone())):
        card = scorecard_for(lead_delivery, JANUARY)
    assert card.lines[0].outcome.projected == Decimal(180)
    assert card.lines[0].status == "at_risk"  # 180 of 200: within 20 %
    # The weekend does not count: Saturday morning and Sunday night expect
    # the same 12 business days' worth (109.1 of 200).
    expected = []
    for moment in (dt.datetime(2026, 1, 17, 0), dt.datetime(2026, 1, 18, 22)):
        with clock(moment.replace(tzinfo=periods.org_zone())):
            card = scorecard_for(lead_delivery, JANUARY)
        expected.append(card.lines[0].outcome.expected_so_far.quantize(Decimal("0.1")))
    assert expected == [Decimal("109.1")] * 2


def test_finalising_stores_scorecards_and_opens_breaches(
    lead_delivery, marketing, clock
):
    log_leads(marketing, dt.date(2026, 1, 6), 220, 90)
    with clock(AFTER_JANUARY_LOCKED):
        report = scorecards_finalise(month=JANUARY)
    assert (report.created, report.breaches_opened) == (1, 1)
    scorecard = Scorecard.objects.get()
    assert (scorecard.status, scorecard.score) == ("missed", Decimal("83.3"))
    breach = Breach.objects.get()
    assert breach.line.objective.name == "Qualified leads"
    assert breach.status == Breach.Status.OPEN
    assert (
        "Make up" in breach.remedy or lead_delivery.compensation_clause in breach.remedy
    )


def test_finalising_twice_changes_nothing(lead_delivery, marketing, clock):
    log_leads(marketing, dt.date(2026, 1, 6), 220, 90)
    with clock(AFTER_JANUARY_LOCKED):
        scorecards_finalise(month=JANUARY)
        counts = (
            Scorecard.history.count(),
            ScorecardLine.history.count(),
            Breach.history.count(),
        )
        report = scorecards_finalise(month=JANUARY)
    assert (report.created, report.updated, report.unchanged) == (0, 0, 1)
    assert report.breaches_opened == 0
    assert (
        Scorecard.history.count(),
        ScorecardLine.history.count(),
        Breach.history.count(),
    ) == counts


def test_an_open_month_cannot_be_finalised(lead_delivery, clock):
    with clock(dt.datetime(2026, 2, 2, tzinfo=UTC)), pytest.raises(Exception) as exc:
        scorecards_finalise(month=JANUARY)
    assert "not locked yet" in str(exc.value)
    assert not Scorecard.objects.exists()


def test_a_late_correction_recomputes_and_keeps_history(
    lead_delivery, marketing, marketing_lead, clock
):
    from agreements.models import Membership

    Membership.objects.filter(user=marketing_lead).update(role="head")
    entry = log_leads(marketing, dt.date(2026, 1, 6), 220, 90)
    with clock(AFTER_JANUARY_LOCKED):
        scorecards_finalise(month=JANUARY)
        figure_correct(
            kinds.LEADS,
            user=marketing_lead,
            reason="CRM export missed the webinar leads",
            row=entry,
            qualified_leads=130,
        )
        report = scorecards_finalise(month=JANUARY, reason="correction")
    assert (report.updated, report.breaches_cleared) == (1, 1)
    line = ScorecardLine.objects.get(objective__name="Qualified leads")
    assert (line.actual, line.status) == (Decimal(130), "met")
    assert [h.actual for h in line.history.all()] == [Decimal(130), Decimal(90)]
    scorecard = Scorecard.objects.get()
    assert scorecard.status == "met"
    assert [h.status for h in scorecard.history.all()] == ["met", "missed"]
    assert Breach.objects.get().status == Breach.Status.RESOLVED


def round_trips(captured) -> int:
    """Queries, counting consecutive batches of one INSERT as one: SQLite caps a
    statement at 999 parameters, so Django splits large bulk inserts there.
    On PostgreSQL each bulk insert is one statement and this is the raw count."""
    count, previous = 0, None
    for query in captured:
        sql = query["sql"]
        key = sql.split("(", 1)[0] if sql.startswith("INSERT") else None
        if key is None or key != previous:
            count += 1
        previous = key
    return count


def finalise_queries(size: int, clock) -> tuple[int, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    agreements = build_org(size)
    with clock(AFTER_JANUARY_LOCKED), CaptureQueriesContext(connection) as ctx:
        report = scorecards_finalise(month=JANUARY)
    assert report.created == size
    assert ScorecardLine.objects.filter(
        scorecard__agreement__in=agreements
    ).count() == (3 * size)
    return round_trips(ctx.captured_queries), len(ctx.captured_queries)


def test_finalising_runs_a_fixed_number_of_queries(clock):
    from django.db import connection

    small, small_raw = finalise_queries(3, clock)
    assert small == FINALISE_QUERIES
    # A second, ten times larger organisation in the same database.
    large, large_raw = finalise_queries(30, clock)
    # January is finalised for the 3 earlier agreements already: the second run
    # creates the 30 new ones and leaves those 3 alone, in as many queries and
    # one more, the read of the lines stored before.
    assert large == FINALISE_QUERIES + 1
    if connection.vendor == "postgresql":
        assert small_raw == large_raw - 1 == FINALISE_QUERIES


def test_recomputing_runs_a_fixed_number_of_queries(clock, django_assert_num_queries):
    for size in (3, 30):
        build_org(size)
        with clock(AFTER_JANUARY_LOCKED):
            scorecards_finalise(month=JANUARY)
            with django_assert_num_queries(RECOMPUTE_QUERIES):
                scorecards_finalise(month=JANUARY)


# A savepoint and its release, five reads (versions, objectives, one per
# kind of figure the objectives use: here leads and measurements, and the
# leads from a CRM that replace typed totals), then for scorecards: read,
# insert (plain values), read the new ids, insert history; for lines: insert,
# read the missed ones' ids, insert history (at a month's first close there
# are no stored lines to read first); for breaches: insert, insert history;
# the month's totals: three reads (the statuses, the late lines, the
# breaches) and an insert that updates the row a correction finds; for the
# new breaches' notifications, the month's run (emailed yet?), the new
# breaches, their agreements, their teams' names and their providers'
# leaders, and the team channels that hear of breaches (here nobody to tell;
# telling them adds notify's few). The same at any size.
FINALISE_QUERIES = 26
# Unchanged figures: the savepoint, the five reads, the stored scorecards and
# lines; nothing written but the month's totals (three reads, one upsert).
RECOMPUTE_QUERIES = 13


def test_finalising_writes_one_history_row_per_new_row_with_its_values(clock):
    build_org(4)
    with clock(AFTER_JANUARY_LOCKED):
        scorecards_finalise(month=JANUARY)
    for line in ScorecardLine.objects.all():
        record = line.history.get()
        assert record.history_type == "+"
        assert record.history_change_reason == "finalised"
        assert record.history_date == AFTER_JANUARY_LOCKED
        assert (
            record.actual,
            record.attainment,
            record.status,
            record.objective_id,
        ) == (
            line.actual,
            line.attainment,
            line.status,
            line.objective_id,
        )
    assert Scorecard.history.count() == Scorecard.objects.count() == 4
    assert Breach.history.count() == Breach.objects.count() > 0


def test_closing_missed_months_with_no_catch_up_sends_no_email(clock, settings):
    from reports.models import Delivery, MonthlyRun
    from reports.notifications.jobs import months_close_due

    settings.SLA_EMAIL_CATCH_UP_MONTHS = 0
    build_org(2)
    with clock(AFTER_JANUARY_LOCKED.replace(day=20)):
        closed = months_close_due()
    assert closed
    assert Scorecard.objects.filter(month=JANUARY).count() == 2
    assert not Delivery.objects.exists()
    assert MonthlyRun.objects.get(month=JANUARY).emails_skipped


def test_an_agreement_signed_after_a_month_locked_is_never_breached_for_it(
    marketing, sales, clock
):
    """Signed on 1 December 2026 but dated from 1 October: October locked on
    3 November, before anyone could report under it. November was still
    open (closing) when it was signed, so November is owed."""
    from reports.notifications.jobs import first_month

    signed = dt.datetime(2026, 12, 1, 10, tzinfo=periods.org_zone())
    agreement = AgreementFactory(
        provider=marketing,
        consumer=sales,
        effective_from=dt.date(2026, 10, 1),
        activated_at=signed,
    )
    ObjectiveFactory(agreement=agreement, name="Leads", target=Decimal(50))
    october, november = dt.date(2026, 10, 1), dt.date(2026, 11, 1)
    with clock(signed):
        assert first_month() == november
        report = scorecards_finalise(month=october, reason="resend")
        assert (report.created, report.breaches_opened) == (0, 0)
        assert scorecard_for(agreement, october) is None
        assert scorecard_for(agreement, november).state == "closing"
    with clock(dt.datetime(2026, 12, 10, tzinfo=periods.org_zone())):
        report = scorecards_finalise(month=november)
    assert (report.created, report.breaches_opened) == (1, 1)  # owed, missed
    assert not Breach.objects.filter(month=october).exists()


def test_a_months_cards_are_freed_as_soon_as_nobody_holds_them(
    lead_delivery, marketing, clock
):
    import gc
    import weakref

    log_leads(marketing, dt.date(2026, 1, 6), 120, 50)
    with clock(AFTER_JANUARY_LOCKED):
        cards = scorecards_for_months([JANUARY])[JANUARY]
    line = cards[0].lines[0]
    # A page still follows a line's objective to its version, query-free.
    assert line.objective.agreement is cards[0].agreement
    gone = [weakref.ref(cards[0].agreement), weakref.ref(line.objective)]
    del cards, line
    gc.disable()  # freed by reference counting alone: no cycle holds them
    try:
        assert [ref() for ref in gone] == [None, None]
    finally:
        gc.enable()


def test_a_lines_objective_is_the_stored_one_built_without_a_query(
    lead_delivery, marketing, clock, django_assert_num_queries
):
    """The engine judges plain values (``ObjectiveRow``: every field of an
    objective); a reader asking a line for its objective gets the instance,
    every field as stored, its version in place, and no query."""
    from reports.selectors.engine import ObjectiveRow

    fields = tuple(f.attname for f in Objective._meta.concrete_fields)
    assert ObjectiveRow._fields == fields  # a new field must be read too
    with clock(AFTER_JANUARY_LOCKED):
        (card,) = scorecards_for_months([JANUARY])[JANUARY]
    stored = {o.pk: o for o in Objective.objects.filter(agreement=lead_delivery)}
    assert len(card.lines) == len(stored) > 1
    with django_assert_num_queries(0):
        for line in card.lines:
            objective = line.objective
            assert objective is line.objective  # built once
            expected = stored[objective.pk]
            assert [getattr(objective, f) for f in fields] == [
                getattr(expected, f) for f in fields
            ]
            assert objective.agreement is card.agreement
            assert not objective._state.adding
            assert objective.get_deferred_fields() == set()
            assert line.terms == expected.terms
