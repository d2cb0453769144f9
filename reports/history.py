"""History rows for many objects in one statement.

django-simple-history's ``bulk_create_with_history`` builds one historical
object per row in Python; for a month's thousands of scorecard lines that
doubles the cost of finalising. Here the database copies the rows itself:
``INSERT INTO <history> (...) SELECT ... FROM <table> WHERE ...``.
"""

from __future__ import annotations

import datetime

from django.db import connection, models
from django.db.models import Exists, OuterRef, Value


def history_snapshot(
    model: type[models.Model],
    queryset: models.QuerySet,
    *,
    reason: str,
    when: datetime.datetime,
    history_type: str = "+",
) -> int:
    """Write one history row for each row of ``queryset`` that has none yet.

    Returns the number of rows written. Rows that already have history are
    left alone, so calling it twice writes nothing the second time.
    """
    history = model.history.model
    copied, constants = [], {}
    for field in history._meta.concrete_fields:
        if field.primary_key:
            continue  # history_id: the database numbers it
        if field.attname == "history_date":
            constants[field.column] = Value(when, output_field=field)
        elif field.attname == "history_type":
            constants[field.column] = Value(history_type, output_field=field)
        elif field.attname == "history_change_reason":
            constants[field.column] = Value(reason, output_field=field)
        elif field.attname == "history_user_id":
            constants[field.column] = Value(None, output_field=field)
        else:
            copied.append(field)
    # No ORDER BY: a model's default ordering would join and sort for nothing.
    source = queryset.order_by().filter(
        ~Exists(history.objects.filter(id=OuterRef("pk")))
    )
    aliases = {f"_h_{column}": value for column, value in constants.items()}
    select = source.annotate(**aliases).values_list(
        *[f.attname for f in copied], *aliases
    )
    sql, params = select.query.sql_with_params()
    # values_list() selects model columns first, then annotations in the order
    # they were added: the column list below follows the same order.
    columns = [f.column for f in copied] + list(constants)
    quoted = ", ".join(connection.ops.quote_name(c) for c in columns)
    table = connection.ops.quote_name(history._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {table} ({quoted}) {sql}", params)
        return cursor.rowcount
