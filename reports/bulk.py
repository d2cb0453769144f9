"""Many rows written, or a batch job run, without the per-object cost.

``rows_insert`` writes plain values: ``bulk_create`` builds a model instance
per row and prepares every value through its field, which for a month's
thousands of scorecard lines costs more than the database's own work. On
PostgreSQL the rows stream in by COPY: the driver parses a many-row INSERT's
placeholders in Python.
``instances`` reads model instances for the engine the same way: the rows'
values straight into each instance, and a related row that many share built
once.
``collection_paused`` keeps the garbage collector out of a batch job that
allocates many short-lived objects and frees them by reference counting.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from typing import Any, TypeVar

from django.db import connection, models, transaction
from django.db.models.base import ModelState
from django.db.models.constants import OnConflict
from django.db.models.signals import post_init, pre_init

from slaportal.freshness import written

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


def rows_insert(
    model: type[models.Model],
    rows: list[dict[str, Any]],
    *,
    ignore_conflicts: bool = False,
) -> int:
    """INSERT ``rows`` (values by field attname; a field left out takes its
    default, evaluated once) into ``model``'s table: by COPY on PostgreSQL,
    elsewhere in as few statements as the database's parameter limit
    allows. No instances, no signals, no ids
    returned: read them back when they are needed. With ``ignore_conflicts``
    a row that breaks a unique constraint is left out, as ``bulk_create``
    does. Returns the number of rows written."""
    if not rows:
        return 0
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    # Column by column: one comprehension per field rather than a Python
    # step per value. A field with no default of its own takes "" for text,
    # None for the rest.
    columns = []
    for field in fields:
        name, default = field.attname, field.get_default()
        column = [row.get(name, default) for row in rows]
        adapt = _adapter(field)
        if adapt is not None:
            column = [None if v is None else adapt(v) for v in column]
        columns.append(column)
    if connection.vendor == "postgresql":
        return _copy(
            model, fields, zip(*columns, strict=True), ignore_conflicts=ignore_conflicts
        )
    width = len(fields)
    values = [value for row in zip(*columns, strict=True) for value in row]
    limit = connection.features.max_query_params or 65535
    per_statement = max(1, min(2000, limit // width))
    ops = connection.ops
    on_conflict = OnConflict.IGNORE if ignore_conflicts else None
    insert = ops.insert_statement(on_conflict=on_conflict)
    suffix = ops.on_conflict_suffix_sql(fields, on_conflict, None, None)
    table = ops.quote_name(model._meta.db_table)
    names = ", ".join(ops.quote_name(f.column) for f in fields)
    one = "(" + ", ".join(["%s"] * width) + ")"
    written = 0
    with connection.cursor() as cursor:
        for start in range(0, len(rows), per_statement):
            count = min(per_statement, len(rows) - start)
            # Names from the model's metadata; every value is a parameter.
            rows_sql = ", ".join([one] * count)
            sql = f"{insert} {table} ({names}) VALUES {rows_sql} {suffix}"
            cursor.execute(sql, values[start * width : (start + count) * width])
            written += cursor.rowcount
    return written


def _copy(
    model: type[models.Model],
    fields: list[models.Field],
    rows: Iterable[Sequence[Any]],
    *,
    ignore_conflicts: bool,
) -> int:
    """PostgreSQL's COPY: the rows stream in without an INSERT statement of
    thousands of parameters for the driver to parse. With
    ``ignore_conflicts`` they go to a temporary table first, and from there
    into ``model``'s with ON CONFLICT DO NOTHING. Returns the number of rows
    written."""
    quote = connection.ops.quote_name
    table = model._meta.db_table
    columns = ", ".join(quote(f.column) for f in fields)
    target = quote(f"copy_{table}" if ignore_conflicts else table)
    # The temporary table lives as long as the transaction at most.
    atomic = transaction.atomic() if ignore_conflicts else nullcontext()
    with atomic, connection.cursor() as cursor:
        # Names from the model's metadata; every value streams as data.
        if ignore_conflicts:
            cursor.execute(
                f"CREATE TEMPORARY TABLE {target} AS "  # noqa: S608
                f"SELECT {columns} FROM {quote(table)} WITH NO DATA"
            )
        else:
            written(table)
        sql = f"COPY {target} ({columns}) FROM STDIN"
        started = time.monotonic()
        with cursor.cursor.copy(sql) as copy:
            for row in rows:
                copy.write_row(row)
        count = cursor.cursor.rowcount
        if connection.queries_logged:
            # As Django's debug cursor logs the statements it runs.
            duration = time.monotonic() - started
            connection.queries_log.append({"sql": sql, "time": f"{duration:.3f}"})
        if ignore_conflicts:
            cursor.execute(
                f"INSERT INTO {quote(table)} ({columns}) "  # noqa: S608
                f"SELECT {columns} FROM {target} ON CONFLICT DO NOTHING"
            )
            count = cursor.rowcount
            cursor.execute(f"DROP TABLE {target}")
    return count


M = TypeVar("M", bound=models.Model)


def instances(queryset: models.QuerySet[M], *related: str) -> list[M]:
    """The rows of ``queryset`` (every field, in its order) as the instances
    iterating it with ``select_related(*related)`` gives, in one query as
    that does, but each built from its row's values without
    ``Model.__init__`` (which sets every field through ``setattr`` and sends
    two signals), and each distinct related row (a foreign key, or a reverse
    one-to-one, named in ``related``) built once and shared by the rows that
    point to it: a thousand agreements between two hundred teams are two
    hundred teams, not two thousand. A model something listens to the creation of, or a
    queryset with annotations or deferred fields, is read the ordinary
    way."""
    model = queryset.model
    related_fields = [model._meta.get_field(name) for name in related]
    models_read = [model, *(field.related_model for field in related_fields)]
    query = queryset.query
    if (
        query.annotations
        or query.deferred_loading != (frozenset(), True)
        or any(
            signal.has_listeners(each)
            for each in models_read
            for signal in (pre_init, post_init)
        )
    ):
        return list(queryset.select_related(*related))
    own = [f.attname for f in model._meta.concrete_fields]
    columns = list(own)
    joins = []
    for name, field in zip(related, related_fields, strict=True):
        target = field.related_model
        names = [f.attname for f in target._meta.concrete_fields]
        key = names.index(target._meta.pk.attname)
        joins.append((field, target, names, len(columns), key))
        columns += [f"{name}__{column}" for column in names]
    db = queryset.db
    shared: dict[tuple[type, Any], models.Model] = {}
    result = []
    width = len(own)
    for row in queryset.values_list(*columns):
        instance = built(model, own, row[:width], db)
        for field, target, names, start, key in joins:
            values = row[start : start + len(names)]
            pk = values[key]
            other = None
            if pk is not None:
                other = shared.get((target, pk))
                if other is None:
                    other = shared[target, pk] = built(target, names, values, db)
            field.set_cached_value(instance, other)
        result.append(instance)
    return result


def built(model: type[M], names: Sequence[str], values: Sequence[Any], db: str) -> M:
    """An instance of ``model`` from the ``values`` of its fields ``names``
    (attnames), as ``Model.from_db`` leaves it."""
    instance = model.__new__(model)
    state = ModelState()
    state.adding = False
    state.db = db
    fields = instance.__dict__
    fields["_state"] = state
    fields.update(zip(names, values, strict=True))
    return instance


@contextmanager
def collection_paused(*, promote: bool = False) -> Iterator[None]:
    """No garbage collection inside the block (it resumes after, if it was
    on). Reference counting still frees what the block lets go of; a cycle
    made inside waits for the next collection.

    ``promote``, for a block that makes no cyclic garbage and returns a
    large result (a month's scorecards): the young generations are collected
    on the way in, and on the way out what the block made and kept moves to
    the oldest generation (``gc.freeze`` then ``gc.unfreeze``). The first
    young collection after the block would otherwise walk every object of
    its result only to find them alive. Inside another paused block it does
    neither: the outer block's garbage is not its to move.
    """
    was_on = gc.isenabled()
    promote = promote and was_on
    if promote:
        gc.collect(1)
    gc.disable()
    try:
        yield
    finally:
        if promote:
            gc.freeze()
            gc.unfreeze()
        if was_on:
            gc.enable()
