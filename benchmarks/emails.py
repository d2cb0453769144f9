"""Month-end emails against a raw SMTP sink, on PostgreSQL.

(a) raw: one real scorecard email, rendered by the app, sent again and again
over one smtplib connection; (b) the month end of the benchmark organisation,
``month_close`` with Celery workers on Redis, timed until the ledger says
every month-end delivery is sent, failed or skipped. (a) and (b) alternate
for ``--rounds`` rounds, so that whatever else the machine does weighs on
both; the ratio is the median of the rounds' ratios. The sink
(``benchmarks/sink.py``) runs in a process of its own. Run by
``benchmarks/run.py``; writes JSON to ``--out``.

``--in-process`` sends (b) in this one process instead, batch after batch
as a worker would, and prints the CPU time this process spends per email
(the app's own cost, without Celery, Redis or the sink); the month is left
as it was.
"""

from __future__ import annotations

import argparse
import json
import os
import smtplib
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import org
from benchmarks.load import production_env

HERE = Path(__file__).resolve().parent
WORKERS = 2
REDIS_DB = 13  # the benchmark's own: never the default 0
RAW_RCPT = "raw@sink.invalid"
MONTH_END_TIMEOUT = 600  # seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--teams", type=int, required=True)
    parser.add_argument("--agreements", type=int, required=True)
    parser.add_argument("--raw", type=int, default=500, help="Raw emails to send.")
    parser.add_argument("--out", required=True)
    parser.add_argument(
        "--rounds", type=int, default=3, help="Alternating rounds of (a) and (b)."
    )
    parser.add_argument(
        "--in-process", action="store_true", help="Send (b) in this process."
    )
    args = parser.parse_args()
    out = Path(args.out)

    url = org.database_url(args.teams, args.agreements)
    if url.startswith("sqlite"):
        why = (
            "the month end needs PostgreSQL (Celery worker processes cannot "
            "share a SQLite database safely); set DATABASE_URL to run it."
        )
        print(f"Emails skipped: {why}")
        out.write_text(json.dumps({"skipped": why}))
        return

    port = _free_port()
    queue = f"bench-{uuid.uuid4().hex[:12]}"  # private: no one else's tasks
    # As production runs its workers (DEBUG off: no query log, no debug
    # cursor), sending to the sink.
    os.environ.update(
        {
            **production_env(url),
            "REDIS_URL": f"redis://127.0.0.1:6379/{REDIS_DB}",
            "SLA_TASK_QUEUE": queue,
            "EMAIL_URL": f"smtp://127.0.0.1:{port}",
        }
    )
    org.setup_django(url)
    from django.db import transaction

    from agreements import periods
    from reports.models import Delivery
    from reports.notifications.jobs import month_close
    from reports.notifications.render import Composer
    from slaportal.celery import app

    month = periods.previous_month(periods.current_month())
    if not periods.is_locked(month):
        month = periods.previous_month(month)
    log = out.with_suffix(".sink.jsonl")
    log.write_text("")
    sink = worker = None
    try:
        sink = subprocess.Popen(  # noqa: S603 (our own script)
            [sys.executable, str(HERE / "sink.py"), str(port), str(log)],
            stdout=subprocess.PIPE,
            text=True,
        )
        if sink.stdout.readline().strip() != "ready":
            raise SystemExit("The SMTP sink did not start.")

        # (a) One real scorecard email, from a month end that is rolled back.
        org.reset_month(month)
        with transaction.atomic():
            month_close(month=month, enqueue=False)
            delivery = (
                Delivery.objects.filter(month=month, kind=Delivery.Kind.SCORECARD)
                .select_related("recipient")
                .first()
            )
            message = Composer().message(delivery).message()
            raw_bytes = message.as_bytes(linesep="\r\n")  # as Django sends it
            transaction.set_rollback(True)
        if args.in_process:
            raw = _raw_loop(port, raw_bytes, args.raw)
            print(f"Raw smtplib: {raw['rate']:.1f} emails/s", flush=True)
            org.reset_month(month)
            result = _in_process(month)
            out.write_text(json.dumps(result, indent=1))
            print(
                f"In one process: {result['sent']} of {result['emails']} emails "
                f"sent, {result['cpu_ms']:.1f} ms of CPU and "
                f"{result['wall_ms']:.1f} ms per email",
                flush=True,
            )
            return
        worker_name = f"{queue}@bench"
        worker = subprocess.Popen(  # noqa: S603 (our own command line)
            [
                sys.executable, "-m", "celery", "--quiet", "-A", "slaportal", "worker",
                "-c", str(WORKERS), "-Q", queue, "-n", worker_name,
                "--without-gossip", "--without-mingle", "-l", "WARNING",
            ],
            cwd=org.ROOT,
            env=os.environ.copy(),
        )  # fmt: skip
        _wait_for_worker(app, worker_name, worker)
        rounds = []
        for n in range(1, args.rounds + 1):
            raw = _raw_loop(port, raw_bytes, args.raw)
            # (b) The month end, from a month with no scorecards and no emails.
            org.reset_month(month)
            month_end = _month_end(month, worker, log)
            ratio = month_end["rate"] / raw["rate"]
            rounds.append({"raw": raw, "month_end": month_end, "ratio": ratio})
            print(
                f"  round {n}/{args.rounds}: raw smtplib {raw['rate']:.1f} emails/s, "
                f"month end {month_end['rate']:.1f} emails/s = {ratio:.2f}× raw, "
                f"{month_end['seconds']:.1f} s in all",
                flush=True,
            )
    finally:
        for process in (worker, sink):
            org.stop(process)
        org.reset_month(month)
        log.unlink(missing_ok=True)

    out.write_text(json.dumps(_summary(args, rounds), indent=1))


