"""The data stamp that kept pages hang on: every write moves it, however it
is written; what no page shows does not."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.db import connection, transaction
from django.urls import reverse

from agreements.models import Agreement, Team
from agreements.tests.factories import TeamFactory
from slaportal import freshness

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("sql", "table"),
    [
        ('INSERT INTO "agreements_team" ("name") VALUES (%s)', "agreements_team"),
        ('UPDATE "reports_breach" SET "status" = %s', "reports_breach"),
        ('  delete from "Agreements_Objective" WHERE id = 1', "agreements_objective"),
        ('SELECT * FROM "agreements_team"', None),
        ('SAVEPOINT "s1"', None),
        ('UPDATE "auth_user" SET "last_login" = %s WHERE "auth_user"."id" = %s', None),
        ('UPDATE "auth_user" SET "first_name" = %s WHERE "id" = %s', "auth_user"),
    ],
)
def test_the_table_a_statement_writes_to(sql, table):
    assert freshness.writes_to(sql) == table


def test_every_way_of_writing_moves_the_stamp():
    before = freshness.stamp()
    team = TeamFactory()
    assert freshness.stamp() != before

    before = freshness.stamp()
    Team.objects.filter(pk=team.pk).update(name="Renamed")
    assert freshness.stamp() != before

    before = freshness.stamp()
    Team.objects.bulk_create([Team(name="Bulk", slug="bulk")])
    assert freshness.stamp() != before

    before = freshness.stamp()
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {Team._meta.db_table} WHERE slug = %s",  # noqa: S608
            ["bulk"],
        )
    assert freshness.stamp() != before

    before = freshness.stamp()
    assert list(Agreement.objects.all()) == []  # a read
    assert freshness.stamp() == before


def test_what_no_page_shows_leaves_the_stamp():
    before = freshness.stamp()
    session = SessionStore()
    session["seen"] = True
    session.save()
    assert freshness.stamp() == before


def test_a_commit_moves_the_stamp_for_every_other_process(
    django_capture_on_commit_callbacks,
):
    before = freshness.stamp()
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        transaction.atomic(),
    ):
        for n in range(3):
            TeamFactory(name=f"Team {n}")
    # Once per transaction, however many rows it wrote (and the month
    # stamps once, for every month: a team has no month).
    assert [c for c in callbacks if c is freshness.bump] == [freshness.bump]
    assert len(callbacks) == 2
    assert freshness.stamp() != before


def test_a_lost_stamp_starts_again_from_a_value_never_used(settings):
    from django.core.cache import cache

    first = freshness.stamp()
    cache.delete(freshness.STAMP_KEY)
    freshness.bump()  # the cache has forgotten it: begun again from the clock
    assert freshness.stamp() > first


def test_a_kept_value_is_built_once_per_stamp():
    built = []

    def build():
        built.append(1)
        return len(built)

    assert freshness.kept(("test", 1), build) == 1
    assert freshness.kept(("test", 1), build) == 1
    assert freshness.kept(("test", 2), build) == 2  # another reader
    TeamFactory()
    assert freshness.kept(("test", 1), build) == 3


def test_the_api_list_is_kept_until_the_data_moves_on(
    api_client, executive, outsider, chain
):
    url = reverse("api:v1:agreement-list")
    api_client.force_login(executive)
    first = api_client.get(url).json()
    assert first["count"] > 0
    title = first["results"][0]["title"]
    assert api_client.get(url).json() == first

    Agreement.objects.filter(title=title).update(title="Renamed in place")
    titles = [row["title"] for row in api_client.get(url).json()["results"]]
    assert "Renamed in place" in titles

    api_client.force_login(outsider)  # their own list: nothing of the others'
    assert api_client.get(url).json()["count"] == 0

    api_client.force_login(executive)
    response = api_client.get(url, {"status": "no-such-status"})
    assert response.status_code == 400


def test_an_api_address_with_made_up_parameters_is_never_kept(
    api_client, executive, chain
):
    url = reverse("api:v1:agreement-list")
    api_client.force_login(executive)
    built = []

    from agreements.api import views

    original = views.AgreementViewSet.get_queryset

    def counting(self):
        built.append(1)
        return original(self)

    views.AgreementViewSet.get_queryset = counting
    try:
        api_client.get(url, {"ordering": "title"})
        api_client.get(url, {"ordering": "title"})
        assert len(built) == 1  # kept
        api_client.get(url, {"ordering": "title", "made": "up"})
        api_client.get(url, {"ordering": "title", "made": "up"})
        assert len(built) == 3  # built each time
    finally:
        views.AgreementViewSet.get_queryset = original


# --- Month stamps -------------------------------------------------------------


def test_a_figure_created_or_deleted_moves_its_month_alone():
    from agreements.tests.factories import LeadLogEntryFactory

    january, february = dt.date(2026, 1, 1), dt.date(2026, 2, 1)
    team = TeamFactory()
    before = freshness.month_stamp(january), freshness.month_stamp(february)
    entry = LeadLogEntryFactory(
        team=team, date=dt.date(2026, 2, 3), month=february, leads_delivered=5
    )
    every, jan = freshness.month_stamp(january)
    assert (every, jan) == before[0]  # January and every month stand
    assert freshness.month_stamp(february) != before[1]

    moved = freshness.month_stamp(february)
    entry.delete()
    assert freshness.month_stamp(february) != moved
    assert freshness.month_stamp(january) == before[0]


def test_an_edit_or_a_change_without_a_month_moves_every_month():
    from agreements.tests.factories import LeadLogEntryFactory

    january = dt.date(2026, 1, 1)
    entry = LeadLogEntryFactory(
        team=TeamFactory(), date=dt.date(2026, 2, 3), month=dt.date(2026, 2, 1)
    )
    before = freshness.month_stamp(january)
    entry.leads_delivered += 1
    entry.save()  # it might have moved from another month
    assert freshness.month_stamp(january)[0] != before[0]

    before = freshness.month_stamp(january)
    TeamFactory()  # a team, an agreement, a calendar: any month
    assert freshness.month_stamp(january)[0] != before[0]


def test_friction_and_breaches_move_no_month():
    """What no month's judgement reads leaves every month's stamp alone."""
    from agreements.tests.factories import (
        FrictionCommentFactory,
        FrictionReportFactory,
    )

    january = dt.date(2026, 1, 1)
    report = FrictionReportFactory(month=january)
    before = freshness.month_stamp(january)
    FrictionCommentFactory(report=report, author=report.created_by)
    report.description += " More detail."
    report.save()
    FrictionReportFactory(
        month=january,
        reporting_team=report.reporting_team,
        addressed_team=report.addressed_team,
        created_by=report.created_by,
    )
    assert freshness.month_stamp(january) == before
    TeamFactory()  # while a change that may bear on any month moves them all
    assert freshness.month_stamp(january)[0] != before[0]


def test_month_stamps_move_once_when_the_transaction_commits(
    django_capture_on_commit_callbacks,
):
    from agreements.tests.factories import LeadLogEntryFactory

    team = TeamFactory()
    february = dt.date(2026, 2, 1)
    before = freshness.month_stamp(february)
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        transaction.atomic(),
    ):
        for day in (3, 4, 5):
            LeadLogEntryFactory(
                team=team, date=february.replace(day=day), month=february
            )
    moved = [c for c in callbacks if getattr(c, "func", None) is freshness._move]
    assert [c.args for c in moved] == [(frozenset({"data-stamp:month:2026-02"}),)]
    assert freshness.month_stamp(february)[1] != before[1]


def test_records_written_in_bulk_move_every_month(monkeypatch):
    from agreements.records import bulk

    moved = []
    monkeypatch.setattr(bulk.freshness, "months_moved", moved.append)
    bulk.bulk_write([], source=None, user=None, batch=None)
    assert moved == [None]
