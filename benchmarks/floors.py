"""The floors: a month's scorecards computed, and finalised, in plain SQL.

``compute``: one SELECT that yields every scorecard line of the month (per
objective: target, actual, attainment, status, reported on time) with its
card (per agreement: status, weighted score, objectives met, reported on
time), for the versions in force, rounded as the app stores them.

``finalise``: the same SELECT into a temporary table, then one INSERT ...
SELECT per table: scorecards, lines and breaches, each followed by its
history rows, and, when the app tells people of the month's breaches, the
notification of each breach to its provider's head and lead. What
``reports.services.scorecards_finalise`` writes for a month with no
scorecards yet, minus the month's totals (one row, which the floor does not
write: the app's figure includes it).

Both are checked row for row against the app before they are timed
(``check_compute``, ``check_finalise``); the rules they reproduce live in
``reports.scoring``, ``reports.selectors.engine`` and ``in_force_q``.
"""

# The SQL here is built from the models' table and column names, never from
# input; every value is a bound parameter.
# ruff: noqa: S608

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.urls import reverse

from agreements import periods
from agreements.figures.kinds import KINDS
from agreements.models import Agreement, Objective
from reports.models import Breach, Notification, Scorecard, ScorecardLine
from reports.notifications.notices import HEADS, LEADS, URL_SLOT

Source = Objective.Source
TEMP = "bench_month"
# Columns of the compute SELECT, in order.
COLUMNS = (
    "agreement_id",
    "objective_id",
    "target",
    "actual",
    "attainment",
    "status",
    "on_time",
    "card_status",
    "score",
    "met_count",
    "objective_count",
    "card_on_time",
)
TEMP_TYPES = (
    "bigint",
    "bigint",
    "numeric(12, 2)",
    "numeric(14, 2)",
    "numeric(8, 1)",
    "varchar(10)",
    "boolean",
    "varchar(10)",
    "numeric(6, 1)",
    "integer",
    "integer",
    "boolean",
)


def params(month: datetime.date, now: datetime.datetime) -> dict[str, Any]:
    """The month's bounds and deadline as the database stores them."""
    ops = connection.ops
    labels = {f"remedy_{r.value}": r.label for r in Agreement.Remedy}
    url_head, url_tail = reverse("reports:breach", args=[URL_SLOT]).split(str(URL_SLOT))
    return {
        "month_label": periods.month_label(month),
        "url_head": url_head,
        "url_tail": url_tail,
        "month": ops.adapt_datefield_value(month),
        "next_month": ops.adapt_datefield_value(periods.next_month(month)),
        "month_start": ops.adapt_datetimefield_value(periods.month_start(month)),
        "deadline": ops.adapt_datetimefield_value(periods.deadline(month)),
        "now": ops.adapt_datetimefield_value(now),
        **labels,
    }


def _aggregate_sql(aggregate, model) -> str:
    """A registry aggregate (``Sum("field")``, ``Count("pk")``) as SQL."""
    name = type(aggregate).__name__
    (expression,) = aggregate.source_expressions
    field = model._meta.pk if expression.name == "pk" else None
    field = field or model._meta.get_field(expression.name)
    if name == "Count":
        return "COUNT(*)" if field.primary_key else f"COUNT({field.column})"
    if name in ("Sum", "Min", "Max"):
        return f"{name.upper()}({field.column})"
    raise ValueError(f"The SQL floor does not know the aggregate {aggregate!r}")


