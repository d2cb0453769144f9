"""PostgreSQL timestamps are parsed by psycopg's C loader, and read the same
as Django's own loader reads them."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from django.db import connection

from slaportal import timestamps

pytestmark = pytest.mark.django_db

WRITTEN = [
    "2026-11-01 00:00:00+00",
    "2026-03-29 01:30:00.123456+00",
    "1999-12-31 23:59:59.999999+05:30",
    "2028-02-29 23:40:00-08",
    "0001-01-01 00:00:00+00",
]


def read_back(register=None, timezone=None) -> tuple:
    sql = "SELECT " + ", ".join(["%s::timestamptz"] * len(WRITTEN))
    with connection.cursor() as cursor:
        if register is not None:
            register(timezone, cursor.cursor)
        cursor.execute(sql, WRITTEN)
        return cursor.fetchone()


@pytest.fixture
def postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's loaders: the suite runs on PostgreSQL in CI")


@pytest.mark.usefixtures("postgresql")
def test_timestamps_read_as_djangos_loader_reads_them():
    from django.db.backends.postgresql.psycopg_any import register_tzloader

    ours = read_back()
    djangos = read_back(register_tzloader, connection.timezone)
    assert ours == djangos
    assert [v.tzinfo for v in ours] == [v.tzinfo for v in djangos]
    assert ours[3] == dt.datetime(2028, 3, 1, 7, 40, tzinfo=dt.UTC)
    assert ours[1].microsecond == 123456
    # Without time zones (USE_TZ off, or a database TIME_ZONE): naive, alike.
    naive = read_back(_register_ours, None)
    assert naive == read_back(register_tzloader, None)
    assert {v.tzinfo for v in naive} == {None}


def _register_ours(timezone, cursor) -> None:
    cursor.adapters.register_loader("timestamptz", timestamps.loader_for(timezone))


@pytest.mark.usefixtures("postgresql")
def test_a_cursor_parses_them_with_psycopgs_c_loader():
    from psycopg import pq
    from psycopg.postgres import types

    oid = types["timestamptz"].oid
    parser = timestamps.c_loader()
    assert parser.__module__.startswith("psycopg_binary")  # the C extension
    connection.ensure_connection()
    # The connection's says Django's time zone, so Django adds none of its own.
    on_connection = connection.connection.adapters.get_loader(oid, pq.Format.TEXT)
    assert on_connection is timestamps.loader_for(connection.timezone)
    with connection.cursor() as cursor:
        loader = cursor.cursor.adapters.get_loader(oid, pq.Format.TEXT)
        cursor.execute("SELECT now(), %s::timestamptz", [WRITTEN[3]])
        now, written = cursor.fetchone()
    assert loader is parser
    assert now.tzinfo is written.tzinfo is dt.UTC
    assert written == dt.datetime(2028, 3, 1, 7, 40, tzinfo=dt.UTC)


@pytest.mark.usefixtures("postgresql")
@pytest.mark.parametrize("timezone", [None, ZoneInfo("Europe/Berlin")])
def test_other_time_zones_keep_the_connections_loader(timezone):
    """With ``USE_TZ`` off (naive values) or a database ``TIME_ZONE``, psycopg's
    values would not be Django's: the cursor keeps what Django gave it."""
    from psycopg import pq
    from psycopg.postgres import types

    oid = types["timestamptz"].oid
    with connection.cursor() as cursor:
        adapters = cursor.cursor.adapters
        # As Django's connection with that setting gives its cursors.
        adapters.register_loader("timestamptz", timestamps.loader_for(timezone))
        timestamps.on_cursor(SimpleNamespace(timezone=timezone), cursor.cursor)
        assert adapters.get_loader(oid, pq.Format.TEXT) is timestamps.loader_for(
            timezone
        )
        timestamps.on_cursor(SimpleNamespace(timezone=dt.UTC), cursor.cursor)
        assert adapters.get_loader(oid, pq.Format.TEXT) is timestamps.c_loader()
