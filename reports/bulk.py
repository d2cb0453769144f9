"""Many rows written, or a batch job run, without the per-object cost.

``rows_insert`` writes plain values: ``bulk_create`` builds a model instance
per row and prepares every value through its field, which for a month's
thousands of scorecard lines costs more than the database's own work.
``collection_paused`` keeps the garbage collector out of a batch job that
allocates many short-lived objects and frees them by reference counting.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django.db import connection, models

# Values of these fields go to the driver as they are.
PLAIN = {
    "AutoField",
    "BigAutoField",
    "BigIntegerField",
    "BooleanField",
    "CharField",
    "ForeignKey",
    "IntegerField",
    "OneToOneField",
    "PositiveIntegerField",
    "PositiveSmallIntegerField",
    "SmallIntegerField",
    "TextField",
}


def _adapter(field: models.Field) -> Callable[[Any], Any] | None:
    kind = field.get_internal_type()
    ops = connection.ops
    if kind in PLAIN:
        return None
    if kind == "DateTimeField":
        return ops.adapt_datetimefield_value
    if kind == "DateField":
        return ops.adapt_datefield_value
    if kind == "DecimalField":
        digits, places = field.max_digits, field.decimal_places
        return lambda value: ops.adapt_decimalfield_value(value, digits, places)
    return lambda value: field.get_db_prep_save(value, connection)


def rows_insert(model: type[models.Model], rows: list[dict[str, Any]]) -> int:
    """INSERT ``rows`` (values by field attname; a field left out takes its
    default, evaluated once) into ``model``'s table, as few statements as the database's
    parameter limit allows. No instances, no signals, no ids returned: read
    them back when they are needed. Returns the number of rows."""
    if not rows:
        return 0
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    names = [f.attname for f in fields]
    # A field with no default of its own: "" for text, None for the rest.
    defaults = {f.attname: f.get_default() for f in fields}
    adapters = [_adapter(f) for f in fields]
    values = []
    for row in rows:
        for name, adapt in zip(names, adapters, strict=True):
            value = row[name] if name in row else defaults[name]
            values.append(value if adapt is None or value is None else adapt(value))
    width = len(fields)
    limit = connection.features.max_query_params or 65535
    per_statement = max(1, min(2000, limit // width))
    table = connection.ops.quote_name(model._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    one = "(" + ", ".join(["%s"] * width) + ")"
    with connection.cursor() as cursor:
        for start in range(0, len(rows), per_statement):
            count = min(per_statement, len(rows) - start)
            # Names from the model's metadata; every value is a parameter.
            rows_sql = ", ".join([one] * count)
            sql = f"INSERT INTO {table} ({columns}) VALUES {rows_sql}"  # noqa: S608
            cursor.execute(sql, values[start * width : (start + count) * width])
    return len(rows)


@contextmanager
def collection_paused() -> Iterator[None]:
    """No garbage collection inside the block (it resumes after, if it was
    on). Reference counting still frees what the block lets go of; a cycle
    made inside waits for the next collection."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()
