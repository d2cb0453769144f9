"""Send the reminders, escalations and at-risk alerts due now, by hand.

    python manage.py run_reminders [--dry-run]

The same services as the daily scheduled runs, run in this process. Each
person gets each reminder or alert once: what went out already is skipped.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.utils import timezone

from reports.notifications.jobs import (
    at_risk_alerts_due,
    plan_alerts,
    plan_reminders,
    reminders_due,
)

from ._emails import print_plan, send_with_progress


class Command(BaseCommand):
    help = "Send the reminders, escalations and at-risk alerts due now."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Print who would get what; write and send nothing.",
        )

    def handle(self, *args, dry_run: bool, **options) -> None:
        now = timezone.now()
        if dry_run:
            plan = plan_reminders(now)
            plan.extend(plan_alerts(now))
            print_plan(self, plan)
            return
        ids = reminders_due(now=now, enqueue=False)
        ids += at_risk_alerts_due(now=now, enqueue=False)
        counts = send_with_progress(self, ids)
        self.stdout.write(
            self.style.SUCCESS(
                "Done: " + ", ".join(f"{n} {r.value}" for r, n in counts.items() if n)
                if any(counts.values())
                else "Done: nothing was due."
            )
        )
