"""Timestamps read from PostgreSQL by psycopg's C loader.

Django's PostgreSQL backend registers a loader of its own for
``timestamptz``, which gives each value the connection's time zone. It
derives from psycopg's pure-Python loader (psycopg's C loaders cannot be
subclassed: Django ticket #36960), so with psycopg's C extension installed
every timestamp is still parsed in Python: about 5,500 for one computation
of a month's scorecards at the benchmark's size.

Our backend (``slaportal.postgresql``) does two things instead:

- each new connection gets ``loader_for(connection.timezone)``: psycopg's C
  parser, called from Python, with Django's time zone put on its result.
  Django reads the connection's loader's ``timezone`` to decide whether a
  cursor needs a loader of its own, so the connection's must say it.
- each cursor, where Django's time zone is UTC, gets psycopg's C loader
  itself: no Python at all per value. Django keeps the session's time zone
  at its own (``TimeZone`` 'UTC'), for which psycopg gives the very
  ``datetime.timezone.utc`` Django would. Anywhere else (``USE_TZ`` off: naive
  values; a database ``TIME_ZONE``) the connection's loader reads them.
"""

from __future__ import annotations

import datetime
from functools import cache

TIMESTAMPTZ = "timestamptz"


@cache
def c_loader() -> type:
    """psycopg's own ``timestamptz`` text loader: the C extension's where it
    is installed."""
    from psycopg import adapters, pq
    from psycopg.postgres import types

    loader = adapters.get_loader(types[TIMESTAMPTZ].oid, pq.Format.TEXT)
    assert loader is not None
    return loader


@cache
def loader_for(timezone: datetime.tzinfo | None) -> type:
    """A ``timestamptz`` loader giving values ``timezone``, as Django's does
    (``None``: naive)."""
    from psycopg.adapt import Loader

    parser = c_loader()

    class TimestamptzLoader(Loader):
        def __init__(self, oid: int, context=None) -> None:
            super().__init__(oid, context)
            self._parse = parser(oid, context).load

        def load(self, data):
            return self._parse(data).replace(tzinfo=self.timezone)

    TimestamptzLoader.timezone = timezone  # type: ignore[attr-defined]
    return TimestamptzLoader


def on_connection(wrapper, connection) -> None:
    """A new psycopg ``connection`` of Django's ``wrapper``."""
    connection.adapters.register_loader(TIMESTAMPTZ, loader_for(wrapper.timezone))


def on_cursor(wrapper, cursor) -> None:
    """A psycopg ``cursor`` Django's ``wrapper`` has just made."""
    if wrapper.timezone is datetime.UTC:
        cursor.adapters.register_loader(TIMESTAMPTZ, c_loader())
