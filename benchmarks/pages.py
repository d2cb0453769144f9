"""What each page of the load test costs the server on its own: one process,
no network, no other request waiting, against the load test's organisation
as it stands before the month end (``benchmarks/loadtest.py``).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/slaportal \\
        .venv/bin/python benchmarks/pages.py [--scale 1] [--rounds 8]

Each page is asked for ``--rounds`` times through Django's test client with
production settings, and its median and lowest times printed. Kept pages
(``slaportal.freshness``) are built again for every request: the data stamp
moves before each, as after any write. The dashboard is timed twice more:
with every month's stamp moved before each request too (as after a change
whose months are not known, which makes the organisation's month before the
close be judged again), and kept, as between two writes.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import org
from benchmarks.load import production_env
from benchmarks.loadtest import AGREEMENTS, HOST, TEAMS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--rounds", type=int, default=8)
    args = parser.parse_args()
    base = os.environ.get("DATABASE_URL", "")
    if not base.startswith(("postgres://", "postgresql://")):
        raise SystemExit("Set DATABASE_URL to PostgreSQL, as for make loadtest.")
    teams = max(2, round(TEAMS * args.scale))
    agreements = max(1, round(AGREEMENTS * args.scale))
    parts = urlsplit(base)
    name = parts.path.lstrip("/") or "slaportal"
    url = org.database_url(
        teams, agreements, base=urlunsplit(parts._replace(path=f"/{name}_load"))
    )
    # The load test's server settings: production, on loopback without TLS.
    os.environ.update(production_env(url))
    os.environ["SLA_LOOPBACK_WITHOUT_TLS"] = "true"
    os.environ["LOG_LEVEL"] = "ERROR"
    org.setup_django(url)
    org.prepare(teams=teams, agreements=agreements, objectives=5, months=24)

    from django.contrib.auth import get_user_model
    from django.test import Client

    from agreements.models import Agreement, Membership
    from benchmarks.loadtest import _month_to_close
    from slaportal import freshness

    month = _month_to_close()  # left as before its month end
    executive = get_user_model().objects.get(username="generated-executive")
    lead = (
        Membership.objects.filter(role=Membership.Role.LEAD)
        .select_related("user", "team")
        .order_by("team__slug")
        .first()
    )
    if lead is None:
        raise SystemExit("The organisation has no team lead.")
    reader, logger = Client(HTTP_HOST=HOST), Client(HTTP_HOST=HOST)
    reader.force_login(executive)
    logger.force_login(lead.user)
    agreement = Agreement.objects.signed().order_by("pk").first()
    team = lead.team.slug

    def timed(label: str, client: Client, path: str, before=freshness.bump) -> None:
        client.get(path)  # warm: templates, the first connection
        times = []
        for _ in range(args.rounds):
            before()
            started = time.perf_counter()
            response = client.get(path)
            times.append((time.perf_counter() - started) * 1000)
            if response.status_code != 200:
                raise SystemExit(f"{path} answered {response.status_code}")
        print(
            f"| {label} | {statistics.median(times):,.0f} ms | {min(times):,.0f} ms |"
        )

    def every_month_moved() -> None:
        freshness.bump()
        freshness.months_moved(None)

    print(
        f"{teams} teams, {agreements:,} agreements, {month:%Y-%m} before its "
        f"month end; median and lowest of {args.rounds} requests each."
    )
    print()
    print("| page | median | lowest |")
    print("|---|---:|---:|")
    timed("dashboard, built", reader, "/reports/dashboard/")
    timed(
        "dashboard, built, every month moved",
        reader,
        "/reports/dashboard/",
        before=every_month_moved,
    )
    timed("dashboard, kept", reader, "/reports/dashboard/", before=lambda: None)
    timed("scorecard", reader, f"/reports/agreements/{agreement.pk}/")
    timed("api: agreements, built", reader, "/api/v1/agreements/")
    timed("lead log: form", logger, f"/figures/{team}/leads/new/")
    timed("lead log: list", logger, f"/figures/{team}/leads/")
    timed("health", reader, "/health/live/")


if __name__ == "__main__":
    main()
