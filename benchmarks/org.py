"""The benchmark organisation: its own database per size, generated once,
with the eleven months before the measured one finalised."""

# The SQL here is built from the models' table and column names, never from
# input; every value is a bound parameter.
# ruff: noqa: S608

from __future__ import annotations

import datetime
import os
import signal
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent


def database_url(teams: int, agreements: int, base: str | None = None) -> str:
    """``var/benchmark-<teams>-<agreements>.sqlite3``, or on PostgreSQL the
    database of ``base`` named ``<name>_bench_<teams>_<agreements>``
    (created when missing)."""
    base = base if base is not None else os.environ.get("DATABASE_URL", "")
    if not base or base.startswith("sqlite"):
        (ROOT / "var").mkdir(exist_ok=True)
        path = ROOT / "var" / f"benchmark-{teams}-{agreements}.sqlite3"
        return f"sqlite:///{path}"
    parts = urlsplit(base)
    name = f"{parts.path.lstrip('/') or 'slaportal'}_bench_{teams}_{agreements}"
    _create_postgres_database(base, name)
    return urlunsplit(parts._replace(path=f"/{name}"))


def _create_postgres_database(url: str, name: str, *, fresh: bool = False) -> None:
    """Create database ``name`` beside ``url``'s unless it is there (with
    ``fresh``, dropped and created again: an empty one)."""
    import psycopg

    parts = urlsplit(url)
    admin = urlunsplit(parts._replace(path="/postgres", scheme="postgresql"))
    with psycopg.connect(admin, autocommit=True) as conn:
        if fresh:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [name]
        ).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "slaportal.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def prepare(
    *, teams: int, agreements: int, objectives: int, months: int, say=print
) -> datetime.date:
    """Migrate, generate the organisation unless it is there, finalise the
    eleven months before the measured one (once), and return the measured
    month: the latest locked month, left without scorecards."""
    from django.core.management import call_command

    from agreements import periods
    from agreements.models import Agreement, Team
    from reports.models import Scorecard
    from reports.services import scorecards_finalise

    call_command("migrate", verbosity=0)
    if (Team.objects.count(), Agreement.objects.count()) != (teams, agreements):
        say(f"Generating {teams} teams, {agreements} agreements, {months} months ...")
        call_command(
            "generate_org",
            teams=teams,
            agreements=agreements,
            objectives=objectives,
            months=months,
            replace=True,
            stdout=open(os.devnull, "w"),  # noqa: SIM115
        )
    month = periods.previous_month(periods.current_month())
    if not periods.is_locked(month):
        month = periods.previous_month(month)
    # As in production, the months before have been finalised by the monthly
    # job: the dashboard reads their stored scorecards.
    earlier = [periods.add_months(month, -n) for n in range(1, 12)]
    missing = [m for m in earlier if not Scorecard.objects.filter(month=m).exists()]
    if missing:
        say(f"Finalising the {len(missing)} months before {month:%Y-%m} (once) ...")
        for m in missing:
            scorecards_finalise(month=m)
    reset_month(month)
    _analyze()
    return month


def _analyze() -> None:
    """Statistics for the planner, as autovacuum keeps them on a live
    database (it may be off on a benchmark machine)."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def reset_month(month: datetime.date) -> None:
    """Leave ``month`` as before its month end: no scorecards, lines,
    breaches, totals or history rows of them, no emails, notifications or
    channel posts of its breaches, no run."""
    from django.db import connection, transaction

    from reports.models import (
        Breach,
        ChannelDelivery,
        Delivery,
        MonthlyRun,
        MonthTotals,
        Notification,
        Scorecard,
        ScorecardLine,
    )

    sc = Scorecard._meta.db_table
    line_history = ScorecardLine.history.model._meta.db_table
    in_month = f"IN (SELECT id FROM {sc} WHERE month = %(month)s)"
    breaches = f"IN (SELECT id FROM {Breach._meta.db_table} WHERE month = %(month)s)"
    statements = [
        # What the month end told people of its breaches.
        f"DELETE FROM {Notification._meta.db_table} WHERE breach_id {breaches}",
        f"DELETE FROM {ChannelDelivery._meta.db_table} WHERE breach_id {breaches}",
        f"DELETE FROM {Breach.history.model._meta.db_table} WHERE month = %(month)s",
        f"DELETE FROM {Breach._meta.db_table} WHERE month = %(month)s",
        f"DELETE FROM {line_history} WHERE scorecard_id {in_month}",
        f"DELETE FROM {ScorecardLine._meta.db_table} WHERE scorecard_id {in_month}",
        f"DELETE FROM {Scorecard.history.model._meta.db_table} WHERE month = %(month)s",
        f"DELETE FROM {sc} WHERE month = %(month)s",
        f"DELETE FROM {MonthTotals._meta.db_table} WHERE month = %(month)s",
        f"DELETE FROM {Delivery._meta.db_table} WHERE month = %(month)s",
        f"DELETE FROM {MonthlyRun._meta.db_table} WHERE month = %(month)s",
    ]
    params = {"month": connection.ops.adapt_datefield_value(month)}
    with transaction.atomic(), connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql, params)
    from slaportal import freshness

    freshness.months_moved(None)


def vacuum() -> None:
    """Fresh statistics and no dead rows from earlier runs' rolled-back
    writes, as autovacuum would leave a production database."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE"
        )


def stop(process: subprocess.Popen | None) -> None:
    """Stop a child process (gunicorn, a worker, the sink): SIGTERM, then
    SIGKILL if it has not gone within 30 s."""
    if process is None or process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
