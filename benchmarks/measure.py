"""One size of organisation in its own database: the floors checked against
the app, then timed against it in alternating rounds, then the dashboard.

Run by ``benchmarks/run.py``, one process per size (each its own database
and Django setup); writes its results as JSON to ``--out``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import org


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--teams", type=int, required=True)
    parser.add_argument("--agreements", type=int, required=True)
    parser.add_argument("--objectives", type=int, default=5)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()

    url = org.database_url(args.teams, args.agreements)
    org.setup_django(url)
    from django.conf import settings
    from django.db import connection
    from django.utils import timezone

    from agreements.models import Objective
    from benchmarks import floors
    from reports.models import Notification
    from reports.notifications.jobs import _refresh_statistics
    from reports.selectors import scorecards_for_months
    from reports.services import scorecards_finalise

    settings.DEBUG = False  # no query log growing in memory while timing
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    engine = connection.vendor
    say = _say(args)
    month = org.prepare(
        teams=args.teams,
        agreements=args.agreements,
        objectives=args.objectives,
        months=args.months,
        say=say,
    )
    org.vacuum()
    now = timezone.now()
    p = floors.params(month, now)
    immediate = engine == "postgresql"

    # 1. The floors must give the app's rows, or they are no floors.
    cards = scorecards_for_months([month], now=now)[month]
    rows = floors.compute(p)
    problems = floors.check_compute(cards, rows)
    app_written = floors.in_transaction(
        lambda: (scorecards_finalise(month=month, now=now), floors.written(month))[1],
        immediate=immediate,
    )
    # The floor tells people of the breaches when the app does.
    notified = bool(app_written[Notification._meta.db_table])
    statements = floors.finalise_statements(notify=notified)
    sql_written = floors.in_transaction(
        lambda: (floors.finalise(p, statements), floors.written(month))[1],
        immediate=immediate,
    )
    problems += floors.check_finalise(app_written, sql_written)
    if problems:
        print("The SQL floors disagree with the app:", file=sys.stderr)
        for problem in problems:
            print(f"  {problem}", file=sys.stderr)
        sys.exit(1)
    written_rows = {table: len(r) for table, r in app_written.items()}
    say(f"Floors checked: {len(cards)} cards, {sum(written_rows.values())} rows")

    # 2. Alternating rounds: floor, app, floor, app in one window, so that
    # whatever else the machine does weighs on both alike.
    measures = {
        "compute_floor": lambda: floors.compute(p),
        "compute": lambda: scorecards_for_months([month], now=now),
        "finalise_floor": lambda: floors.in_transaction(
            lambda: floors.finalise(p, statements), immediate=immediate
        ),
        "finalise": lambda: floors.in_transaction(
            lambda: scorecards_finalise(month=month, now=now), immediate=immediate
        ),
    }
    for fn in measures.values():  # warm up: caches, statistics, imports
        fn()
    times: dict[str, list[float]] = {name: [] for name in measures}
    for n in range(args.rounds):
        for name, fn in measures.items():
            started = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - started)
        say(
            f"round {n + 1}/{args.rounds}: "
            + ", ".join(f"{k} {v[-1] * 1000:.0f} ms" for k, v in times.items())
        )

    # 3. The dashboard as an executive sees it the morning after the month
    # end: the measured month finalised (the next run deletes it again).
    # As the month close does after its commit: the planner is told of the
    # month's new rows before anything reads them.
    report = scorecards_finalise(month=month, now=now)
    _refresh_statistics()
    dashboard = _dashboard(args.rounds)
    org.reset_month(month)

    result = {
        "engine": engine,
        "database": str(settings.DATABASES["default"]["NAME"]),
        "teams": args.teams,
        "agreements": args.agreements,
        "months": args.months,
        "month": f"{month:%Y-%m}",
        "cards": len(cards),
        "objectives": Objective.objects.count(),
        "lines": sum(len(c.lines) for c in cards),
        "breaches": report.breaches_opened,
        "written": written_rows,
        "times": times,
        "medians": {k: statistics.median(v) for k, v in times.items()},
        "dashboard": dashboard,
    }
    Path(args.out).write_text(json.dumps(result, indent=1))


def _dashboard(rounds: int) -> dict:
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    viewer = get_user_model().objects.get(username="generated-executive")
    client = Client(raise_request_exception=True)
    client.force_login(viewer)
    url = reverse("reports:dashboard")
    client.get(url)  # warm up

    from slaportal import freshness

    def timed(*, kept: bool) -> float:
        if not kept:
            freshness.bump()  # as after any write: the page is built again
        started = time.perf_counter()
        client.get(url)
        return time.perf_counter() - started

    built, kept = [], []
    for _ in range(max(3, rounds)):
        built.append(timed(kept=False))
        kept.append(timed(kept=True))
    freshness.bump()
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    return {
        # The page built (the data moved on since it was last read), and
        # served as kept (nothing moved since).
        "seconds": statistics.median(built),
        "kept_seconds": statistics.median(kept),
        # The page's own: the benchmark's cache is a table of the database
        # (production's is Redis), whose reads and writes are not the page's.
        "queries": sum(
            1
            for q in ctx.captured_queries
            if "slaportal_cache" not in q["sql"]
            and not q["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))
        ),
        "status": response.status_code,
        "kib": len(response.content) // 1024,
    }


def _say(args):
    prefix = f"[{args.teams} teams, {args.agreements} agreements]"

    def say(text: str) -> None:
        print(f"{prefix} {text}", flush=True)

    return say


if __name__ == "__main__":
    main()
