"""Benchmarks: a synthetic organisation, timed against a raw-SQL floor.

    make bench                          # SQLite, the default organisation
    DATABASE_URL=postgres://... make bench
    make bench BENCH_ARGS="--agreements 200 --months 12 --write docs/benchmarks.md"

The organisation lives in its own database: ``var/benchmark.sqlite3``, or on
PostgreSQL the database named in DATABASE_URL with ``_bench`` appended (created
when missing). It is generated once and reused while its size matches.

Prints, in one run: the time to finalise one month for every agreement, the
time of one raw SQL aggregate over the same submission rows (the floor) and
their ratio, the dashboard's server time and query count, and peak memory.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import sys
import time
import tracemalloc
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def bench_database_url() -> str:
    url = os.environ.get("DATABASE_URL", "")
    if not url or url.startswith("sqlite"):
        (ROOT / "var").mkdir(exist_ok=True)
        return f"sqlite:///{ROOT / 'var' / 'benchmark.sqlite3'}"
    parts = urlsplit(url)
    name = parts.path.lstrip("/") or "slaportal"
    if not name.endswith("_bench"):
        name += "_bench"
    bench = urlunsplit(parts._replace(path=f"/{name}"))
    _create_postgres_database(url, name)
    return bench


def _create_postgres_database(url: str, name: str) -> None:
    import psycopg

    parts = urlsplit(url)
    admin = urlunsplit(parts._replace(path="/postgres", scheme="postgresql"))
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [name]
        ).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


def timed(fn, repeat: int) -> tuple[float, object]:
    """Median wall time in seconds over ``repeat`` runs, and the last result."""
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


FLOOR_SQL = """
SELECT 1, team_id, SUM(leads_delivered), SUM(qualified_leads), MIN(created_at)
  FROM agreements_leadlogentry WHERE month = %(month)s GROUP BY team_id
UNION ALL
SELECT 2, team_id, COUNT(*), 0, MIN(created_at)
  FROM agreements_closedcustomer WHERE month = %(month)s GROUP BY team_id
UNION ALL
SELECT 3, reporting_team_id, COUNT(*), addressed_team_id, MIN(created_at)
  FROM agreements_frictionreport WHERE month = %(month)s
  GROUP BY reporting_team_id, addressed_team_id
