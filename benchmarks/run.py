"""Benchmarks: synthetic organisations, timed against plain-SQL floors.

    make bench                                   # SQLite, the default size
    DATABASE_URL=postgres://... make bench
    make bench BENCH_ARGS="--scales 0.2,1,5 --rounds 5 --load --emails"
    make bench BENCH_ARGS="--teams 40 --agreements 200 --months 13 --rounds 2"

Each size lives in its own database (``benchmarks/org.py``) and is measured
in a process of its own (``benchmarks/measure.py``): the SQL floors are
checked row for row against the app, then floor and app are timed in
alternating rounds, then the dashboard. ``--load`` serves the default size
with gunicorn and loads it (``benchmarks/load.py``); ``--emails`` sends its
month end through Celery to an SMTP sink (``benchmarks/emails.py``).
``--import-rows N`` imports a CRM export of N leads (default 100,000; 0
skips it) and reports rows per second (``benchmarks/imports.py``).
``--write FILE`` rewrites the results section of FILE.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from benchmarks import report  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--teams", type=int, default=200, help="At scale 1.")
    parser.add_argument("--agreements", type=int, default=1000, help="At scale 1.")
    parser.add_argument("--objectives", type=int, default=5)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--scales",
        default="1",
        help="Sizes to measure, as multiples of --teams and --agreements.",
    )
    parser.add_argument("--load", action="store_true", help="Serve and load it.")
    parser.add_argument(
        "--load-seconds",
        type=float,
        default=5,
        help="How long each route's phase of load lasts (3 rounds of 3 routes).",
    )
    parser.add_argument(
        "--connections", type=int, default=8, help="Concurrent load connections."
    )
    parser.add_argument("--emails", action="store_true", help="Send its month end.")
    parser.add_argument(
        "--import-rows",
        type=int,
        default=100_000,
        help="Leads in the CRM export imported (0: skip it).",
    )
    parser.add_argument(
        "--write", metavar="FILE", help="Rewrite the results section of FILE."
    )
    args = parser.parse_args()
    scales = sorted(float(s) for s in args.scales.split(","))

    def size(scale: float) -> tuple[int, int]:
        return max(2, round(args.teams * scale)), max(1, round(args.agreements * scale))

    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for scale in scales:
            teams, agreements = size(scale)
            out = Path(tmp) / f"scale-{scale}.json"
            _child(
                "measure.py",
                "--teams", str(teams),
                "--agreements", str(agreements),
                "--objectives", str(args.objectives),
                "--months", str(args.months),
                "--rounds", str(args.rounds),
                "--out", str(out),
            )  # fmt: skip
            results.append({"scale": scale, **json.loads(out.read_text())})
        # Load and emails at the default size, or the one nearest to it.
        base = min(scales, key=lambda s: abs(s - 1))
        teams, agreements = size(base)
        load = emails = None
        if args.load:
            out = Path(tmp) / "load.json"
            _child(
                "load.py",
                "--teams", str(teams),
                "--agreements", str(agreements),
                "--seconds", str(args.load_seconds),
                "--connections", str(args.connections),
                "--out", str(out),
            )  # fmt: skip
            load = json.loads(out.read_text())
        if args.emails:
            out = Path(tmp) / "emails.json"
            _child(
                "emails.py",
                "--teams", str(teams),
                "--agreements", str(agreements),
                "--rounds", str(args.rounds),
                "--out", str(out),
            )  # fmt: skip
            emails = json.loads(out.read_text())
        imports = None
        if args.import_rows:
            out = Path(tmp) / "imports.json"
            print(f"Importing a CRM export of {args.import_rows:,} leads ...")
            _child("imports.py", "--rows", str(args.import_rows), "--out", str(out))
            imports = json.loads(out.read_text())

    lines = report.lines(results, load, emails)
    if imports is not None:
        lines += ["", *_import_lines(imports)]
    print()
    print("\n".join(lines))
    if args.write:
        command = 'make bench BENCH_ARGS="' + " ".join(sys.argv[1:]) + '"'
        if results[0]["engine"] == "postgresql":
            command = "DATABASE_URL=postgres://... " + command
        machine = (
            f"{platform.machine()}, Python {platform.python_version()}, "
            f"{os.cpu_count()} cores, {results[0]['engine']}, "
            f"{time.strftime('%Y-%m-%d')}"
        )
        report.write(Path(args.write), command, machine, lines)
        print(f"\nResults written to {args.write}")


def _import_lines(result: dict) -> list[str]:
    return [
        f"CRM export of {result['rows']:,} leads ({result['megabytes']} MB), "
        f"{result['engine']}:",
        f"  preview (read, check, count by month): {result['preview_seconds']} s, "
        f"{result['preview_rows_per_second']:,} rows/s",
        f"  import (bulk writes with history):     {result['import_seconds']} s, "
        f"{result['import_rows_per_second']:,} rows/s",
    ]


def _child(script: str, *argv: str) -> None:
    """A part of the benchmark in a process of its own; stop on its failure."""
    command = [sys.executable, str(HERE / script), *argv]
    done = subprocess.run(command, check=False)  # noqa: S603 (our own scripts)
    if done.returncode:
        sys.exit(f"benchmarks/{script} failed (exit {done.returncode}).")


if __name__ == "__main__":
    main()