def _month_end(month, worker: subprocess.Popen, log: Path) -> dict:
    """One month end through the workers, timed until the ledger says every
    delivery is done; what the sink received of it, from the log's end on."""
    from reports.models import Delivery
    from reports.notifications.jobs import MONTH_END_KINDS, month_close

    logged_before = log.stat().st_size
    started = time.perf_counter()
    month_close(month=month)
    closed = time.perf_counter()
    pending = Delivery.objects.filter(month=month, kind__in=MONTH_END_KINDS)
    done = (Delivery.Status.SENT, Delivery.Status.FAILED, Delivery.Status.SKIPPED)
    while pending.exclude(status__in=done).exists():
        if time.perf_counter() - started > MONTH_END_TIMEOUT:
            raise SystemExit("The month end did not finish in 10 minutes.")
        if worker.poll() is not None:
            raise SystemExit(f"The Celery worker exited ({worker.returncode}).")
        time.sleep(0.1)
    finished = time.perf_counter()
    counts = {
        status: pending.filter(status=status).count()
        for status in Delivery.Status.values
    }
    time.sleep(1)  # the sink writes each message after it answers
    with log.open("rb") as file:
        file.seek(logged_before)
        logged = [json.loads(line) for line in file.read().splitlines()]
    received = [m for m in logged if m["rcpt"] != RAW_RCPT]
    sent = counts[Delivery.Status.SENT]
    return {
        "seconds": finished - started,
        "close_seconds": closed - started,
        "rate": sent / (finished - closed) if finished > closed else 0,
        "sent": sent,
        "failed": counts[Delivery.Status.FAILED],
        "skipped": counts[Delivery.Status.SKIPPED],
        "received": len(received),
        "distinct": len({(r["rcpt"], r["id"]) for r in received}),
        "html_sizes": [r["html"] for r in received],
    }


def _summary(args, rounds: list[dict]) -> dict:
    """Medians of the rounds' rates, times and ratios; every round's counts
    and sizes added up (each round sends the month end anew)."""
    ends = [r["month_end"] for r in rounds]
    sizes = sorted(size for end in ends for size in end["html_sizes"]) or [0]
    ratios = [r["ratio"] for r in rounds]
    return {
        "teams": args.teams,
        "agreements": args.agreements,
        "workers": WORKERS,
        "rounds": len(rounds),
        "ratio": statistics.median(ratios),
        "ratio_range": [min(ratios), max(ratios)],
        "raw": {
            "count": args.raw,
            "bytes": rounds[0]["raw"]["bytes"],
            "rate": statistics.median(r["raw"]["rate"] for r in rounds),
        },
        "month_end": {
            "seconds": statistics.median(e["seconds"] for e in ends),
            "close_seconds": statistics.median(e["close_seconds"] for e in ends),
            "rate": statistics.median(e["rate"] for e in ends),
            **{
                key: sum(e[key] for e in ends)
                for key in ("sent", "failed", "skipped", "received", "distinct")
            },
            "html_sizes": [sizes[0], statistics.median(sizes), sizes[-1]],
        },
    }


def _in_process(month) -> dict:
    """The month end's emails sent by this process in batches of
    ``SLA_EMAIL_BATCH_SIZE``, as one worker sends them; rolled back."""
    from django.conf import settings
    from django.db import connection, transaction
    from django.utils import timezone

    from reports.models import Delivery
    from reports.notifications.jobs import (
        CLOSED_TABLES,
        month_close,
        pending_month_end,
    )
    from reports.notifications.ledger import deliveries_send_batch

    size = max(1, int(settings.SLA_EMAIL_BATCH_SIZE))
    with transaction.atomic():
        month_close(month=month, enqueue=False)
        if connection.vendor == "postgresql":  # as after the close's commit
            tables = [m._meta.db_table for m in (*CLOSED_TABLES, Delivery)]
            with connection.cursor() as cursor:
                names = ", ".join(connection.ops.quote_name(t) for t in tables)
                cursor.execute(f"ANALYZE {names}")
        ids = pending_month_end(month, now=timezone.now())
        wall, cpu = time.perf_counter(), time.process_time()
        for n in range(0, len(ids), size):
            deliveries_send_batch(ids[n : n + size])
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        sent = Delivery.objects.filter(pk__in=ids, status=Delivery.Status.SENT)
        result = {
            "emails": len(ids),
            "sent": sent.count(),
            "batch": size,
            "cpu_ms": cpu * 1000 / max(len(ids), 1),
            "wall_ms": wall * 1000 / max(len(ids), 1),
        }
        transaction.set_rollback(True)
    return result


def _raw_loop(port: int, message: bytes, count: int) -> dict:
    with smtplib.SMTP("127.0.0.1", port) as smtp:
        smtp.sendmail("sla@localhost", [RAW_RCPT], message)  # warm up
        started = time.perf_counter()
        for _ in range(count):
            smtp.sendmail("sla@localhost", [RAW_RCPT], message)
        seconds = time.perf_counter() - started
    return {"count": count, "bytes": len(message), "rate": count / seconds}


def _wait_for_worker(app, name: str, worker: subprocess.Popen) -> None:
    for _ in range(120):
        if worker.poll() is not None:
            raise SystemExit(f"The Celery worker exited ({worker.returncode}).")
        if app.control.ping(destination=[name], timeout=0.5):
            return
    raise SystemExit("The Celery worker did not answer within a minute.")


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


if __name__ == "__main__":
    main()
