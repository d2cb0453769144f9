"""``__among``: ``__in`` for many plain values, one array on PostgreSQL."""

from __future__ import annotations

import pytest
from django.db import connection

from agreements.models import Agreement, Team
from agreements.tests.factories import AgreementFactory, TeamFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def teams():
    return TeamFactory.create_batch(4)


def test_among_finds_what_in_finds(teams):
    AgreementFactory(provider=teams[0], consumer=teams[1])
    AgreementFactory(provider=teams[2], consumer=teams[0])
    for wanted in ([teams[0].pk], [t.pk for t in teams[1:]], [teams[3].pk, 0]):
        among = Team.objects.filter(pk__among=wanted).order_by("pk")
        assert list(among) == list(Team.objects.filter(pk__in=wanted).order_by("pk"))
        # A relation's id, as the engine filters figures by team.
        by_provider = Agreement.objects.filter(provider_id__among=wanted)
        assert set(by_provider) == set(Agreement.objects.filter(provider__in=wanted))
        across = Agreement.objects.filter(provider__name__among=["x", teams[2].name])
        assert [a.provider for a in across] == [teams[2]]


def test_among_nothing_is_no_rows_and_no_query(teams, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert list(Team.objects.filter(pk__among=[])) == []
        assert list(Team.objects.filter(pk__among=set())) == []


def test_repeated_values_count_once(teams):
    ids = [teams[1].pk, teams[1].pk, teams[2].pk]
    assert Team.objects.filter(pk__among=ids).count() == 2


def test_the_statement_does_not_grow_with_the_values(teams):
    """On PostgreSQL one array parameter, whatever the number of values: the
    same statement, which psycopg need not parse again."""
    if connection.vendor != "postgresql":
        pytest.skip("One array parameter on PostgreSQL; IN (...) elsewhere")
    statements = []
    for count in (1, 4):
        qs = Team.objects.filter(pk__among=[t.pk for t in teams[:count]])
        sql, _params = qs.query.sql_with_params()
        statements.append(sql)
        assert "= ANY(%s)" in sql
        assert qs.count() == count
    assert statements[0] == statements[1]
