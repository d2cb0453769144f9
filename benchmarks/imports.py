"""A CRM's large export through the records import: rows per second for the
preview (read, checked, counted by month) and for the import itself.

A deterministic HubSpot-like contacts export of ``--rows`` leads handed over
over the twelve months to March 2026 is imported, at a moment frozen on 20
March 2026, by a head of the team (the months before March are locked: the
rows come late, with a reason). Run by ``benchmarks/run.py`` in a process
of its own; on SQLite in ``var/benchmark-imports.sqlite3`` (made afresh),
on PostgreSQL in ``<name>_bench_imports`` of ``DATABASE_URL``. Writes its
results as JSON to ``--out``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import os
import random
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import org

NOW = dt.datetime(2026, 3, 20, 12, 0, tzinfo=dt.UTC)
HEADER = (
    "Record ID",
    "First Name",
    "Last Name",
    "Email",
    "Contact owner",
    "Associated Company",
    "Lifecycle Stage",
    "Lead Status",
    "Create Date",
    "Became a Marketing Qualified Lead Date",
    "Last Activity Date",
)
STAGES = ("lead", "marketingqualifiedlead", "salesqualifiedlead", "opportunity")


def hubspot_export(rows: int, seed: int = 7) -> bytes:
    """The same file for the same ``rows`` and ``seed``."""
    pick = random.Random(seed)
    first = dt.datetime(2025, 4, 1, 8, 0)
    span = int((NOW.replace(tzinfo=None) - first).total_seconds() // 60) - 60 * 24
    lines = [",".join(f'"{name}"' for name in HEADER)]
    for n in range(rows):
        created = first + dt.timedelta(minutes=pick.randrange(span))
        stage = pick.choice(STAGES)
        qualified = created + dt.timedelta(hours=3) if stage != "lead" else None
        activity = created + dt.timedelta(hours=pick.randrange(1, 20))
        lines.append(
            ",".join(
                f'"{value}"'
                for value in (
                    100000 + n,
                    f"First{n}",
                    f"Last{n % 997}",
                    f"lead{n}@example.com",
                    f"Owner {n % 23}",
                    f"Company {n % 1499}",
                    stage,
                    pick.choice(("NEW", "OPEN", "IN_PROGRESS")),
                    f"{created:%Y-%m-%d %H:%M}",
                    f"{qualified:%Y-%m-%d %H:%M}" if qualified else "",
                    f"{activity:%Y-%m-%d %H:%M}",
                )
            )
        )
    return ("\n".join(lines) + "\n").encode()


def database_url() -> str:
    base = os.environ.get("DATABASE_URL", "")
    if not base or base.startswith("sqlite"):
        path = org.ROOT / "var" / "benchmark-imports.sqlite3"
        path.parent.mkdir(exist_ok=True)
        path.unlink(missing_ok=True)
        return f"sqlite:///{path}"
    parts = urlsplit(base)
    name = f"{parts.path.lstrip('/') or 'slaportal'}_bench_imports"
    # An empty database for every run, as the SQLite file is: the rows of
    # earlier runs would weigh on this one's writes.
    org._create_postgres_database(base, name, fresh=True)
    return urlunsplit(parts._replace(path=f"/{name}"))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    org.setup_django(database_url())

    import time_machine
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    settings.DEBUG = False
    call_command("migrate", verbosity=0)
    with time_machine.travel(NOW, tick=True):
        result = _measure(args.rows)
    result["engine"] = connection.vendor
    Path(args.out).write_text(json.dumps(result))


def _measure(rows: int) -> dict[str, float | int]:
    from django.contrib.auth import get_user_model

    from agreements.models import Membership, Team
    from agreements.records.background import file_batch, read_file
    from agreements.records.csv_import import (
        ColumnMapping,
        records_import_csv,
        records_preview_csv,
    )
    from agreements.records.lead_csv import (
        guess_lead_mapping,
        handed_over_month,
        lead_months,
    )
    from agreements.records.models import Lead, RecordSource

    stamp = f"{time.time_ns()}"
    team = Team.objects.create(name=f"Marketing {stamp}", slug=f"marketing-{stamp}")
    head = get_user_model().objects.create(username=f"head-{stamp}")
    Membership.objects.create(user=head, team=team, role=Membership.Role.HEAD)
    source = RecordSource.objects.create(
        team=team, name="HubSpot", kind=RecordSource.Kind.LEADS
    )
    raw = hubspot_export(rows)
    reason = "a year of the CRM's leads, imported at once"
    print(f"  {rows:,} leads, {len(raw) / 1e6:.1f} MB", flush=True)

    gc.collect()
    started = time.perf_counter()
    table = read_file(source, raw)
    assert not isinstance(table, list), table
    mapping = guess_lead_mapping(table, ColumnMapping.saved(source))
    batch = file_batch(table, source, mapping)
    assert not batch.errors, batch.errors[:3]
    checked = records_preview_csv(
        source=source,
        batch=batch,
        mapping=mapping,
        user=head,
        reason=reason,
        group=handed_over_month,
    )
    assert checked.report is not None, checked.errors[:3]
    months = lead_months(
        batch, source=source, user=head, reason=reason, reports=checked.groups
    )
    preview = time.perf_counter() - started
    print(f"  preview: {preview:.1f} s ({len(months)} months)", flush=True)

    gc.collect()
    started = time.perf_counter()
    table = read_file(source, raw)
    assert not isinstance(table, list)
    batch = file_batch(table, source, mapping)
    outcome = records_import_csv(
        source=source, batch=batch, mapping=mapping, user=head, reason=reason
    )
    imported = time.perf_counter() - started
    assert outcome.written and outcome.report is not None
    assert Lead.objects.filter(source=source).count() == rows
    print(f"  import: {imported:.1f} s", flush=True)
    return {
        "rows": rows,
        "megabytes": round(len(raw) / 1e6, 1),
        "preview_seconds": round(preview, 2),
        "import_seconds": round(imported, 2),
        "preview_rows_per_second": round(rows / preview),
        "import_rows_per_second": round(rows / imported),
        "created": outcome.report.created,
        "history_rows": Lead.history.filter(external_id__in=["100000"]).count(),
    }


if __name__ == "__main__":
    main()