UNION ALL
SELECT 4, objective_id, value, 0, created_at
  FROM agreements_measurement WHERE month = %(month)s
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--teams", type=int, default=200)
    parser.add_argument("--agreements", type=int, default=1000)
    parser.add_argument("--objectives", type=int, default=5)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--write", metavar="FILE", help="Also append the results to this file."
    )
    args = parser.parse_args()

    os.environ["DATABASE_URL"] = bench_database_url()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "slaportal.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import NoReverseMatch, reverse

    from agreements import periods
    from agreements.models import Agreement, Objective, Team
    from reports.selectors import scorecards_for_months
    from reports.services import scorecards_finalise

    settings.DEBUG = False  # no query log growing in memory while timing
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    engine = connection.vendor

    print(f"Database: {engine} ({settings.DATABASES['default']['NAME']})")
    call_command("migrate", verbosity=0)
    have = (Team.objects.count(), Agreement.objects.count())
    if have != (args.teams, args.agreements):
        print(
            f"Generating {args.teams} teams, {args.agreements} agreements, "
            f"{args.months} months ..."
        )
        call_command(
            "generate_org",
            teams=args.teams,
            agreements=args.agreements,
            objectives=args.objectives,
            months=args.months,
            replace=True,
        )
    else:
        print("Reusing the organisation already generated.")
    objectives = Objective.objects.count()
    month = periods.previous_month(periods.current_month())
    if not periods.is_locked(month):
        month = periods.previous_month(month)
    params = {"month": month}

    # As in production, the months before have been finalised by the monthly
    # job: the dashboard reads their stored scorecards. The measured month
    # itself is left unfinalised, so that finalising it does the full work.
    from reports.models import Breach, MonthTotals, Scorecard, ScorecardLine

    earlier = [periods.add_months(month, -n) for n in range(1, 12)]
    missing = [m for m in earlier if not Scorecard.objects.filter(month=m).exists()]
    if missing:
        print(f"Finalising the {len(missing)} months before {month:%Y-%m} (once) ...")
        for m in missing:
            scorecards_finalise(month=m)
    if Scorecard.objects.filter(month=month).exists():
        Breach.objects.filter(month=month).delete()
        ScorecardLine.objects.filter(scorecard__month=month).delete()
        Scorecard.objects.filter(month=month).delete()
        MonthTotals.objects.filter(month=month).delete()

    # Fresh statistics and no dead rows from earlier runs' rolled-back
    # writes, as autovacuum would leave a production database.
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if engine == "postgresql" else "ANALYZE")

    def floor() -> int:
        with connection.cursor() as cursor:
            cursor.execute(FLOOR_SQL, params)
            return len(cursor.fetchall())

    def compute() -> int:
        return len(scorecards_for_months([month])[month])

    def finalise():
        with transaction.atomic():
            if engine == "postgresql":
                # Foreign keys are checked at commit, which never comes here:
                # check them as each row is written, so that they are timed.
                with connection.cursor() as cursor:
                    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            report = scorecards_finalise(month=month)
            transaction.set_rollback(True)  # repeatable: leave nothing behind
        return report

    floor()  # warm the caches the same way for every measurement
    floor_s, rows = timed(floor, args.repeat)
    compute_s, cards = timed(compute, args.repeat)
    finalise_s, report = timed(finalise, max(1, args.repeat // 2))
    # Separately: tracing allocations slows Python down, so it is not timed.
    tracemalloc.start()
    with CaptureQueriesContext(connection) as ctx:
        finalise()
    finalise_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    finalise_queries = len(ctx.captured_queries)

    # How much of finalising is the database writing rows: the INSERT and
    # UPDATE statements alone, timed around the driver call, median of runs.
    def writes_of_one_run() -> tuple[float, int]:
        spent = []

        def timer(execute, sql, params, many, context):
            started = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                if sql.lstrip().upper().startswith(("INSERT", "UPDATE")):
                    spent.append(time.perf_counter() - started)

        with connection.execute_wrapper(timer):
            finalise()
        return sum(spent), len(spent)

    write_runs = [writes_of_one_run() for _ in range(max(1, args.repeat // 2))]
    writes_s = statistics.median(w for w, _ in write_runs)
    write_statements = write_runs[-1][1]

    # The dashboard as a VP sees it the morning after the month-end job: the
    # measured month finalised too (the next run deletes it again).
    scorecards_finalise(month=month)

    dashboard = "not available"
    try:
        url = reverse("reports:dashboard")
    except NoReverseMatch:
        url = None
    if url:
        from django.contrib.auth import get_user_model

        viewer, _ = get_user_model().objects.get_or_create(
            username="bench-executive",
            defaults={"is_superuser": True, "is_staff": True},
        )
        client = Client(raise_request_exception=True)
        client.force_login(viewer)
        client.get(url)  # warm up
        dashboard_s, response = timed(lambda: client.get(url), args.repeat)
        with CaptureQueriesContext(connection) as ctx:
            client.get(url)
        dashboard = (
            f"{dashboard_s * 1000:.0f} ms, {len(ctx.captured_queries)} queries "
            f"(HTTP {response.status_code}, {len(response.content) // 1024} KiB)"
        )

    peak_rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rows_out = [
        (
            "organisation",
            f"{args.teams} teams, {cards} agreements in force, "
            f"{objectives:,} objectives, {args.months} months of figures",
        ),
        ("month finalised", f"{month:%Y-%m}"),
        ("raw SQL floor (one aggregate)", f"{floor_s * 1000:.1f} ms ({rows:,} rows)"),
        (
            "compute scorecards (read + score)",
            f"{compute_s * 1000:.1f} ms = {compute_s / floor_s:.1f}x floor",
        ),
        (
            "finalise month (compute + write + history)",
            f"{finalise_s * 1000:.1f} ms "
            f"= {finalise_s / floor_s:.1f}x floor, {finalise_queries} queries, "
            f"{report.created} scorecards, {report.breaches_opened} breaches",
        ),
        (
            "of which writing rows (INSERT/UPDATE statements)",
            f"{writes_s * 1000:.1f} ms = {writes_s / floor_s:.1f}x floor, "
            f"{write_statements} statements",
        ),
        ("dashboard (server time)", dashboard),
        ("peak Python memory while finalising", f"{finalise_peak / 2**20:.1f} MiB"),
        ("peak process memory (RSS)", f"{peak_rss_mib:.0f} MiB"),
    ]
    width = max(len(k) for k, _ in rows_out)
    print()
    for key, value in rows_out:
        print(f"{key:<{width}}  {value}")

    if args.write:
        command = 'make bench BENCH_ARGS="' + " ".join(sys.argv[1:]) + '"'
        if engine == "postgresql":
            command = "DATABASE_URL=postgres://... " + command
        with open(args.write, "a", encoding="utf-8") as out:
            out.write(
                f"\n### {engine}, {time.strftime('%Y-%m-%d')}\n\n"
                f"`{command}` on {platform.machine()}, Python "
                f"{platform.python_version()}, {os.cpu_count()} cores\n\n"
                "| measure | result |\n|---|---|\n"
            )
            for key, value in rows_out:
                out.write(f"| {key} | {value} |\n")
        print(f"\nAppended to {args.write}")


if __name__ == "__main__":
    main()
