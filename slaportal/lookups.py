"""``field__among=ids``: ``field__in=ids`` for a long list of plain values.

``__in`` prepares each value through the field and writes one placeholder
per value, so a statement over 200 teams is a new statement each time,
which psycopg parses again in Python before it sends it. On PostgreSQL
``__among`` sends the values as one array (``= ANY(%s)``): a statement that
reads the same whatever the list. Elsewhere it writes what ``__in`` does.
The values go to the database as they are: ids and other plain values, not
model instances. No values: no rows, as with ``__in``.
"""

from __future__ import annotations

from django.core.exceptions import EmptyResultSet
from django.db.models import Field, ForeignObject, Lookup


class Among(Lookup):
    lookup_name = "among"
    prepare_rhs = False

    def get_prep_lookup(self):
        return list(dict.fromkeys(self.rhs))  # distinct, in order

    def as_sql(self, compiler, connection):
        if not self.rhs:
            raise EmptyResultSet
        lhs, params = self.process_lhs(compiler, connection)
        placeholders = ", ".join(["%s"] * len(self.rhs))
        return f"{lhs} IN ({placeholders})", (*params, *self.rhs)

    def as_postgresql(self, compiler, connection):
        if not self.rhs:
            raise EmptyResultSet
        lhs, params = self.process_lhs(compiler, connection)
        return f"{lhs} = ANY(%s)", (*params, self.rhs)


def register() -> None:
    Field.register_lookup(Among)
    # A relation's lookups are its own, not its base field's.
    ForeignObject.register_lookup(Among)