def _kinds() -> tuple[list[str], list[str], list[str], list[str]]:
    """Per figure kind of the registry: a CTE of its totals per team, its
    join, and each metric source's actual and first row."""
    ctes, joins, actual, first = [], [], [], []
    for n, kind in enumerate(KINDS.values()):
        model = kind.model
        team = model._meta.get_field("team").column
        alias = f"k{n}"
        totals = ", ".join(
            f"{_aggregate_sql(agg, model)} AS m_{source}"
            for source, agg in kind.metrics.items()
        )
        ctes.append(
            f"{alias} AS (SELECT {team} AS team_id, {totals}, "
            f"MIN(created_at) AS first_at FROM {model._meta.db_table} "
            f"WHERE month = %(month)s GROUP BY {team})"
        )
        joins.append(f"LEFT JOIN {alias} ON {alias}.team_id = v.provider_id")
        for source in kind.metrics:
            actual.append(f"WHEN '{source}' THEN COALESCE({alias}.m_{source}, 0)")
            first.append(f"WHEN '{source}' THEN {alias}.first_at")
    return ctes, joins, actual, first


def compute_sql() -> str:
    """The compute SELECT.

    Attainments and scores are rounded to 12 places before the stored one:
    a third of a target times three is 62.5 exactly, which the app's
    28-digit decimals reach and PostgreSQL's shorter quotient (or a float)
    leaves at 62.4999…, one tenth lower once rounded half up.
    """
    ctes, joins, actual, first = _kinds()
    friction, measurement = "agreements_frictionreport", "agreements_measurement"
    ctes_sql = ",\n".join(ctes)
    joins_sql = "\n  ".join(joins)
    return f"""
WITH versions AS (
  SELECT a.id, a.provider_id, a.consumer_id,
    ROW_NUMBER() OVER (PARTITION BY a.lineage ORDER BY a.version DESC) AS newest
  FROM agreements_agreement a
  WHERE (a.status = 'active'
         OR (a.status = 'retired' AND a.retired_at >= %(month_start)s))
    AND (a.activated_at IS NULL OR a.activated_at < %(deadline)s)
    AND a.effective_from < %(next_month)s
    AND (a.effective_to IS NULL OR a.effective_to >= %(month)s)
),
{ctes_sql},
friction AS (
  SELECT reporting_team_id, addressed_team_id, COUNT(*) AS n,
    MIN(created_at) AS first_at
  FROM {friction} WHERE month = %(month)s
  GROUP BY reporting_team_id, addressed_team_id
),
figures AS (
  SELECT v.id AS agreement_id, o.id AS objective_id, o.comparator, o.target,
    o.weight, o.warning_threshold,
    CASE o.metric_source {" ".join(actual)}
      WHEN '{Source.FRICTION_REPORTS}' THEN COALESCE(f.n, 0)
      ELSE m.value END AS actual,
    CASE o.metric_source {" ".join(first)}
      WHEN '{Source.FRICTION_REPORTS}' THEN f.first_at
      ELSE m.created_at END AS first_at
  FROM versions v
  LEFT JOIN agreements_objective o ON o.agreement_id = v.id
  {joins_sql}
  LEFT JOIN friction f
    ON f.reporting_team_id = v.provider_id AND f.addressed_team_id = v.consumer_id
  LEFT JOIN {measurement} m ON m.objective_id = o.id AND m.month = %(month)s
    AND o.metric_source = '{Source.MANUAL}'
  WHERE v.newest = 1
),
judged AS (
  SELECT agreement_id, objective_id, target, weight, actual,
    CASE WHEN actual IS NULL THEN NULL
      WHEN comparator = 'at_most' THEN
        CASE WHEN actual <= 0 THEN 100 ELSE target * 100.0 / actual END
      ELSE actual * 100.0 / target END AS attainment,
    CASE WHEN objective_id IS NULL THEN NULL
      WHEN actual IS NULL THEN 'no_data'
      WHEN comparator = 'at_most' THEN
        CASE WHEN actual > target THEN 'missed'
          WHEN warning_threshold IS NOT NULL AND actual > warning_threshold
            THEN 'close_call'
          ELSE 'met' END
      ELSE
        CASE WHEN actual < target THEN 'missed'
          WHEN warning_threshold IS NOT NULL AND actual < warning_threshold
            THEN 'close_call'
          ELSE 'met' END
    END AS status,
    CASE WHEN objective_id IS NULL THEN NULL
      WHEN first_at IS NOT NULL AND first_at <= %(deadline)s THEN 1
      ELSE 0 END AS on_time
  FROM figures
),
cards AS (
  SELECT agreement_id,
    CASE MAX(CASE status WHEN 'missed' THEN 4 WHEN 'no_data' THEN 3
                         WHEN 'close_call' THEN 2 WHEN 'met' THEN 1 ELSE 3 END)
      WHEN 4 THEN 'missed' WHEN 2 THEN 'close_call' WHEN 1 THEN 'met'
      ELSE 'no_data' END AS status,
    ROUND(ROUND(SUM(weight * CASE WHEN attainment IS NULL THEN 0
                                  WHEN attainment > 100 THEN 100
                                  ELSE attainment END) / SUM(weight), 12), 1)
      AS score,
    SUM(CASE WHEN status IN ('met', 'close_call') THEN 1 ELSE 0 END) AS met_count,
    COUNT(objective_id) AS objective_count,
    COALESCE(MIN(on_time), 1) = 1 AS on_time
  FROM judged GROUP BY agreement_id
)
SELECT j.agreement_id, j.objective_id, ROUND(j.target, 2), ROUND(j.actual, 2),
  ROUND(ROUND(j.attainment, 12), 1), j.status, j.on_time = 1, c.status, c.score,
  c.met_count, c.objective_count, c.on_time
FROM judged j JOIN cards c ON c.agreement_id = j.agreement_id
"""


