"""Timestamps read from PostgreSQL by psycopg's C loader.

Django's PostgreSQL backend registers a loader of its own for
``timestamptz``, which gives each value the connection's time zone. It
derives from psycopg's pure-Python loader (psycopg's C loaders cannot be
subclassed: Django ticket #36960), so with psycopg's C extension installed
every timestamp is still parsed in Python: about 5,500 for one computation
of a month's scorecards at the benchmark's size.

On each new connection this registers a loader that parses with the C loader
psycopg itself has registered (``psycopg.adapters``) and gives the value the
same time zone as Django's loader. The connection keeps it: Django replaces
a cursor's loader only when its ``timezone`` differs from the connection's.
"""

from __future__ import annotations

import datetime
from functools import cache

from django.db.backends.signals import connection_created

TIMESTAMPTZ = "timestamptz"


@cache
def loader_for(timezone: datetime.tzinfo | None) -> type:
    """A ``timestamptz`` loader giving values ``timezone``, as Django's does
    (``None``: naive)."""
    from psycopg import adapters, pq
    from psycopg.adapt import Loader
    from psycopg.postgres import types

    oid = types[TIMESTAMPTZ].oid
    parser = adapters.get_loader(oid, pq.Format.TEXT)
    assert parser is not None

    class TimestamptzLoader(Loader):
        def __init__(self, oid: int, context=None) -> None:
            super().__init__(oid, context)
            self._parse = parser(oid, context).load

        def load(self, data):
            return self._parse(data).replace(tzinfo=self.timezone)

    TimestamptzLoader.timezone = timezone  # type: ignore[attr-defined]
    return TimestamptzLoader


def _install(sender, connection, **kwargs) -> None:
    if connection.vendor != "postgresql":
        return
    connection.connection.adapters.register_loader(
        TIMESTAMPTZ, loader_for(connection.timezone)
    )


def parse_in_c() -> None:
    connection_created.connect(_install, dispatch_uid="slaportal.timestamps")
