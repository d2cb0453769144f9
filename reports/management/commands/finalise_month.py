"""Finalise one month's scorecards by hand: ``finalise_month --month 2026-01``.

Runs the same service as the scheduled job; running it twice changes nothing.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from agreements import periods
from reports.services import scorecards_finalise


class Command(BaseCommand):
    help = "Store the month's scorecards and open a breach for each missed objective."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--month", required=True, help="The month to finalise, as YYYY-MM."
        )
        parser.add_argument(
            "--reason",
            default="",
            help="Kept in the history of every scorecard this run changes.",
        )

    def handle(self, *args, month: str, reason: str, **options) -> None:
        try:
            first_day = periods.parse_month(month)
            report = scorecards_finalise(month=first_day, reason=reason)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        label = periods.month_label(report.month)
        self.stdout.write(
            f"{label}: {report.created} created, {report.updated} updated, "
            f"{report.unchanged} unchanged."
        )
        self.stdout.write(
            f"Breaches: {report.breaches_opened} opened, "
            f"{report.breaches_cleared} cleared by corrections."
        )
        self.stdout.write(self.style.SUCCESS(f"{label} is finalised."))
