"""PostgreSQL timestamps are parsed by psycopg's C loader, and read the same
as Django's own loader reads them."""

from __future__ import annotations

import datetime as dt

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
def test_the_connection_parses_them_with_psycopgs_c_loader():
    from psycopg import adapters, pq
    from psycopg.postgres import types

    oid = types["timestamptz"].oid
    connection.ensure_connection()
    in_force = connection.connection.adapters.get_loader(oid, pq.Format.TEXT)
    assert in_force is timestamps.loader_for(connection.timezone)
    parser = adapters.get_loader(oid, pq.Format.TEXT)
    assert parser.__module__.startswith("psycopg_binary")  # the C extension
    with connection.cursor() as cursor:
        cursor.execute("SELECT now()")
        loader = cursor.cursor.adapters.get_loader(oid, pq.Format.TEXT)
    assert loader is in_force  # Django left the connection's loader in place