def compute(p: dict) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(compute_sql(), p)
        return cursor.fetchall()


# --- finalise --------------------------------------------------------------


def _history_sql(model, where: str, reason: str) -> str:
    """Copy the month's rows of ``model`` into its history table."""
    history = model.history.model
    columns, values = [], []
    constants = {
        "history_date": "%(now)s",
        "history_type": "'+'",
        "history_change_reason": f"'{reason}'",
        "history_user": "NULL",
    }
    for field in history._meta.concrete_fields:
        if field.name == "history_id":
            continue
        columns.append(field.column)
        values.append(constants.get(field.name, f"t.{field.column}"))
    return (
        f"INSERT INTO {history._meta.db_table} ({', '.join(columns)}) "
        f"SELECT {', '.join(values)} FROM {model._meta.db_table} t {where}"
    )


def _remedy_sql() -> str:
    """``Agreement.remedy_text`` and the clause, as ``_remedy_for`` joins
    them. A credit's amount is written as the database prints it, not
    ``normalize()``d with thousands separators: the generated organisation
    has no credit remedies, and the check would show any difference."""
    clause = "TRIM(a.compensation_clause)"
    unit = (
        "CASE WHEN a.remedy_credit_unit <> '' "
        "THEN ' ' || a.remedy_credit_unit ELSE '' END"
    )
    credit = (
        "'Internal credit of ' || COALESCE(CAST(a.remedy_credit AS TEXT), '') "
        f"|| {unit} || ' per miss'"
    )
    labelled = " ".join(
        f"WHEN '{r.value}' THEN %(remedy_{r.value})s || '. ' || {clause}"
        for r in Agreement.Remedy
        if r not in (Agreement.Remedy.NONE, Agreement.Remedy.CREDIT)
    )
    return (
        f"CASE a.remedy {labelled} "
        f"WHEN '{Agreement.Remedy.CREDIT}' THEN {credit} || '. ' || {clause} "
        f"ELSE {clause} END"
    )


def _clip_sql(text: str, length: int) -> str:
    """``notifications.events.clip`` for text without runs of whitespace
    (the check shows any that has them)."""
    return (
        f"CASE WHEN LENGTH({text}) <= {length} THEN {text} "
        f"ELSE RTRIM(SUBSTR({text}, 1, {length - 1})) || '…' END"
    )


