"""Finalise a month and send its scorecards and digest, by hand.

    python manage.py send_scorecards --month 2026-03 [--dry-run] [--resend]

The same services as the scheduled month close. With a broker configured
(REDIS_URL) the emails go to the Celery workers in batches and the command
follows the ledger until they are out; without one (the demo), or with
--in-process, they are sent from this process (in the demo they appear under
var/mail/). Whoever already got the month's email does not get it again,
unless --resend is given.
"""

from __future__ import annotations

from celery import current_app
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from agreements import periods
from reports.notifications.jobs import (
    MONTH_END_KINDS,
    computed_briefs,
    held_month_end,
    month_close,
    pending_month_end,
)
from reports.notifications.ledger import deliveries_resend
from reports.notifications.recipients import plan_month_emails

from ._emails import print_plan, send_through_workers, send_with_progress


class Command(BaseCommand):
    help = "Finalise a locked month and email its scorecards and the digest."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--month", required=True, help="The month, as YYYY-MM.")
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Print who would get what; write and send nothing.",
        )
        parser.add_argument(
            "--resend",
            action="store_true",
            help="Send again the emails of the month that were already sent.",
        )
        parser.add_argument(
            "--in-process",
            action="store_true",
            help="Send from this process even when workers are configured.",
        )
        parser.add_argument(
            "--patience",
            type=float,
            default=600.0,
            help="Seconds to wait for the workers to make progress (default 600).",
        )

    def handle(
        self,
        *args,
        month: str,
        dry_run: bool,
        resend: bool,
        in_process: bool,
        patience: float,
        **options,
    ):
        try:
            month_ = periods.parse_month(month)
        except ValidationError as exc:
            raise CommandError(exc.messages[0]) from exc
        now = timezone.now()
        if not periods.is_locked(month_, now):
            deadline = timezone.localtime(periods.deadline(month_))
            raise CommandError(
                f"{periods.month_label(month_)} is not locked yet: figures can be "
                f"entered until {deadline:%d %b %Y %H:%M}."
            )
        label = periods.month_label(month_)
        if dry_run:
            self.stdout.write(f"Emails for {label}:")
            print_plan(
                self, plan_month_emails(month_, computed_briefs(month_, now=now))
            )
            return

        report = month_close(month=month_, now=now, enqueue=False)
        finalised = report.finalised
        self.stdout.write(
            f"{label} finalised: {finalised.created} scorecard(s) created, "
            f"{finalised.updated} updated, "
            f"{finalised.breaches_opened} breach(es) opened."
        )
        if resend:
            again = deliveries_resend(month=month_, kinds=MONTH_END_KINDS)
            self.stdout.write(f"{len(again)} email(s) already sent will be sent again.")
        pending = pending_month_end(month_, now=now)
        held = held_month_end(month_, now=now)
        if held:
            self.stdout.write(
                f"{held} email(s) wait for their readers' working hours; "
                "they go when those start."
            )
        if in_process or current_app.conf.task_always_eager:
            counts = send_with_progress(self, pending)
        else:
            counts = send_through_workers(self, pending, patience=patience)
        self.stdout.write(
            self.style.SUCCESS(
                "Done: " + ", ".join(f"{n} {r.value}" for r, n in counts.items() if n)
                if any(counts.values())
                else "Done: every email of the month had been sent already."
            )
        )
