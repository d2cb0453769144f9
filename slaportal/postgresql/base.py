"""Django's PostgreSQL backend; see ``slaportal.timestamps`` for what it
changes and why."""

from __future__ import annotations

from django.db.backends.postgresql import base

from slaportal import timestamps


class DatabaseWrapper(base.DatabaseWrapper):
    def get_new_connection(self, conn_params):
        connection = super().get_new_connection(conn_params)
        timestamps.on_connection(self, connection)
        return connection

    def create_cursor(self, name=None):
        cursor = super().create_cursor(name)
        timestamps.on_cursor(self, cursor)
        return cursor