def _ranks_sql(roles: tuple[str, ...]) -> str:
    whens = " ".join(f"WHEN '{role}' THEN {n}" for n, role in enumerate(roles))
    return f"CASE m.role {whens} END"


def notifications_sql() -> str:
    """Each of the month's breaches told to its provider's head (``HEADS``:
    heads, else managers) and lead (``LEADS``: leads, else managers, else
    heads), active people each once: what ``notices.breaches_opened`` writes
    at the month's close, when the month-end emails carry the notice."""
    leading = ", ".join(f"'{role}'" for role in dict.fromkeys(HEADS + LEADS))
    text = (
        "'Breach: “' || o.name || '” of “' || a.title || '” (' || p.name "
        "|| ' → ' || c.name || ') was missed in ' || %(month_label)s || '. ' "
        f"|| p.name || ' owes: ' || {_clip_sql('b.remedy', 200)}"
    )
    columns = (
        "recipient_id, event, key, text, url, email, created_at, read_at, "
        "agreement_id, breach_id, friction_report_id"
    )
    # WITH ... INSERT: the one form both PostgreSQL and SQLite take.
    return f"""
WITH ranked AS (
  SELECT m.team_id, m.user_id, {_ranks_sql(HEADS)} AS head_rank,
    {_ranks_sql(LEADS)} AS lead_rank
  FROM agreements_membership m JOIN auth_user u ON u.id = m.user_id
  WHERE u.is_active AND m.role IN ({leading})
),
firsts AS (
  SELECT team_id, MIN(head_rank) AS head_rank, MIN(lead_rank) AS lead_rank
  FROM ranked GROUP BY team_id
),
told AS (
  SELECT DISTINCT r.team_id, r.user_id FROM ranked r
  JOIN firsts f ON f.team_id = r.team_id
  WHERE r.head_rank = f.head_rank OR r.lead_rank = f.lead_rank
),
notices AS (
  SELECT b.id, a.provider_id, {text} AS text
  FROM {Breach._meta.db_table} b
  JOIN {ScorecardLine._meta.db_table} l ON l.id = b.line_id
  JOIN agreements_objective o ON o.id = l.objective_id
  JOIN agreements_agreement a ON a.id = b.agreement_id
  JOIN agreements_team p ON p.id = a.provider_id
  JOIN agreements_team c ON c.id = a.consumer_id
  WHERE b.month = %(month)s
)
INSERT INTO {Notification._meta.db_table} ({columns})
SELECT t.user_id, '{Notification.Event.BREACH_OPENED}',
  'breach-' || CAST(n.id AS TEXT) || '-opened', {_clip_sql("n.text", 400)},
  %(url_head)s || CAST(n.id AS TEXT) || %(url_tail)s,
  '{Notification.Email.NONE}', %(now)s, NULL, NULL, n.id, NULL
FROM notices n JOIN told t ON t.team_id = n.provider_id
WHERE true
ON CONFLICT DO NOTHING
"""


def finalise_statements(*, notify: bool = False) -> list[str]:
    """The floor's statements; with ``notify`` the breaches' notifications
    too."""
    columns = ", ".join(f"{c} {t}" for c, t in zip(COLUMNS, TEMP_TYPES, strict=True))
    sc, line, breach = (m._meta.db_table for m in (Scorecard, ScorecardLine, Breach))
    of_card = f"JOIN {sc} s ON s.id = t.scorecard_id"
    month_cards = f"{of_card} WHERE s.month = %(month)s"
    return [
        f"CREATE TEMPORARY TABLE {TEMP} ({columns})",
        # WITH ... INSERT: the one form both PostgreSQL and SQLite take.
        compute_sql().replace(
            "\nSELECT j.agreement_id",
            f"\nINSERT INTO {TEMP} ({', '.join(COLUMNS)})\nSELECT j.agreement_id",
            1,
        ),
        f"INSERT INTO {sc} (agreement_id, month, status, score, met_count, "
        "objective_count, reported_on_time, finalised_at) "
        "SELECT DISTINCT agreement_id, %(month)s, card_status, score, met_count, "
        f"objective_count, card_on_time, %(now)s FROM {TEMP}",
        _history_sql(Scorecard, "WHERE t.month = %(month)s", "finalised"),
        f"INSERT INTO {line} (scorecard_id, objective_id, target, actual, "
        "attainment, status, reported_on_time) "
        "SELECT s.id, b.objective_id, b.target, b.actual, b.attainment, b.status, "
        f"b.on_time FROM {TEMP} b JOIN {sc} s ON s.agreement_id = b.agreement_id "
        "AND s.month = %(month)s WHERE b.objective_id IS NOT NULL",
        _history_sql(ScorecardLine, month_cards, "finalised"),
        f"INSERT INTO {breach} (line_id, agreement_id, month, remedy, status, "
        "opened_at, acknowledged_by_id, acknowledged_at, resolved_by_id, "
        "resolved_at, note) "
        f"SELECT t.id, s.agreement_id, s.month, {_remedy_sql()}, 'open', %(now)s, "
        f"NULL, NULL, NULL, NULL, '' FROM {line} t {of_card} "
        "JOIN agreements_agreement a ON a.id = s.agreement_id "
        "WHERE s.month = %(month)s AND t.status = 'missed'",
        _history_sql(Breach, "WHERE t.month = %(month)s", "opened"),
        *([notifications_sql()] if notify else []),
    ]


def finalise(p: dict, statements: list[str]) -> None:
    """The statements, in the caller's transaction."""
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql, p if "%(" in sql else None)


# --- checks ----------------------------------------------------------------


def _number(value, places: str | None = None):
    if value is None:
        return None
    value = Decimal(str(value))
    return value.quantize(Decimal(places)) if places else value.normalize()


def app_rows(cards) -> tuple[dict, dict]:
    """The app's computed month as the database would store it."""
    from reports.services import _card_values, _line_values

    by_card, by_line = {}, {}
    for card in cards:
        v = _card_values(card)
        by_card[card.agreement.pk] = (
            v["status"],
            _number(v["score"], "0.1"),
            v["met_count"],
            v["objective_count"],
            bool(v["reported_on_time"]),
        )
        for line in card.lines:
            lv = _line_values(line)
            by_line[(card.agreement.pk, line.objective.pk)] = (
                _number(lv["target"], "0.01"),
                _number(lv["actual"], "0.01"),
                _number(lv["attainment"], "0.1"),
                lv["status"],
                bool(lv["reported_on_time"]),
            )
    return by_card, by_line


def floor_rows(rows: list[tuple]) -> tuple[dict, dict]:
    by_card, by_line = {}, {}
    for row in rows:
        agreement, objective, target, actual, attain, status, on_time = row[:7]
        card_status, score, met, count, card_on_time = row[7:]
        by_card[agreement] = (
            card_status,
            _number(score, "0.1"),
            int(met),
            int(count),
            bool(card_on_time),
        )
        if objective is not None:
            by_line[(agreement, objective)] = (
                _number(target, "0.01"),
                _number(actual, "0.01"),
                _number(attain, "0.1"),
                status,
                bool(on_time),
            )
    return by_card, by_line


def differences(app: dict, floor: dict, what: str, limit: int = 10) -> list[str]:
    out = []
    for key in sorted(set(app) | set(floor), key=str):
        if app.get(key) != floor.get(key):
            out.append(f"{what} {key}: app {app.get(key)} != SQL {floor.get(key)}")
    return out[:limit] + ([f"... {len(out) - limit} more"] if len(out) > limit else [])


def check_compute(cards, rows) -> list[str]:
    app_cards, app_lines = app_rows(cards)
    sql_cards, sql_lines = floor_rows(rows)
    return differences(app_cards, sql_cards, "card") + differences(
        app_lines, sql_lines, "line"
    )


# Ids and the moments rows were written differ between two runs.
SKIPPED = {
    "id",
    "history_id",
    "history_date",
    "finalised_at",
    "opened_at",
    "created_at",
}


def written(month: datetime.date) -> dict[str, list[tuple]]:
    """The rows finalising ``month`` wrote, ids replaced by natural keys."""
    p = {"month": connection.ops.adapt_datefield_value(month)}
    sc, line = Scorecard._meta.db_table, ScorecardLine._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT s.id, s.agreement_id FROM {sc} s WHERE s.month = %(month)s", p
        )
        card_key = dict(cursor.fetchall())
        cursor.execute(
            f"SELECT l.id, s.agreement_id, l.objective_id FROM {line} l "
            f"JOIN {sc} s ON s.id = l.scorecard_id WHERE s.month = %(month)s",
            p,
        )
        line_key = {pk: (a, o) for pk, a, o in cursor.fetchall()}
        tables = {}
        for model in (Scorecard, ScorecardLine, Breach):
            for m in (model, model.history.model):
                table = m._meta.db_table
                where = "WHERE t.month = %(month)s"
                if model is ScorecardLine:
                    where = f"JOIN {sc} s ON s.id = t.scorecard_id {where}"
                    where = where.replace("t.month", "s.month")
                cursor.execute(f"SELECT t.* FROM {table} t {where}", p)
                names = [c[0] for c in cursor.description]
                rows = []
                for row in cursor.fetchall():
                    values = []
                    for name, value in zip(names, row, strict=True):
                        if name in SKIPPED:
                            continue
                        if name == "scorecard_id":
                            value = card_key.get(value)
                        elif name == "line_id":
                            value = line_key.get(value)
                        elif isinstance(value, (Decimal, float)):
                            value = _number(value)
                        elif isinstance(value, int) and name == "reported_on_time":
                            value = bool(value)
                        values.append((name, value))
                    rows.append(tuple(values))
                tables[table] = sorted(rows, key=str)
        tables[Notification._meta.db_table] = _notifications_written(
            cursor, p, line_key
        )
    return tables


def _notifications_written(cursor, p: dict, line_key: dict) -> list[tuple]:
    """The notifications of ``month``'s breaches, each breach named by its
    line's natural key, in its id's place in the key and address too."""
    breach = Breach._meta.db_table
    cursor.execute(f"SELECT id, line_id FROM {breach} WHERE month = %(month)s", p)
    breach_key = {pk: line_key.get(line_id) for pk, line_id in cursor.fetchall()}
    cursor.execute(
        f"SELECT n.* FROM {Notification._meta.db_table} n "
        f"JOIN {breach} b ON b.id = n.breach_id WHERE b.month = %(month)s",
        p,
    )
    names = [c[0] for c in cursor.description]
    rows = []
    for row in cursor.fetchall():
        values = dict(zip(names, row, strict=True))
        pk = values["breach_id"]
        values["breach_id"] = breach_key.get(pk)
        for name in ("key", "url"):
            values[name] = values[name].replace(str(pk), "{breach}")
        rows.append(tuple((k, v) for k, v in values.items() if k not in SKIPPED))
    return sorted(rows, key=str)


def check_finalise(app: dict, floor: dict) -> list[str]:
    out = []
    for table in app:
        a, f = app[table], floor.get(table, [])
        if a != f:
            missing = [r for r in a if r not in f][:3]
            extra = [r for r in f if r not in a][:3]
            out.append(
                f"{table}: app wrote {len(a)} rows, SQL {len(f)}; "
                f"only in app: {missing}; only in SQL: {extra}"
            )
    return out


def in_transaction(fn, *, immediate: bool):
    """Run ``fn`` in a transaction that is rolled back, and return its result."""
    with transaction.atomic():
        if immediate:
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        result = fn()
        transaction.set_rollback(True)
    return result
